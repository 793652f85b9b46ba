// Webhook subscriptions over GraphQL, for admins: the subscriptions with their delivery health,
// a subscription's delivery log, and the create/change/revoke mutations (the same commands as
// REST). A created subscription's secret is in the mutation's answer only.
import { Inject } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Args, Context, Field, GraphQLISODateTime, ID, Int, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import { UUID_RE } from '../../ledger/schema.js';
import { ChangeWebhookSubscription, CreateWebhookSubscription, RevokeWebhookSubscription, type CreatedSubscription } from '../../notifications/commands/subscription-commands.js';
import { NOTIFIABLE_EVENT_TYPES, type MinSeverity, type NotifiableEventType } from '../../notifications/events.js';
import { effectiveAllowList, NOTIFICATIONS_CONFIG, type NotificationsConfig } from '../../notifications/notifications.config.js';
import { urlProblems, type SubscriptionSpec } from '../../notifications/decisions.js';
import type { CommandContext, CommandReceipt } from '../../ledger/decide-and-append.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { Roles } from '../auth/decorators.js';
import { actorOf, principalOf } from '../auth/principal.js';
import { correlationIdOf } from '../http/request-context.js';
import { listDeliveries, listSubscriptions } from '../http/webhooks.queries.js';
import { badInput, checkFirst, Connection } from './pagination.js';

@ObjectType('WebhookSubscription', { description: 'Where events are delivered, which ones, and how delivery is going' })
class WebhookSubscriptionType {
  @Field(() => ID) subscriptionId!: string;
  @Field() url!: string;
  @Field(() => [String]) eventTypes!: string[];
  @Field(() => String, { nullable: true, description: 'ComplianceFlagRaised only at least this severe; null = all' }) minSeverity!: string | null;
  @Field() description!: string;
  @Field({ description: 'First 16 hex digits of sha256(secret)' }) secretFingerprint!: string;
  @Field({ description: 'active, failing (a dead-lettered delivery is being retried) or revoked' }) status!: string;
  @Field() createdBy!: string;
  @Field(() => GraphQLISODateTime) createdAt!: string;
  @Field(() => GraphQLISODateTime, { nullable: true }) changedAt!: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) revokedAt!: string | null;
  @Field(() => String, { nullable: true }) revokedBy!: string | null;
  @Field({ description: 'Events delivered (decimal string)' }) delivered!: string;
  @Field() failedAttempts!: string;
  @Field() deadLettered!: string;
  @Field(() => GraphQLISODateTime, { nullable: true }) lastAttemptAt!: string | null;
  @Field(() => GraphQLISODateTime, { nullable: true }) lastDeliveredAt!: string | null;
  @Field(() => String, { nullable: true }) lastError!: string | null;
}

@ObjectType('WebhookDelivery', { description: 'One delivery attempt' })
class WebhookDeliveryType {
  @Field({ description: 'Position of the attempt record in the log' }) position!: string;
  @Field(() => ID) subscriptionId!: string;
  @Field(() => ID, { description: 'The delivered event (the receiver’s idempotency key)' }) eventId!: string;
  @Field() eventType!: string;
  @Field() eventPosition!: string;
  @Field(() => Int) attempt!: number;
  @Field({ description: 'delivered, failed or dead_lettered' }) outcome!: string;
  @Field(() => Int, { nullable: true }) httpStatus!: number | null;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => Int) durationMs!: number;
  @Field(() => GraphQLISODateTime) attemptedAt!: string;
  @Field(() => GraphQLISODateTime, { nullable: true }) nextAttemptAt!: string | null;
}
const WebhookDeliveryConnection = Connection(WebhookDeliveryType, 'WebhookDelivery');

@ObjectType('WebhookCommandReceipt', { description: 'The event a webhook command recorded' })
class WebhookReceiptType {
  @Field(() => ID) eventId!: string;
  @Field() type!: string;
  @Field() streamId!: string;
  @Field() revision!: string;
  @Field() position!: string;
  @Field() recordedAt!: string;
  @Field() actor!: string;
}

@ObjectType('CreatedWebhookSubscription')
class CreatedWebhookSubscriptionType {
  @Field(() => ID) subscriptionId!: string;
  @Field({ description: 'HMAC-SHA256 key of X-Arbiter-Signature: shown here only' }) secret!: string;
  @Field(() => WebhookReceiptType) event!: CommandReceipt;
}

type GqlContext = { req?: object; reply?: { request?: object } };

@Resolver()
@Roles('admin')
export class WebhooksResolver {
  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig,
    private readonly bus: CommandBus,
  ) {}

  private async ctx(gql: GqlContext): Promise<CommandContext> {
    const req = gql.req ?? gql.reply?.request;
    const principal = req ? await principalOf(this.sql, req) : null;
    if (!req || !principal) throw badInput('missing API key'); // the guard ran; defensive
    return { actor: actorOf(principal), correlationId: correlationIdOf(req) };
  }

  private check(spec: Partial<SubscriptionSpec>): void {
    const problems: string[] = [];
    if (spec.url !== undefined) {
      const allow = effectiveAllowList(this.config);
      if ('refused' in allow) problems.push(allow.refused);
      else problems.push(...urlProblems(spec.url, allow.hosts));
    }
    if (spec.eventTypes !== undefined) {
      if (!spec.eventTypes.length) problems.push('eventTypes must list at least one event type');
      for (const t of spec.eventTypes) if (!(NOTIFIABLE_EVENT_TYPES as readonly string[]).includes(t)) problems.push(`eventTypes: "${t}" is not deliverable; use ${NOTIFIABLE_EVENT_TYPES.join(', ')}`);
      if (new Set(spec.eventTypes).size !== spec.eventTypes.length) problems.push('eventTypes must not list a type twice');
    }
    if (spec.description !== undefined && spec.description.length > 500) problems.push('description must have at most 500 characters');
    if (problems.length) throw badInput(problems.join('; '));
  }

  private static severity(v: string | null | undefined): MinSeverity | null | undefined {
    if (v === undefined || v === null) return v;
    if (v === 'any') return null;
    if (v !== 'advisory' && v !== 'blocking') throw badInput(`minSeverity must be any, advisory or blocking (got "${v}")`);
    return v;
  }

  private static id(raw: string): string {
    const id = raw.toLowerCase();
    if (!UUID_RE.test(id)) throw badInput(`subscriptionId "${raw.slice(0, 100)}" is not a UUID`);
    return id;
  }

  @Query(() => [WebhookSubscriptionType], { description: 'Webhook subscriptions, newest first (admin)' })
  webhookSubscriptions(@Args('status', { type: () => String, nullable: true }) status?: string | null) {
    if (status && !['active', 'failing', 'revoked'].includes(status)) throw badInput('status must be active, failing or revoked');
    return listSubscriptions(this.sql, { status: status ?? null });
  }

  @Query(() => WebhookDeliveryConnection, { description: "A subscription's delivery attempts in order (admin)" })
  async webhookDeliveries(
    @Args('subscriptionId', { type: () => ID }) subscriptionId: string,
    @Args('outcome', { type: () => String, nullable: true }) outcome?: string | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true, description: 'nextCursor of the previous page' }) after?: string | null,
  ) {
    const n = checkFirst(first);
    if (outcome && !['delivered', 'failed', 'dead_lettered'].includes(outcome)) throw badInput('outcome must be delivered, failed or dead_lettered');
    if (after && !/^\d{1,19}$/.test(after)) throw badInput('after must be the nextCursor of the previous page');
    const items = await listDeliveries(this.sql, { subscriptionId: WebhooksResolver.id(subscriptionId), outcome: outcome ?? null, after: after ?? null, limit: n });
    return { items, nextCursor: items.length === n ? items[items.length - 1].position : null };
  }

  @Mutation(() => CreatedWebhookSubscriptionType, { description: 'Subscribe a URL to event types (admin)' })
  async createWebhookSubscription(
    @Context() gql: GqlContext,
    @Args('url') url: string,
    @Args('eventTypes', { type: () => [String] }) eventTypes: string[],
    @Args('minSeverity', { type: () => String, nullable: true }) minSeverity?: string | null,
    @Args('description', { type: () => String, nullable: true }) description?: string | null,
  ) {
    const spec: SubscriptionSpec = { url, eventTypes: eventTypes as NotifiableEventType[], minSeverity: WebhooksResolver.severity(minSeverity) ?? null, description: description?.trim() ?? '' };
    this.check(spec);
    const created = await this.bus.execute<CreateWebhookSubscription, CreatedSubscription>(new CreateWebhookSubscription(await this.ctx(gql), spec));
    return created;
  }

  @Mutation(() => WebhookReceiptType, { description: 'Change the URL, event types, minimum severity or description (admin)' })
  async changeWebhookSubscription(
    @Context() gql: GqlContext,
    @Args('subscriptionId', { type: () => ID }) subscriptionId: string,
    @Args('reason') reason: string,
    @Args('url', { type: () => String, nullable: true }) url?: string | null,
    @Args('eventTypes', { type: () => [String], nullable: true }) eventTypes?: string[] | null,
    @Args('minSeverity', { type: () => String, nullable: true }) minSeverity?: string | null,
    @Args('description', { type: () => String, nullable: true }) description?: string | null,
  ): Promise<CommandReceipt> {
    if (!reason.trim()) throw badInput('reason must not be blank');
    const patch: Partial<SubscriptionSpec> = {
      ...(url != null ? { url } : {}),
      ...(eventTypes != null ? { eventTypes: eventTypes as NotifiableEventType[] } : {}),
      ...(minSeverity != null ? { minSeverity: WebhooksResolver.severity(minSeverity) ?? null } : {}),
      ...(description != null ? { description: description.trim() } : {}),
    };
    this.check(patch);
    return this.bus.execute(new ChangeWebhookSubscription(await this.ctx(gql), WebhooksResolver.id(subscriptionId), patch, reason.trim().slice(0, 2000)));
  }

  @Mutation(() => WebhookReceiptType, { description: 'Stop delivering to a subscription (admin)' })
  async revokeWebhookSubscription(
    @Context() gql: GqlContext,
    @Args('subscriptionId', { type: () => ID }) subscriptionId: string,
    @Args('reason', { type: () => String, nullable: true }) reason?: string | null,
  ): Promise<CommandReceipt> {
    return this.bus.execute(new RevokeWebhookSubscription(await this.ctx(gql), WebhooksResolver.id(subscriptionId), reason?.trim().slice(0, 2000) || 'revoked'));
  }
}
