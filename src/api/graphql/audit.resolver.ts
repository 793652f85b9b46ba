// GraphQL for auditors: the raw log like `arbiter replay` (one stream or the whole log, as of a
// time or a position, filtered, in cursor pages, with hashes), a saga's state as of a point in
// time, every risk decision beside the limits in force then and now, and the progress of
// point-in-time read-model builds. Every answer says the position it reflects.
import { Inject } from '@nestjs/common';
import { Args, Field, Float, GraphQLISODateTime, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import GraphQLJSON from './json.scalar.js';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { AsOfError, resolveAsOf, type AsOf } from '../../audit/as-of.js';
import { AuditService } from '../../audit/point-in-time.module.js';
import { HistoryInputError, readHistory } from '../../audit/history.js';
import { PointInTimeBuildingError, PointInTimeLimitError } from '../../audit/point-in-time.js';
import { GraphQLError } from 'graphql';
import type { ApiConfig } from '../api.config.js';
import { engineStreamAsOf, sagaStateAsOf } from '../../audit/state-as-of.js';
import { riskLimitsToJson, type RiskLimits, type RiskLimitsJson } from '../../risk/limits.js';
import { ARBITER_CONFIG } from '../../config/config.module.js';
import type { ArbiterConfig } from '../../config/config.js';
import type { RiskAssessedPayload } from '../../risk/events.js';
import { sagaStreamId } from '../../trading/events.js';
import { LedgerEventType, toGql } from './ledger.resolver.js';
import { badInput } from './pagination.js';

/** Turns the audit context's input errors into 400-style GraphQL errors naming what was wrong. */
export async function asBadInput<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AsOfError || err instanceof HistoryInputError || err instanceof PointInTimeLimitError) throw badInput(err.message);
    if (err instanceof PointInTimeBuildingError) {
      throw new GraphQLError(err.message, {
        extensions: {
          code: err.code,
          retryAfterSeconds: err.retryAfterSeconds,
          builds: err.builds.map((b) => ({ projection: b.projection, asOfPosition: b.asOfPosition.toString(), percent: b.percent, eventsApplied: b.eventsApplied })),
        },
      });
    }
    throw err;
  }
}

/**
 * How long a GraphQL request waits for a point-in-time build before answering
 * POINT_IN_TIME_BUILDING (the build goes on): most of the request's time budget, so the answer
 * comes before the budget stops the request.
 */
export function pointInTimeWaitMs(api: Pick<ApiConfig, 'graphqlTimeBudgetMs'>): number {
  return Math.max(0, api.graphqlTimeBudgetMs - Math.min(2000, Math.floor(api.graphqlTimeBudgetMs / 5)));
}

/** Resolves the asOf / asOfPosition pair of a query (neither: null, the live view). */
export async function asOfArgs(store: EventStore, asOf: Date | null | undefined, asOfPosition: string | null | undefined, nowMs = Date.now()): Promise<AsOf | null> {
  if ((asOf === null || asOf === undefined) && (asOfPosition === null || asOfPosition === undefined)) return null;
  return asBadInput(() => resolveAsOf(store, { time: asOf ?? null, position: asOfPosition ?? null }, nowMs));
}

@ObjectType('LedgerEventPage', { description: 'A page of ledger events; pass nextCursor as `after` for the next one' })
class LedgerEventPageType {
  @Field(() => [LedgerEventType]) items!: LedgerEventType[];
  @Field(() => String, { nullable: true, description: 'Cursor of the next page; null when the history up to asOfPosition is exhausted' }) nextCursor!: string | null;
  @Field({ description: 'The global position this history is cut at' }) asOfPosition!: string;
  @Field({ description: 'Where the scan of this page ended (a position, or a revision for one stream): filtered pages may be short' }) scannedTo!: string;
}

@ObjectType('SagaAsOf', { description: "One saga's state folded from its stream up to a position" })
class SagaAsOfType {
  @Field() opportunityId!: string;
  @Field() asOfPosition!: string;
  @Field(() => GraphQLISODateTime) asOfTime!: Date;
  @Field({ description: 'The phase then (the next step follows from it)' }) phase!: string;
  @Field(() => String, { nullable: true }) outcome!: string | null;
  @Field({ description: 'Revision of the last event in view' }) revision!: string;
  @Field(() => GraphQLJSON, { description: 'The whole folded state (quote, risk, screening, signature … as recorded)' }) data!: unknown;
  @Field(() => [LedgerEventType], { description: 'The events folded' }) events!: LedgerEventType[];
  @Field(() => String, { nullable: true, description: "Set when the stored stream holds a transition the saga's state machine refuses: what, and where (the state is the fold up to the event before it)" }) anomaly!: string | null;
}

@ObjectType('RiskCheckAudit', { description: 'One check of a risk assessment: what it was decided against, beside the limits in force then and now' })
class RiskCheckAuditType {
  @Field() assessmentId!: string;
  @Field() opportunityId!: string;
  @Field({ description: 'Global position of the RiskAssessed event' }) position!: string;
  @Field(() => GraphQLISODateTime) assessedAt!: Date;
  @Field({ description: 'Whether the whole assessment approved the trade' }) approved!: boolean;
  @Field() engineMode!: string;
  @Field(() => Int, { nullable: true, description: 'The limits version the assessment itself recorded' }) limitsVersionRecorded!: number | null;
  @Field(() => Int, { description: 'Limits changes in the ledger before the assessment (0: limits from configuration); differs from limitsVersionRecorded if the decision used stale limits' }) limitsVersionThen!: number;
  @Field(() => GraphQLJSON, { description: 'Every limit in force at the assessment, folded from the engine stream up to it' }) limitsThen!: unknown;
  @Field(() => Int) limitsVersionNow!: number;
  @Field(() => GraphQLJSON) limitsNow!: unknown;
  @Field() check!: string;
  @Field() passed!: boolean;
  @Field(() => String, { nullable: true, description: 'The limit the check compared against (from the event)' }) limit!: string | null;
  @Field(() => String, { nullable: true }) observed!: string | null;
  @Field() unit!: string;
  @Field() reason!: string;
  @Field(() => GraphQLJSON) inputs!: unknown;
  @Field(() => String, { nullable: true, description: 'The risk limit setting behind this check (null: no numeric setting)' }) setting!: string | null;
  @Field(() => String, { nullable: true, description: 'That setting as it was in force at the assessment' }) settingThen!: string | null;
  @Field(() => String, { nullable: true, description: 'That setting now' }) settingNow!: string | null;
  @Field({ description: 'settingThen differs from settingNow' }) changedSince!: boolean;
}

@ObjectType('PointInTimeBuild', { description: 'A read model built up to a past position for a point-in-time question' })
class PointInTimeBuildType {
  @Field() projection!: string;
  @Field() asOfPosition!: string;
  @Field(() => Int) generation!: number;
  @Field({ description: 'building, ready or failed' }) state!: string;
  @Field() position!: string;
  @Field(() => Int) eventsApplied!: number;
  @Field(() => Float) percent!: number;
  @Field(() => GraphQLISODateTime) startedAt!: Date;
  @Field(() => Float, { nullable: true }) seconds!: number | null;
  @Field(() => GraphQLISODateTime, { description: 'When it is dropped' }) expiresAt!: Date;
  @Field(() => String, { nullable: true }) error!: string | null;
}

/** Which limit setting each check compares against. */
const CHECK_SETTING: Record<string, keyof RiskLimitsJson | null> = {
  engine_state: null,
  price_staleness: 'maxPriceAgeSeconds',
  price_confidence: 'maxConfidenceBps',
  price_deviation: 'maxPriceDeviationBps',
  slippage: 'maxSlippageBps',
  min_profit: 'minProfitBaseUnits',
  token_exposure: 'maxExposurePerTokenUsdMicros',
  trade_notional: 'maxNotionalPerTradeUsdMicros',
  daily_loss: 'dailyLossLimitUsdMicros',
  order_rate: 'maxOrdersPerMinute',
};

/** Limits in force after the given engine-stream events: the last RiskLimitsChanged, else the configured ones. */
function limitsAfter(engineEvents: { type: string; position: bigint; payload: unknown }[], position: bigint, configured: RiskLimits): { version: number; limits: RiskLimitsJson } {
  let version = 0;
  let limits = riskLimitsToJson(configured);
  for (const e of engineEvents) {
    if (e.position > position) break;
    if (e.type === 'RiskLimitsChanged') {
      version++;
      limits = (e.payload as { limits: RiskLimitsJson }).limits;
    }
  }
  return { version, limits };
}

const jsonSafe = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));

@Resolver()
export class AuditResolver {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly audit: AuditService,
    @Inject(ARBITER_CONFIG) private readonly config: ArbiterConfig,
  ) {}

  @Query(() => LedgerEventPageType, {
    description: 'The ledger like `arbiter replay`: one stream or the whole log, as of a time or a position, filtered; events as stored, with hashes',
  })
  async ledgerEvents(
    @Args('streamId', { type: () => String, nullable: true }) streamId?: string,
    @Args('streamPrefix', { type: () => String, nullable: true }) streamPrefix?: string,
    @Args('eventTypes', { type: () => [String], nullable: true }) eventTypes?: string[],
    @Args('correlationId', { type: () => String, nullable: true, description: "One flow's whole trail across streams (for a trade: its opportunity id)" }) correlationId?: string,
    @Args('actor', { type: () => String, nullable: true }) actor?: string,
    @Args('asOf', { type: () => GraphQLISODateTime, nullable: true, description: 'Events recorded up to this time (resolved to a position)' }) asOf?: Date,
    @Args('asOfPosition', { type: () => String, nullable: true, description: 'Events up to this global position' }) asOfPosition?: string,
    @Args('first', { type: () => Int, nullable: true, defaultValue: 100 }) first?: number,
    @Args('after', { type: () => String, nullable: true }) after?: string,
  ): Promise<LedgerEventPageType> {
    const cut = (await asOfArgs(this.store, asOf, asOfPosition)) ?? (await asBadInput(() => resolveAsOf(this.store, {}, Date.now())));
    const page = await asBadInput(() =>
      readHistory(this.store, { streamId, streamPrefix, eventTypes, correlationId, actor, asOfPosition: cut.position, first: first ?? 100, after }),
    );
    return { items: page.events.map(toGql), nextCursor: page.nextCursor, asOfPosition: cut.position.toString(), scannedTo: page.scannedTo.toString() };
  }

  @Query(() => SagaAsOfType, { nullable: true, description: "A saga's phase and data as of a time or position (default: now); null if it had not begun" })
  async saga(
    @Args('opportunityId') opportunityId: string,
    @Args('asOf', { type: () => GraphQLISODateTime, nullable: true }) asOf?: Date,
    @Args('asOfPosition', { type: () => String, nullable: true }) asOfPosition?: string,
  ): Promise<SagaAsOfType | null> {
    if (!opportunityId || opportunityId.length > 150) throw badInput('opportunityId must be 1 to 150 characters');
    const cut = (await asOfArgs(this.store, asOf, asOfPosition)) ?? (await asBadInput(() => resolveAsOf(this.store, {}, Date.now())));
    const found = await sagaStateAsOf(this.store, opportunityId, cut.position);
    if (!found) return null;
    const { phase, outcome, revision, ...rest } = found.state as unknown as { phase: string; outcome?: string | null; revision: bigint } & Record<string, unknown>;
    return {
      opportunityId,
      asOfPosition: cut.position.toString(),
      asOfTime: new Date(cut.positionTime),
      phase: String(phase),
      outcome: outcome ?? null,
      revision: String(revision),
      data: jsonSafe(rest),
      events: found.events.map(toGql),
      anomaly: found.anomaly,
    };
  }

  @Query(() => [RiskCheckAuditType], { description: 'Every check of every risk assessment of an opportunity, beside the limit setting in force then and now' })
  async riskDecisionsAudit(@Args('opportunityId') opportunityId: string): Promise<RiskCheckAuditType[]> {
    if (!opportunityId || opportunityId.length > 150) throw badInput('opportunityId must be 1 to 150 characters');
    const stream = await this.store.readStream(sagaStreamId(opportunityId), { maxCount: 10_000 });
    const assessed = stream.filter((e) => e.type === 'RiskAssessed');
    if (!assessed.length) return [];
    const head = await this.store.headPosition();
    const engine = await engineStreamAsOf(this.store, head);
    const configured = this.config.risk.defaultLimits;
    const now = limitsAfter(engine, head, configured);
    return assessed.flatMap((e) => {
      const p = e.payload as RiskAssessedPayload;
      const then = limitsAfter(engine, e.position, configured);
      const assessment = {
        assessmentId: e.id,
        opportunityId,
        position: e.position.toString(),
        assessedAt: new Date(p.assessedAt),
        approved: p.approved,
        engineMode: p.engineMode,
        limitsVersionRecorded: p.limitsVersion ?? null,
        limitsVersionThen: then.version,
        limitsThen: then.limits,
        limitsVersionNow: now.version,
        limitsNow: now.limits,
      };
      return p.checks.map((c) => {
        const setting = CHECK_SETTING[c.name] ?? null;
        const settingThen = setting ? String(then.limits[setting]) : null;
        const settingNow = setting ? String(now.limits[setting]) : null;
        return { ...assessment, check: c.name, passed: c.passed, limit: c.limit, observed: c.observed, unit: c.unit, reason: c.reason, inputs: c.inputs, setting, settingThen, settingNow, changedSince: settingThen !== settingNow };
      });
    });
  }

  @Query(() => [PointInTimeBuildType], { description: 'Point-in-time read models built or being built in this process, with progress' })
  pointInTimeBuilds(): PointInTimeBuildType[] {
    return this.audit.pointInTime.builds().map((b) => ({
      projection: b.projection,
      asOfPosition: b.asOfPosition.toString(),
      generation: b.generation,
      state: b.state,
      position: b.position.toString(),
      eventsApplied: b.eventsApplied,
      percent: b.percent,
      startedAt: new Date(b.startedAt),
      seconds: b.seconds,
      expiresAt: new Date(b.expiresAt),
      error: b.error,
    }));
  }
}
