// Queries the operator console needs beyond the read models: who the presented key is (so the UI
// shows only what its role allows), and the ledger's hash-chain verification (the CLI's
// `arbiter verify`) for auditors, the risk limits in force (to edit them), bounded so one request cannot scan without limit.
import { Inject } from '@nestjs/common';
import { Args, Context, Field, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { GRAPHQL_SQL } from '../api.tokens.js';
import { verifyLog } from '../../ledger/verify.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { riskLimitsToJson } from '../../risk/limits.js';
import { ARBITER_CONFIG } from '../../config/config.module.js';
import type { ArbiterConfig } from '../../config/config.js';
import { ROLES, roleAllows } from '../auth/api-keys.js';
import GraphQLJSON from './json.scalar.js';
import { principalOf } from '../auth/principal.js';

@ObjectType('Principal', { description: 'The API key this request presents' })
export class PrincipalType {
  @Field() keyId!: string;
  @Field({ description: `One of ${ROLES.join(', ')}` }) role!: string;
  @Field() label!: string;
  @Field(() => [String], { description: 'Roles whose commands this key may run (admin: all)' }) allows!: string[];
}

@ObjectType('VerifyFailure')
export class VerifyFailureType {
  @Field({ description: 'event, gap, global-chain, log-head, missing-tail, missing-stream, stream-head, no-such-stream, seal or digest' }) kind!: string;
  @Field(() => String, { nullable: true }) streamId!: string | null;
  @Field(() => String, { nullable: true }) revision!: string | null;
  @Field(() => String, { nullable: true }) position!: string | null;
  @Field(() => String, { nullable: true }) eventId!: string | null;
  @Field() reason!: string;
}

@ObjectType('VerifyResult', { description: 'Every event’s content hash and its stream’s hash chain, recomputed' })
export class VerifyResultType {
  @Field() ok!: boolean;
  @Field(() => Int) eventsChecked!: number;
  @Field(() => Int) streamsChecked!: number;
  @Field(() => VerifyFailureType, { nullable: true }) failure!: VerifyFailureType | null;
  @Field(() => Int) milliseconds!: number;
}

@Resolver()
export class ConsoleResolver {
  constructor(
    @Inject(GRAPHQL_SQL) private readonly sql: SqlClient,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARBITER_CONFIG) private readonly config: ArbiterConfig,
  ) {}

  @Query(() => PrincipalType, { description: 'The key of this request and its role' })
  async whoami(@Context() ctx: { req?: object; reply?: { request?: object } }): Promise<PrincipalType> {
    const req = ctx.req ?? ctx.reply?.request;
    const p = req ? await principalOf(this.sql, req) : null;
    if (!p) throw new GraphQLError('no API key', { extensions: { code: 'UNAUTHENTICATED' } });
    return { keyId: p.keyId, role: p.role, label: p.label, allows: ROLES.filter((r) => r !== 'viewer' && roleAllows(p.role, r)) };
  }

  @Query(() => GraphQLJSON, { description: 'The risk limits in force: the latest change, else the configured ones (the body PUT /risk/limits takes)' })
  async riskLimitsInForce(): Promise<unknown> {
    const { rows } = await this.sql.query<{ limits: unknown }>('SELECT limits FROM engine_history WHERE limits IS NOT NULL ORDER BY position DESC LIMIT 1');
    return rows[0]?.limits ?? riskLimitsToJson(this.config.risk.defaultLimits);
  }

  @Query(() => VerifyResultType, { description: 'Recomputes the hash chains of one stream, or of the whole log (as `arbiter verify`)' })
  async verifyLedger(@Args('streamId', { type: () => String, nullable: true }) streamId?: string): Promise<VerifyResultType> {
    if (streamId !== undefined && streamId !== null && (streamId.length < 1 || streamId.length > 200)) {
      throw new GraphQLError('streamId must be 1 to 200 characters', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    const started = performance.now();
    const r = await verifyLog(this.store, { streamId: streamId ?? undefined });
    return {
      ok: r.ok,
      eventsChecked: r.eventsChecked,
      streamsChecked: r.streamsChecked,
      failure: r.failure
        ? { ...r.failure, revision: r.failure.revision?.toString() ?? null, position: r.failure.position?.toString() ?? null }
        : null,
      milliseconds: Math.round(performance.now() - started),
    };
  }
}
