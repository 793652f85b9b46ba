// Keeps the trading state (mode, limits, exposure, in-flight trades, daily P&L, order rate) and
// the recent screening history current by following the log, and trips the circuit breaker on
// live events. Commands and the saga read it; only events change it.
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { historyFromScreened } from '../compliance/events.js';
import type { ScreeningHistoryItem } from '../compliance/rules.js';
import type { RecordedEvent } from '../ledger/envelope.js';
import { WrongExpectedRevisionError } from '../ledger/errors.js';
import { newEvent } from '../ledger/event-types.js';
import { EVENT_STORE, type EventStore, type Subscription } from '../ledger/event-store.port.js';
import { circuitBreaker, circuitBreakerPausePayload, CIRCUIT_BREAKER_ACTOR } from './circuit-breaker.js';
import { evolve, initialEngineState, type EngineState } from './engine-state.js';
import { EnginePaused, ENGINE_STREAM_ID } from './events.js';
import { defaultRiskLimits } from './limits.js';
import { Metrics } from '../shared/metrics/metrics.js';
import { tokenByMint } from '../market/tokens.js';
import { SQL_CLIENT } from '../ledger/ledger.module.js';
import type { SqlClient } from '../shared/sql/sql-client.js';
import { SnapshotStore } from '../shared/sql/snapshots.js';

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
];

/** What the compliance history needs of a ComplianceScreened event. */
interface ScreeningMemo {
  type: string;
  payload: unknown;
  recordedAt: string;
}

interface EngineSnapshot {
  engine: EngineState;
  screenings: ScreeningMemo[];
  limitsVersion: number;
  lastFailure: RecordedEvent | null;
}

const SNAPSHOT_NAME = 'engine-state';
/** Bump when the fold (engine-state.ts evolve) or this snapshot's shape changes. */
const SNAPSHOT_VERSION = 1;
/** Positions between snapshots. */
const SNAPSHOT_EVERY = 5_000n;

/** Screenings kept in memory for the velocity and structuring rules. */
const SCREENING_MEMORY_MS = 24 * 3600_000;

@Injectable()
export class EngineStateService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EngineState');
  private state: EngineState;
  private screenings: ScreeningMemo[] = [];
  private readonly snapshots: SnapshotStore;
  private snapshotAt = 0n;
  private saving: Promise<void> | null = null;
  /** Position of the snapshot this run started from (0n: folded the whole history). */
  startedFromSnapshot = 0n;
  private position = 0n;
  /** Events at or below this position were history at start: they never trip the breaker again. */
  private liveAfter = 0n;
  /** The latest failed or expired fill folded, as the cause of a pause decided on start. */
  private lastFailure: RecordedEvent | null = null;
  private sub: Subscription | null = null;
  private readonly waiters: { target: bigint; resolve: () => void }[] = [];

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SQL_CLIENT) sql: SqlClient,
    private readonly metrics: Metrics,
  ) {
    this.state = initialEngineState(defaultRiskLimits());
    this.snapshots = new SnapshotStore(sql);
  }

  private started: Promise<void> | null = null;

  onApplicationBootstrap(): Promise<void> {
    return this.start();
  }

  /** Folds the history and starts following the log; idempotent (the saga awaits it too). */
  start(): Promise<void> {
    this.started ??= this.load();
    return this.started;
  }

  private async load(): Promise<void> {
    // Start from the latest snapshot (if any), fold the rest of the history, then follow live
    // appends from where the history ended.
    this.liveAfter = await this.store.headPosition();
    const snap = await this.snapshots.load<EngineSnapshot>(SNAPSHOT_NAME, SNAPSHOT_VERSION).catch((err) => {
      this.logger.warn(`snapshot unreadable, folding the whole history: ${(err as Error).message}`);
      return null;
    });
    if (snap && snap.position <= this.liveAfter) {
      // Limits from config apply until the log changes them: a snapshot keeps only what events set.
      this.state = snap.state.limitsVersion > 0 ? snap.state.engine : { ...snap.state.engine, limits: this.state.limits };
      this.screenings = snap.state.screenings;
      this.lastFailure = snap.state.lastFailure ?? null;
      this.position = snap.position;
      this.snapshotAt = snap.position;
      this.startedFromSnapshot = snap.position;
    }
    for (;;) {
      const page = await this.store.readAll({ after: this.position, maxCount: 5000, filter: { eventTypes: ENGINE_STATE_EVENT_TYPES } });
      if (!page.length) break;
      await this.apply(page);
    }
    this.sub = this.store.subscribeToAll({
      after: this.position,
      filter: { eventTypes: ENGINE_STATE_EVENT_TYPES },
      batchSize: 1000,
      onEvents: (events) => this.apply(events),
      onError: (err) => this.logger.warn(`following the log failed, retrying: ${err.message}`),
    });
    await this.tripMissedOnStart();
    this.logger.log(`engine ${this.state.mode}${this.state.reason ? ` (${this.state.reason})` : ''}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sub?.stop();
    await this.saving;
    if (this.started && this.position > this.snapshotAt) await this.saveSnapshot();
  }

  /** Writes the current state as the snapshot; a failure only costs a longer next start. */
  private async saveSnapshot(): Promise<void> {
    const position = this.position;
    const state: EngineSnapshot = {
      engine: this.state,
      screenings: this.screenings,
      limitsVersion: this.state.limitsVersion,
      lastFailure: this.lastFailure,
    };
    try {
      await this.snapshots.save(SNAPSHOT_NAME, SNAPSHOT_VERSION, { position, state });
      this.snapshotAt = position;
    } catch (err) {
      this.logger.warn(`could not save the engine state snapshot: ${(err as Error).message}`);
    }
  }

  current(): EngineState {
    return this.state;
  }

  /** Recent screenings that were let through, for the compliance rules. */
  screeningHistory(): ScreeningHistoryItem[] {
    return historyFromScreened(this.screenings);
  }

  /** Resolves once the event at `position` (one of ENGINE_STATE_EVENT_TYPES) is folded in. */
  caughtUp(position: bigint, timeoutMs = 10_000): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.waiters.findIndex((w) => w.resolve === done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`engine state did not reach position ${position} within ${timeoutMs} ms (at ${this.position})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      this.waiters.push({ target: position, resolve: done });
    });
  }

  /**
   * History is folded, not re-judged, so an old incident never pauses the engine again. One
   * exception: a run of failed fills that had reached the breaker's threshold when the engine
   * stopped without its pause recorded (a crash in between). The state still says so: pause now.
   */
  private async tripMissedOnStart(): Promise<void> {
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

  private async apply(events: RecordedEvent[]): Promise<void> {
    for (const e of events) {
      if (e.type === 'FillFailed' || e.type === 'TransactionExpired') this.lastFailure = e;
      const before = this.state;
      this.state = evolve(before, e);
      if (e.type === 'ComplianceScreened') this.rememberScreening(e);
      if (e.position > this.liveAfter) {
        const trip = circuitBreaker(before, e);
        if (trip) await this.trip(trip, e);
      }
      this.position = e.position;
    }
    this.publish();
    if (!this.saving && this.position - this.snapshotAt >= SNAPSHOT_EVERY) {
      this.saving = this.saveSnapshot().finally(() => (this.saving = null));
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.position >= this.waiters[i].target) this.waiters.splice(i, 1)[0].resolve();
    }
  }

  private publish(): void {
    for (const mode of ['ACTIVE', 'PAUSED', 'REDUCING'] as const) this.metrics.engineState.set({ mode }, this.state.mode === mode ? 1 : 0);
    for (const [mint, usd] of Object.entries(this.state.exposureByToken)) {
      this.metrics.exposure.set({ token: tokenByMint(mint)?.symbol ?? mint }, Number(usd));
    }
  }

  private rememberScreening(e: RecordedEvent): void {
    this.screenings.push({ type: e.type, payload: e.payload, recordedAt: e.recordedAt });
    const cutoff = Date.parse(e.recordedAt) - SCREENING_MEMORY_MS;
    if (this.screenings.length > 10_000 || Date.parse(this.screenings[0].recordedAt) < cutoff) {
      this.screenings = this.screenings.filter((s) => Date.parse(s.recordedAt) >= cutoff).slice(-10_000);
    }
  }

  /** Appends the circuit breaker's EnginePaused; returns its position, or null if nothing was written. */
  private async trip(trip: ReturnType<typeof circuitBreaker> & object, cause: RecordedEvent): Promise<bigint | null> {
    const payload = circuitBreakerPausePayload(trip);
    try {
      const current = await this.store.readStream(ENGINE_STREAM_ID, { direction: 'backward', maxCount: 1 });
      // Another process may have paused already: only pause an engine that is not paused.
      if (current[0]?.type === 'EnginePaused') return null;
      const written = await this.store.append(
        ENGINE_STREAM_ID,
        [
          newEvent(EnginePaused, payload, {
            correlationId: cause.metadata.correlationId,
            causationId: cause.id,
            actor: CIRCUIT_BREAKER_ACTOR,
            tenant: cause.metadata.tenant,
          }),
        ],
        current.length ? current[0].revision : 'no_stream',
      );
      this.logger.warn(`circuit breaker paused the engine: ${payload.reason}`);
      return written.position;
    } catch (err) {
      if (!(err instanceof WrongExpectedRevisionError)) {
        this.logger.error(`circuit breaker could not pause the engine: ${(err as Error).message}`);
      } // else someone changed the engine state first
      return null;
    }
  }
}
