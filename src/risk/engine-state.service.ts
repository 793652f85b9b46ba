// Keeps the trading state (mode, limits, exposure, in-flight trades, daily P&L, order rate)
// current by following the log, and trips the circuit breaker on live events. It is the adapter
// of the risk context's EngineStateView port: the saga reads it; only events change it.
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { RecordedEvent } from '../ledger/envelope.js';
import { ConcurrentCommandError, decideAndAppend } from '../ledger/decide-and-append.js';
import { newEvent } from '../ledger/event-types.js';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { LogFollower } from '../ledger/log-follower.js';
import { circuitBreaker, circuitBreakerPausePayload, CIRCUIT_BREAKER_ACTOR } from './circuit-breaker.js';
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
  /** A discrepancy beyond tolerance folded while not paused, and no pause after it yet (absent in older snapshots). */
  pendingDiscrepancy?: RecordedEvent | null;
}

@Injectable()
export class EngineStateService implements EngineStateView, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EngineState');
  private state: EngineState;
  /** The latest failed or expired fill folded, as the cause of a pause decided on start. */
  private lastFailure: RecordedEvent | null = null;
  /** A BalanceDiscrepancyDetected beyond tolerance not followed by a pause yet: trips on start if the pause was lost. */
  private pendingDiscrepancy: RecordedEvent | null = null;
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
        // 4: inventory and open inventory sales (a version-3 snapshot has neither).
        snapshotVersion: 4,
        eventTypes: ENGINE_STATE_EVENT_TYPES,
        apply: (events, live) => this.apply(events, live),
        snapshot: () => ({ engine: this.state, limitsVersion: this.state.limitsVersion, lastFailure: this.lastFailure, pendingDiscrepancy: this.pendingDiscrepancy }),
        // Limits from config apply until the log changes them: a snapshot keeps only what events set.
        restore: (snap) => {
          this.state = snap.limitsVersion > 0 ? snap.engine : { ...snap.engine, limits: this.state.limits };
          this.lastFailure = snap.lastFailure ?? null;
          this.pendingDiscrepancy = snap.pendingDiscrepancy ?? null;
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
      await this.tripMissedOnStart();
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
   * exception: a run of failed fills that had reached the breaker's threshold when the engine
   * stopped without its pause recorded (a crash in between). The state still says so: pause now.
   */
  private async tripMissedOnStart(): Promise<void> {
    await this.tripMissedDiscrepancy();
    const limit = this.state.limits.circuitBreaker.consecutiveFailedFills;
    if (this.state.mode === 'PAUSED' || this.state.consecutiveFailedFills < limit || !this.lastFailure) return;
    const p = this.lastFailure.payload as { opportunityId?: string; reason?: string };
    const position = await this.trip(
      {
        cause: 'consecutive_failed_fills',
        detail: {
          consecutiveFailedFills: this.state.consecutiveFailedFills,
          threshold: limit,
          lastEventType: this.lastFailure.type,
          opportunityId: p.opportunityId ?? null,
          lastReason: p.reason ?? null,
          foundOnStart: 'the pause was not recorded before the engine stopped',
        },
      },
      this.lastFailure,
    );
    // Trade only once the pause is folded in.
    if (position !== null) await this.caughtUp(position);
  }

  /**
   * The same for a reconciliation: a discrepancy beyond tolerance recorded, and the engine stopped
   * before its pause was. The next reconciliation starts from that discrepancy's chain figures and
   * would find nothing, so the pause is decided here, from the recorded discrepancy.
   */
  private async tripMissedDiscrepancy(): Promise<void> {
    const found = this.pendingDiscrepancy;
    if (!found || this.state.mode === 'PAUSED') return;
    const trip = circuitBreaker(this.state, found);
    if (!trip) return;
    const position = await this.trip({ ...trip, detail: { ...trip.detail, foundOnStart: 'the pause was not recorded before the engine stopped' } }, found);
    if (position !== null) await this.caughtUp(position);
  }

  private async apply(events: RecordedEvent[], live: (e: RecordedEvent) => boolean): Promise<void> {
    for (const e of events) {
      if (e.type === 'FillFailed' || e.type === 'TransactionExpired') this.lastFailure = e;
      if (e.type === 'EnginePaused') this.pendingDiscrepancy = null;
      else if (e.type === 'BalanceDiscrepancyDetected' && this.state.mode !== 'PAUSED' && (e.payload as { beyondTolerance?: unknown }).beyondTolerance === true) this.pendingDiscrepancy = e;
      const before = this.state;
      this.state = evolve(before, e);
      // History is folded, not re-judged: only events appended after start can trip the breaker.
      if (live(e)) {
        const trip = circuitBreaker(before, e);
        if (trip) await this.trip(trip, e);
      }
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
