// Keeps the trading state (mode, limits, exposure, in-flight trades, daily P&L, order rate)
// current by following the log, and trips the circuit breaker on live events. It is the adapter
// of the risk context's EngineStateView port: the saga reads it; only events change it.
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { RecordedEvent } from '../ledger/envelope.js';
import { ConcurrentCommandError, decideAndAppend } from '../ledger/decide-and-append.js';
import { newEvent } from '../ledger/event-types.js';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { LogFollower } from '../ledger/log-follower.js';
import { answersTrip, circuitBreaker, circuitBreakerPausePayload, missedTrip, CIRCUIT_BREAKER_ACTOR, type CircuitBreakerTrip } from './circuit-breaker.js';
import { evolve, heldExposure, initialEngineState, realisedOn, type EngineState } from './engine-state.js';
import type { EngineStateView } from './engine-state.port.js';
import { EnginePaused, ENGINE_STREAM_ID } from './events.js';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import { Metrics, usdFromMicros } from '../shared/metrics/metrics.js';
import { tokenByMint } from '../shared/tokens.js';
import { SQL_CLIENT, type SqlClient } from '../shared/sql/sql-client.js';
import { SnapshotStore } from '../shared/sql/snapshots.js';
import { LeadershipService } from '../ledger/leadership/leadership.service.js';

export const ENGINE_STATE_EVENT_TYPES = [
  'EnginePaused',
  'EngineResumed',
  'EngineReducing',
  'RiskLimitsChanged',
  'RiskAssessed',
  'ComplianceScreened',
  'FillConfirmed',
  'FillFailed',
  'TransactionExpired',
  'OpportunityAbandoned',
  // Inventory sales are detected with a `reduction` and hold their units until they end.
  'OpportunityDetected',
  'QuoteFailed',
  // Execution's reconciliation: one beyond tolerance trips the breaker (the engine state itself ignores it).
  'BalanceDiscrepancyDetected',
];

interface EngineSnapshot {
  engine: EngineState;
  limitsVersion: number;
  lastFailure: RecordedEvent | null;
  unanswered: UnansweredTrip | null;
}

/** A trip the breaker's condition met at `cause`, with no engine-stream event since (circuit-breaker.ts: answersTrip). */
interface UnansweredTrip {
  trip: CircuitBreakerTrip;
  cause: RecordedEvent;
}

@Injectable()
export class EngineStateService implements EngineStateView, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EngineState');
  private state: EngineState;
  /** The latest failed or expired fill folded, as the cause of a pause decided on start. */
  private lastFailure: RecordedEvent | null = null;
  /** Met in the log (live or not) and not yet answered: what a node about to run the engine trips on. */
  private unanswered: UnansweredTrip | null = null;
  private readonly follower: LogFollower<EngineSnapshot>;
  private started: Promise<void> | null = null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SQL_CLIENT) sql: SqlClient,
    private readonly metrics: Metrics,
    @Inject(ARBITER_CONFIG) config: ArbiterConfig,
    private readonly leadership: LeadershipService,
  ) {
    this.state = initialEngineState(config.risk.defaultLimits);
    this.follower = new LogFollower<EngineSnapshot>(
      store,
      new SnapshotStore(sql),
      {
        name: 'engine-state',
        // 2: the screening memory moved to the compliance context's own snapshot.
        // 3: abandoned sagas leave the in-flight set (a version-2 snapshot may still hold them).
        // 5: inventory and open inventory sales, and the unanswered trip (a version-4 snapshot has
        // one or the other, a version-3 one neither).
        snapshotVersion: 5,
        eventTypes: ENGINE_STATE_EVENT_TYPES,
        apply: (events, live) => this.apply(events, live),
        snapshot: () => ({ engine: this.state, limitsVersion: this.state.limitsVersion, lastFailure: this.lastFailure, unanswered: this.unanswered }),
        // Limits from config apply until the log changes them: a snapshot keeps only what events set.
        restore: (snap) => {
          this.state = snap.limitsVersion > 0 ? snap.engine : { ...snap.engine, limits: this.state.limits };
          this.lastFailure = snap.lastFailure ?? null;
          this.unanswered = snap.unanswered ?? null;
        },
      },
      this.logger,
    );
  }

  /** Position of the snapshot this run started from (0n: folded the whole history). */
  get startedFromSnapshot(): bigint {
    return this.follower.startedFromSnapshot;
  }

  onApplicationBootstrap(): Promise<void> {
    return this.ready();
  }

  /** Folds the history and starts following the log; idempotent (the saga awaits it too). */
  ready(): Promise<void> {
    this.started ??= (async () => {
      await this.follower.start();
      await this.tripMissed('start');
      this.logger.log(`engine ${this.state.mode}${this.state.reason ? ` (${this.state.reason})` : ''}`);
    })();
    return this.started;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.follower.stop();
  }

  current(): EngineState {
    return this.state;
  }

  caughtUpThrough(head: bigint, timeoutMs = 10_000): Promise<void> {
    return this.follower.caughtUpThrough(head, timeoutMs);
  }

  caughtUp(position: bigint, timeoutMs = 10_000): Promise<void> {
    return this.follower.caughtUp(position, timeoutMs);
  }

  /**
   * History is folded, not re-judged, so an old incident never pauses the engine again. One
   * exception: a trip the log shows due and unanswered (the node that met it stopped before it
   * recorded its pause), or a run of failed fills at the threshold. Called at start (where this
   * node may act: HA off) and by the saga on every takeover, on the caught-up state, before the
   * loop starts: a standby folded the old leader's events but could not pause an engine it did
   * not run. Resolves once the pause, if any, is folded in.
   */
  async tripMissed(when: 'start' | 'takeover'): Promise<void> {
    const trip = missedTrip(this.state, this.unanswered?.trip ?? null, this.lastFailure);
    const cause = this.unanswered?.cause ?? this.lastFailure;
    if (!trip || !cause) return;
    const found: Record<string, string> =
      when === 'start'
        ? { foundOnStart: 'the pause was not recorded before the engine stopped' }
        : { foundOnTakeover: 'the previous leader stopped before it recorded the pause' };
    const position = await this.trip({ ...trip, detail: { ...trip.detail, ...found } }, cause);
    // Trade only once the pause is folded in.
    if (position !== null) await this.caughtUp(position);
  }

  private async apply(events: RecordedEvent[], live: (e: RecordedEvent) => boolean): Promise<void> {
    for (const e of events) {
      if (e.type === 'FillFailed' || e.type === 'TransactionExpired') this.lastFailure = e;
      const before = this.state;
      this.state = evolve(before, e);
      if (answersTrip(e)) this.unanswered = null;
      const trip = circuitBreaker(before, e);
      if (trip) this.unanswered = { trip, cause: e };
      // History is folded, not re-judged: only events appended after start trip the breaker here
      // (tripMissed looks at what history left unanswered).
      if (trip && live(e)) await this.trip(trip, e);
    }
    this.publish();
  }

  private publish(): void {
    for (const mode of ['ACTIVE', 'PAUSED', 'REDUCING'] as const) this.metrics.engineMode.set({ mode }, this.state.mode === mode ? 1 : 0);
    for (const [mint, usdMicros] of Object.entries(heldExposure(this.state))) {
      this.metrics.exposureUsd.set({ token: tokenByMint(mint)?.symbol ?? mint }, usdFromMicros(usdMicros));
    }
    const today = realisedOn(this.state, Date.now());
    this.metrics.realisedPnlTodayUsd.set(usdFromMicros(today.pnlUsdMicros));
    this.metrics.dailyLossLimitUsd.set(usdFromMicros(this.state.limits.dailyLossLimitUsdMicros));
  }

  /** Appends the circuit breaker's EnginePaused; returns its position, or null if nothing was written. */
  private async trip(trip: ReturnType<typeof circuitBreaker> & object, cause: RecordedEvent): Promise<bigint | null> {
    // Every node folds the same events; only the active engine decides on them (HA: a standby's
    // breaker would pause an engine it does not run; the leader's pause is fenced by its token).
    if (!this.leadership.mayAct()) return null;
    const payload = circuitBreakerPausePayload(trip);
    try {
      const { position } = await this.leadership.run(() => decideAndAppend(this.store, {
        streamId: ENGINE_STREAM_ID,
        retries: 0, // someone changed the engine state first: their decision stands
        fold: (events) => events[events.length - 1]?.type ?? null,
        // Another process may have paused already: only pause an engine that is not paused.
        decide: (lastType) =>
          lastType === 'EnginePaused'
            ? []
            : [
                newEvent(EnginePaused, payload, {
                  correlationId: cause.metadata.correlationId,
                  causationId: cause.id,
                  actor: CIRCUIT_BREAKER_ACTOR,
                  tenant: cause.metadata.tenant,
                }),
              ],
      }));
      if (position === 0n) return null;
      this.metrics.circuitBreakerTripsTotal.inc({ cause: trip.cause });
      this.logger.warn(`circuit breaker paused the engine: ${payload.reason}`);
      return position;
    } catch (err) {
      if (!(err instanceof ConcurrentCommandError)) this.logger.error(`circuit breaker could not pause the engine: ${(err as Error).message}`);
      return null;
    }
  }
}
