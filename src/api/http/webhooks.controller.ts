// Webhook subscriptions over REST, for admins: create one (its signing secret is in this
// response only), list and read them with their delivery health, change or revoke one, and read
// a subscription's delivery log (every attempt: outcome, HTTP status, error). Commands go to the
// notifications context; reads come from the `webhooks` read model (projections/webhook-deliveries.ts).
import { Controller, Delete, Get, HttpCode, Inject, NotFoundException, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import { UUID_RE } from '../../ledger/schema.js';
import { ChangeWebhookSubscription, CreateWebhookSubscription, RevokeWebhookSubscription, type CreatedSubscription } from '../../notifications/commands/subscription-commands.js';
import type { MinSeverity, NotifiableEventType } from '../../notifications/events.js';
import { effectiveAllowList, NOTIFICATIONS_CONFIG, type NotificationsConfig } from '../../notifications/notifications.config.js';
import { urlProblems, type SubscriptionSpec } from '../../notifications/decisions.js';
import type { CommandReceipt } from '../../ledger/decide-and-append.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { Roles } from '../auth/decorators.js';
import { InvalidBodyException, readBody, RevokeKeyBody, WebhookSubscriptionBody, WebhookSubscriptionChangeBody } from './body-schema.js';
import { IdempotencyService } from './idempotency.js';
import { COMMAND_ERRORS, Doc } from './openapi.js';
import { listDeliveries, listSubscriptions, type WebhookDeliveryRow, type WebhookSubscriptionRow } from './webhooks.queries.js';

const ID_PARAM = { name: 'id', description: 'Subscription id (UUID)', schema: { type: 'string' } };

interface SubscriptionBody {
  url: string;
  eventTypes: NotifiableEventType[];
  minSeverity?: MinSeverity | 'any';
  description?: string;
}

export interface CreatedSubscriptionResponse {
  subscriptionId: string;
  /** HMAC-SHA256 key of the X-Arbiter-Signature header: shown once. null in a replayed response. */
  secret: string | null;
  url: string;
  eventTypes: NotifiableEventType[];
  minSeverity: MinSeverity | null;
  description: string;
  event: CommandReceipt;
}

@Controller('webhooks/subscriptions')
@Roles('admin')
export class WebhooksController {
  constructor(
    private readonly bus: CommandBus,
    private readonly idempotency: IdempotencyService,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig,
  ) {}

  /** URL checks the body schema cannot express: scheme, credentials, the host allow-list. */
  private checkUrl(url: string | undefined): void {
    if (url === undefined) return;
    const allow = effectiveAllowList(this.config);
    if ('refused' in allow) throw new InvalidBodyException([allow.refused]);
    const problems = urlProblems(url, allow.hosts);
    if (problems.length) throw new InvalidBodyException(problems);
  }

  private id(raw: string): string {
    const id = raw.toLowerCase();
    if (!UUID_RE.test(id)) throw new NotFoundException(`there is no webhook subscription "${raw.slice(0, 100)}" (ids are UUIDs)`);
    return id;
  }

  @Doc({
    tag: 'webhooks', summary: 'Subscribe a URL to event types',
    description: 'Records WebhookSubscriptionCreated. The signing secret is in this response only (a replay under the same Idempotency-Key answers with secret: null). Deliveries start with the events after the subscription; each POST is signed (README: Notifications). 400 names every problem, including a URL that is not http(s) or whose host is not in WEBHOOK_ALLOWED_HOSTS.',
    body: WebhookSubscriptionBody, success: { status: 201, description: 'The new subscription and its secret', schema: 'CreatedWebhookSubscription' }, errors: COMMAND_ERRORS, idempotent: true,
  })
  @Post()
  @HttpCode(201)
  create(@Req() req: FastifyRequest): Promise<CreatedSubscriptionResponse> {
    const body = readBody(req, WebhookSubscriptionBody);
    this.checkUrl(body.url);
    const spec: SubscriptionSpec = {
      url: body.url,
      eventTypes: body.eventTypes,
      minSeverity: !body.minSeverity || body.minSeverity === 'any' ? null : body.minSeverity,
      description: body.description?.trim() ?? '',
    };
    return this.idempotency.run(
      req,
      { route: 'POST /webhooks/subscriptions', body, successStatus: 201, recordAs: (r: CreatedSubscriptionResponse) => ({ ...r, secret: null }) },
      async (ctx) => {
        const created = await this.bus.execute<CreateWebhookSubscription, CreatedSubscription>(new CreateWebhookSubscription(ctx, spec));
        return { subscriptionId: created.subscriptionId, secret: created.secret, ...spec, event: created.event };
      },
    );
  }

  @Doc({ tag: 'webhooks', summary: 'List webhook subscriptions with their delivery health', success: { status: 200, description: 'Subscriptions', schema: 'WebhookSubscriptionList' }, errors: [401, 403] })
  @Get()
  async list(): Promise<{ subscriptions: WebhookSubscriptionRow[] }> {
    return { subscriptions: await listSubscriptions(this.sql, {}) };
  }

  @Doc({
    tag: 'webhooks', summary: 'One webhook subscription',
    params: [ID_PARAM],
    success: { status: 200, description: 'The subscription', schema: 'WebhookSubscription' }, errors: [401, 403, 404],
  })
  @Get(':id')
  async get(@Param('id') raw: string): Promise<WebhookSubscriptionRow> {
    const [row] = await listSubscriptions(this.sql, { subscriptionId: this.id(raw) });
    if (!row) throw new NotFoundException(`there is no webhook subscription ${raw} (or the read model has not caught up yet)`);
    return row;
  }

  @Doc({
    tag: 'webhooks', summary: 'The delivery log of a subscription',
    description: 'Every attempt in order: event, attempt number, outcome (delivered, failed, dead_lettered), HTTP status, error, duration. Query: outcome, after (nextAfter of the previous page), limit (1–1000, default 100).',
    params: [ID_PARAM],
    success: { status: 200, description: 'Attempts', schema: 'WebhookDeliveryList' }, errors: [400, 401, 403, 404],
  })
  @Get(':id/deliveries')
  async deliveries(
    @Param('id') raw: string,
    @Query('outcome') outcome?: string,
    @Query('after') after?: string,
    @Query('limit') limit?: string,
  ): Promise<{ deliveries: WebhookDeliveryRow[]; nextAfter: string | null }> {
    const problems: string[] = [];
    if (outcome !== undefined && !['delivered', 'failed', 'dead_lettered'].includes(outcome)) problems.push('outcome must be one of delivered, failed, dead_lettered');
    if (after !== undefined && !/^\d{1,19}$/.test(after)) problems.push('after must be a position (an integer ≥ 0), e.g. the nextAfter of the previous page');
    const n = limit === undefined ? 100 : /^\d+$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= 1000)) problems.push('limit must be an integer between 1 and 1000');
    if (problems.length) throw new InvalidBodyException(problems);
    const deliveries = await listDeliveries(this.sql, { subscriptionId: this.id(raw), outcome: outcome ?? null, after: after ?? null, limit: n });
    return { deliveries, nextAfter: deliveries.length === n ? deliveries[deliveries.length - 1].position : null };
  }

  @Doc({
    tag: 'webhooks', summary: 'Change a webhook subscription',
    description: 'Records WebhookSubscriptionChanged: URL, event types, minimum severity or description (fields left out stay). 404 unknown, 409 revoked.',
    params: [ID_PARAM],
    body: WebhookSubscriptionChangeBody, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: [...COMMAND_ERRORS, 404], idempotent: true,
  })
  @Patch(':id')
  @HttpCode(200)
  change(@Req() req: FastifyRequest, @Param('id') raw: string): Promise<CommandReceipt> {
    const body = readBody(req, WebhookSubscriptionChangeBody);
    const id = this.id(raw);
    this.checkUrl(body.url);
    const patch: Partial<SubscriptionSpec> = {
      ...(body.url !== undefined ? { url: body.url } : {}),
      ...(body.eventTypes !== undefined ? { eventTypes: body.eventTypes } : {}),
      ...(body.minSeverity !== undefined ? { minSeverity: body.minSeverity === 'any' ? null : body.minSeverity } : {}),
      ...(body.description !== undefined ? { description: body.description.trim() } : {}),
    };
    return this.idempotency.run(req, { route: 'PATCH /webhooks/subscriptions/:id', params: { id }, body, successStatus: 200 }, (ctx) =>
      this.bus.execute(new ChangeWebhookSubscription(ctx, id, patch, body.reason.trim())),
    );
  }

  @Doc({
    tag: 'webhooks', summary: 'Revoke a webhook subscription',
    description: 'Records WebhookSubscriptionRevoked; delivery stops. The body (optional) may give a reason. 404 unknown, 409 already revoked.',
    params: [ID_PARAM],
    body: RevokeKeyBody, bodyOptional: true, success: { status: 200, description: 'The recorded event', schema: 'CommandReceipt' }, errors: [...COMMAND_ERRORS, 404], idempotent: true,
  })
  @Delete(':id')
  @HttpCode(200)
  revoke(@Req() req: FastifyRequest, @Param('id') raw: string): Promise<CommandReceipt> {
    const body = readBody(req, RevokeKeyBody, { optional: true });
    const id = this.id(raw);
    return this.idempotency.run(req, { route: 'DELETE /webhooks/subscriptions/:id', params: { id }, body, successStatus: 200 }, (ctx) =>
      this.bus.execute(new RevokeWebhookSubscription(ctx, id, body.reason?.trim() || 'revoked')),
    );
  }
}
