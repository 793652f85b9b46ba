// GraphQL subscriptions (graphql-ws / graphql-transport-ws over WebSocket at /graphql): engine
// state changes, each new event of a saga, compliance flags raised, reviewed and closed, the
// projections' status and a rebuild's progress. The API key goes in the connection_init payload
// ({ "authorization": "Bearer arb_…" }); mercurius lays that payload over the connection's
// request headers, so the same guard and roles as queries apply to every subscribe. Each
// subscription is bounded (see live-feed.ts).
import { Context, Field, GraphQLISODateTime, ID, Int, ObjectType, Args, Resolver, Subscription } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import GraphQLJSON from './json.scalar.js';
import type { RecordedEvent } from '../../ledger/envelope.js';
import { ProjectionsService } from '../../projections/projections.module.js';
import { RebuildTracker, type RebuildStatus } from '../../projections/rebuild-projection.js';
import { allProjections, findProjection } from '../../../projections/index.js';
import { ENGINE_STREAM_ID } from '../../risk/events.js';
import { SAGA_STREAM_PREFIX } from '../../trading/events.js';
import { LiveFeed } from './live-feed.js';
import { ProjectionStatusType } from './ledger.resolver.js';

const ENGINE_MODE_AFTER: Record<string, string> = { EnginePaused: 'PAUSED', EngineResumed: 'ACTIVE', EngineReducing: 'REDUCING' };
const FLAG_EVENTS = new Set(['ComplianceFlagRaised', 'ComplianceFlagReviewed', 'ComplianceFlagClosed']);

@ObjectType('EngineEvent', { description: 'A change recorded on the engine stream (pause, resume, reduce, limits, …)' })
export class EngineEventType {
  @Field() type!: string;
  @Field(() => String, { nullable: true, description: 'Mode in force after the change; null when the change keeps the mode (limits)' }) mode!: string | null;
  @Field(() => String, { nullable: true }) actor!: string | null;
  @Field(() => String, { nullable: true }) reason!: string | null;
  @Field(() => String, { nullable: true }) cause!: string | null;
  @Field(() => GraphQLISODateTime) at!: Date;
  @Field() position!: string;
}

@ObjectType('SagaEvent', { description: 'One new event of an arbitrage saga, as recorded' })
export class SagaEventType {
  @Field(() => ID) opportunityId!: string;
  @Field() type!: string;
  @Field() position!: string;
  @Field() revision!: string;
  @Field(() => GraphQLISODateTime) recordedAt!: Date;
  @Field(() => GraphQLJSON) payload!: unknown;
}

@ObjectType('ComplianceFlagEvent', { description: 'A compliance flag raised, reviewed or closed' })
export class ComplianceFlagEventType {
  @Field() type!: string;
  @Field(() => ID) flagId!: string;
  @Field(() => String, { nullable: true }) opportunityId!: string | null;
  @Field(() => String, { nullable: true }) rule!: string | null;
  @Field(() => String, { nullable: true }) severity!: string | null;
  @Field(() => String, { nullable: true }) actor!: string | null;
  @Field(() => String, { nullable: true }) note!: string | null;
  @Field(() => String, { nullable: true }) outcome!: string | null;
  @Field(() => GraphQLISODateTime) recordedAt!: Date;
  @Field() position!: string;
}

@ObjectType('RebuildProgress', { description: 'A projection rebuild as it runs (state idle, running, completed or failed)' })
export class RebuildProgressType {
  @Field() projection!: string;
  @Field() state!: string;
  @Field(() => Int, { description: '0 to 100' }) percent!: number;
  @Field(() => Int) eventsApplied!: number;
  @Field(() => String, { nullable: true }) position!: string | null;
  @Field(() => String, { nullable: true }) head!: string | null;
  @Field(() => Int, { nullable: true }) etaSeconds!: number | null;
  @Field(() => String, { nullable: true }) requestedBy!: string | null;
  @Field(() => String, { nullable: true }) digest!: string | null;
  @Field(() => String, { nullable: true }) error!: string | null;
}

type Payload = Record<string, unknown>;
const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function engineEventOf(e: RecordedEvent): EngineEventType | null {
  if (e.streamId !== ENGINE_STREAM_ID) return null;
  const p = (e.payload ?? {}) as Payload;
  return {
    type: e.type,
    mode: ENGINE_MODE_AFTER[e.type] ?? null,
    actor: text(p.actor),
    reason: text(p.reason),
    cause: text(p.cause),
    at: new Date(e.recordedAt),
    position: e.position.toString(),
  };
}

export function sagaEventOf(e: RecordedEvent, opportunityId: string | null): SagaEventType | null {
  if (!e.streamId.startsWith(SAGA_STREAM_PREFIX)) return null;
  const id = e.streamId.slice(SAGA_STREAM_PREFIX.length);
  if (opportunityId !== null && id !== opportunityId) return null;
  return { opportunityId: id, type: e.type, position: e.position.toString(), revision: e.revision.toString(), recordedAt: new Date(e.recordedAt), payload: e.payload };
}

export function flagEventOf(e: RecordedEvent): ComplianceFlagEventType | null {
  if (!FLAG_EVENTS.has(e.type)) return null;
  const p = (e.payload ?? {}) as Payload;
  return {
    type: e.type,
    flagId: String(p.flagId),
    opportunityId: text(p.opportunityId),
    rule: text(p.rule),
    severity: text(p.severity),
    actor: text(p.actor),
    note: text(p.note),
    outcome: text(p.outcome),
    recordedAt: new Date(e.recordedAt),
    position: e.position.toString(),
  };
}

export function rebuildProgressOf(s: RebuildStatus): RebuildProgressType {
  return {
    projection: s.projection,
    state: s.state,
    percent: s.state === 'completed' ? 100 : Math.max(0, Math.min(100, Math.floor(s.progress?.percent ?? 0))),
    eventsApplied: s.result?.eventsApplied ?? s.progress?.eventsApplied ?? 0,
    position: s.progress?.position ?? null,
    head: s.progress?.head ?? null,
    etaSeconds: s.progress?.etaSeconds === null || s.progress?.etaSeconds === undefined ? null : Math.round(s.progress.etaSeconds),
    requestedBy: s.requestedBy,
    digest: s.result?.digest ?? null,
    error: s.error,
  };
}

/** The per-connection object: mercurius' subscription context carries the connection's request. */
const connectionOf = (ctx: { reply?: { request?: object }; req?: object }): object | null => ctx?.reply?.request ?? ctx?.req ?? null;
const asIs = <T>(v: T) => v;

@Resolver()
export class SubscriptionsResolver {
  constructor(
    private readonly feed: LiveFeed,
    private readonly projections: ProjectionsService,
    private readonly tracker: RebuildTracker,
  ) {}

  @Subscription(() => EngineEventType, { resolve: asIs, description: 'Each change recorded on the engine stream from now on' })
  engineChanged(@Context() ctx: object) {
    return this.feed.follow(connectionOf(ctx), engineEventOf);
  }

  @Subscription(() => SagaEventType, { resolve: asIs, description: 'Each new event of every saga, or of one opportunity' })
  sagaProgress(@Context() ctx: object, @Args('opportunityId', { type: () => String, nullable: true }) opportunityId?: string) {
    return this.feed.follow(connectionOf(ctx), (e) => sagaEventOf(e, opportunityId ?? null));
  }

  @Subscription(() => ComplianceFlagEventType, { resolve: asIs, description: 'Compliance flags raised, reviewed and closed from now on' })
  complianceFlagChanged(@Context() ctx: object) {
    return this.feed.follow(connectionOf(ctx), flagEventOf);
  }

  @Subscription(() => [ProjectionStatusType], { resolve: asIs, description: 'Every projection’s status, sent when it changes (checked each second)' })
  projectionStatus(@Context() ctx: object) {
    return this.feed.poll(connectionOf(ctx), 1000, async () =>
      (await this.projections.runner.status()).map((s) => ({
        name: s.name,
        generation: s.generation,
        checkpoint: s.checkpoint.toString(),
        head: s.head.toString(),
        lag: s.lag.toString(),
        lastError: s.lastError,
      })),
    );
  }

  @Subscription(() => RebuildProgressType, { resolve: asIs, description: 'A rebuild’s progress, sent as it changes; ends once it completed or failed' })
  rebuildProgress(@Context() ctx: object, @Args('projection') projection: string) {
    if (!findProjection(projection)) {
      throw new GraphQLError(`there is no projection "${projection.slice(0, 100)}"; projections: ${allProjections.map((p) => p.name).join(', ')}`, {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    const tracker = this.tracker;
    return this.feed.poll(
      connectionOf(ctx),
      200,
      async () => rebuildProgressOf(tracker.status(projection)),
      (p) => p.state === 'completed' || p.state === 'failed',
    );
  }
}
