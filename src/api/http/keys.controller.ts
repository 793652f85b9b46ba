// API keys, for admins: issue one (the key is shown in this response only), list them (never a
// hash), revoke one. Issuing and revoking are recorded as events with the actor; an issued key
// works only once its ApiKeyIssued event is in the log (issueRecordedApiKey).
import { Controller, Delete, Get, HttpCode, Inject, Logger, NotFoundException, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { newEvent } from '../../ledger/event-types.js';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import { commandMetadata, decideAndAppendOne, type CommandReceipt } from '../../ledger/decide-and-append.js';
import { ApiKeyRevoked, apiKeyStreamId } from '../auth/events.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { issueRecordedApiKey, listApiKeys, revokeRecordedApiKey, type ApiKeyInfo, type Role } from '../auth/api-keys.js';
import { Roles } from '../auth/decorators.js';
import { IssueKeyBody, readBody, RevokeKeyBody } from './body-schema.js';
import { IdempotencyService } from './idempotency.js';
import { COMMAND_ERRORS, Doc } from './openapi.js';

export interface IssuedKey {
  keyId: string;
  /** The key itself: shown once, never stored (only its hash is). null in a replayed response. */
  key: string | null;
  role: Role;
  label: string;
  event: CommandReceipt;
}

@Controller('keys')
@Roles('admin')
export class KeysController {
  private readonly logger = new Logger('Operator');

  constructor(
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Doc({ tag: 'keys', summary: 'List API keys (never the keys or their hashes)', success: { status: 200, description: 'Keys', schema: 'KeyList' }, errors: [401, 403] })
  @Get()
  async list(): Promise<{ keys: ApiKeyInfo[] }> {
    return { keys: await listApiKeys(this.sql) };
  }

  @Doc({
    tag: 'keys', summary: 'Issue an API key',
    description: 'The key is in this response only (the server keeps its SHA-256). A replay under the same Idempotency-Key answers with key: null. Records ApiKeyIssued.',
    body: IssueKeyBody, success: { status: 201, description: 'The new key', schema: 'IssuedKey' }, errors: COMMAND_ERRORS, idempotent: true,
  })
  @Post()
  @HttpCode(201)
  issue(@Req() req: FastifyRequest): Promise<IssuedKey> {
    const body = readBody(req, IssueKeyBody);
    return this.idempotency.run(
      req,
      { route: 'POST /keys', body, successStatus: 201, recordAs: (r: IssuedKey) => ({ ...r, key: null }) },
      async (ctx) => {
        const label = body.label.trim();
        const { key, keyId, event } = await issueRecordedApiKey(this.sql, this.store, {
          role: body.role,
          label,
          actor: ctx.actor,
          metadata: commandMetadata(ctx),
          eventId: ctx.eventId,
        });
        this.logger.log({ msg: `operator command issue-api-key by ${ctx.actor}: ${body.role} key "${label}"`, command: 'issue-api-key', actor: ctx.actor, reason: `label: ${label}`, role: body.role, keyId, eventId: event.eventId });
        return { keyId, key, role: body.role, label, event };
      },
    );
  }

  @Doc({
    tag: 'keys', summary: 'Revoke an API key',
    description: 'Records ApiKeyRevoked. The body (optional) may give a reason.',
    params: [{ name: 'id', description: 'Key id (the 12 characters after arb_)', schema: { type: 'string' } }],
    body: RevokeKeyBody, bodyOptional: true, success: { status: 200, description: 'Revoked', schema: 'KeyRevoked' }, errors: [...COMMAND_ERRORS, 404], idempotent: true,
  })
  @Delete(':id')
  @HttpCode(200)
  revoke(@Req() req: FastifyRequest, @Param('id') id: string): Promise<{ keyId: string; revoked: true; event: CommandReceipt }> {
    const body = readBody(req, RevokeKeyBody, { optional: true });
    return this.idempotency.run(req, { route: 'DELETE /keys/:id', params: { id }, body, successStatus: 200 }, async (ctx) => {
      const event = /^[a-z0-9]{12}$/.test(id)
        ? await revokeRecordedApiKey(this.sql, this.store, {
            keyId: id,
            actor: ctx.actor,
            reason: body.reason?.trim() || 'revoked',
            metadata: commandMetadata(ctx),
            eventId: ctx.eventId,
          })
        : null;
      if (!event) throw new NotFoundException(`there is no active API key with id "${id.slice(0, 40)}"`);
      const reason = body.reason?.trim() || 'revoked';
      this.logger.log({ msg: `operator command revoke-api-key by ${ctx.actor}: ${reason}`, command: 'revoke-api-key', actor: ctx.actor, reason, keyId: id, eventId: event.eventId });
      return { keyId: id, revoked: true as const, event };
    });
  }
}
