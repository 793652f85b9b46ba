// Drives sagas to their end by dispatching commands, and on start finds sagas a previous run
// left unfinished and resumes (or closes) each one from its events. The engine loop feeds it the
// opportunities of the market source when ENGINE_AUTOSTART is on. While the database is away it
// takes no step (a saga waits where it is, no new one starts); on shutdown it drains.
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { SCREENING, type Screening } from '../compliance/screening.port.js';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { OPPORTUNITY_SOURCE, type OpportunityCandidate, type OpportunityRun, type OpportunitySource } from '../market/opportunity-source.port.js';
import { ENGINE_STATE, type EngineStateView } from '../risk/engine-state.port.js';
import { Metrics } from '../shared/metrics/metrics.js';
import { SQL_CLIENT, type SqlClient } from '../shared/sql/sql-client.js';
import { isConnectionError } from '../shared/sql/availability.js';
import { EventStoreUnavailableError, FencedError } from '../ledger/errors.js';
import { assertEngineMayAct } from '../ledger/leadership/fencing.js';
import { LeadershipService } from '../ledger/leadership/leadership.service.js';
import { randomUUID } from 'node:crypto';
import { AdvanceArbitrage, DetectOpportunity, FlattenInventory, type FlattenResult } from './commands.js';
import { SAGA_STREAM_PREFIX, sagaStreamId as sagaStreamIdOf } from './events.js';
import { OPEN_SAGAS, type OpenSagaIndex } from './open-sagas.port.js';
import { SAGA_ENDING_EVENT_TYPES, SAGA_OPEN_PHASES, sagaOutcomeOf } from './outcomes.js';
import type { SagaState } from './saga.js';
import { pause, retry } from '../shared/retry.js';
import { withLogContext } from '../shared/logging/log-context.js';

const sagaLogContext = (opportunityId: string) => ({ correlationId: opportunityId, opportunityId });
import { TRADING_CONFIG, type TradingConfig } from './trading.config.js';
import { ReconciliationService } from './reconciliation.service.js';

/** How often a saga step that failed for a passing reason (venue unreachable…) is retried. */
/** A failed step (not a lost database) is tried this often in all, with jittered backoff (src/shared/retry.ts). */
const STEP_RETRY = { maxAttempts: 5, baseDelayMs: 400, maxDelayMs: 5_000 };

@Injectable()
export class ArbitrageSagaService implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('Engine');
  private run: OpportunityRun | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopping = false;
  /** Aborted when a drain runs out of time (or by stop()): sagas stop at their next safe point. */
  private halt = new AbortController();
  /** While leading: sells inventory whenever the engine is REDUCING (one sale per mint at a time). */
  private reducer: NodeJS.Timeout | null = null;
  private reducing = false;

  constructor(
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(OPPORTUNITY_SOURCE) private readonly opportunities: OpportunitySource,
    @Inject(TRADING_CONFIG) private readonly config: TradingConfig,
    @Inject(ENGINE_STATE) private readonly engine: EngineStateView,
    @Inject(SCREENING) private readonly screening: Screening,
    @Inject(OPEN_SAGAS) private readonly openSagas: OpenSagaIndex,
    private readonly metrics: Metrics,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    private readonly leadership: LeadershipService,
    private readonly reconciliation: ReconciliationService,
  ) {}

  /**
   * With HA off the engine runs here at once; with it on, when (and each time) this node takes
   * the lease, and it stops each time it steps down. A standby only follows the log.
   */
  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([this.engine.ready(), this.screening.ready()]);
    await this.leadership.start({ onLead: () => this.lead(), onStepDown: () => this.stop() });
  }

  private async lead(): Promise<void> {
    this.startReducer();
    if (!this.leadership.enabled) {
      const resumed = await this.recoverUnfinished();
      if (resumed) this.logger.log(`resumed ${resumed} unfinished saga(s) from the log`);
      // Balances first: a discrepancy beyond tolerance pauses the engine before its first trade.
      await this.reconciliation.startLeading();
      if (this.config.autostart) this.start();
      return;
    }
    // A takeover: decide only on the whole log. The state views follow it; wait until they have
    // folded everything up to the head as it is now (the old leader wrote its last events there).
    const head = await this.store.headPosition();
    await Promise.all([this.engine.caughtUpThrough(head, 30_000), this.screening.caughtUpThrough(head, 30_000)]);
    // The old leader may have died between the event that met the breaker's condition and its
    // pause: judge the caught-up state before any step, so the loop never starts on it.
    await this.engine.tripMissed('takeover');
    this.stopping = false;
    if (this.halt.signal.aborted) this.halt = new AbortController();
    // Resume the old leader's unfinished sagas beside new ones (recovery never re-sends blindly:
    // a signed saga asks the venue first), so trading starts again at once.
    this.track(
      this.leadership.run(async () => {
        const resumed = await this.recoverUnfinished();
        if (resumed) this.logger.log(`resumed ${resumed} unfinished saga(s) from the log`);
      }),
    );
    // Only the leader reconciles; it postpones while the resumed sagas are in flight.
    await this.reconciliation.startLeading();
    if (this.config.autostart) this.start();
  }

  /** First of the shutdown hooks: the engine drains while the store, the state and the projections still run. */
  async onModuleDestroy(): Promise<void> {
    await this.drain();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Starts taking opportunities from the market source. */
  start(): void {
    if (this.run) return;
    this.stopping = false;
    if (this.halt.signal.aborted) this.halt = new AbortController();
    this.run = this.opportunities.start(
      (candidate) => {
        if (this.stopping || !this.leadership.mayAct()) return;
        // The market offers round trips. Paused, risk would refuse every saga; REDUCING, every
        // round trip (inventory sales start on their own timer): take no quote (an upstream call
        // each) and write no refusals. Risk still refuses one that started before the mode changed.
        const mode = this.engine.current().mode;
        if (mode === 'PAUSED' || mode === 'REDUCING') return;
        if (!this.sql.availability.available) {
          this.logger.debug(`skipping ${candidate.opportunityId}: the database is unreachable`);
          return;
        }
        if (this.inFlight.size >= this.config.concurrency) {
          this.logger.debug(`skipping ${candidate.opportunityId}: ${this.inFlight.size} sagas already running`);
          return;
        }
        this.track(this.leadership.run(() => this.runNew(candidate)));
      },
      (err) => this.logger.error(`opportunity source: ${(err as Error).message}`),
    );
    this.logger.log('engine loop started');
  }

  /** Stops at once: every saga in flight stops after the step it is in (a safe point: all is recorded). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopReducer();
    this.reconciliation.stopLeading();
    this.halt.abort(new Error('the engine is stopping'));
    this.run?.stop();
    this.run = null;
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Graceful stop (SIGTERM): no new saga; sagas in flight go on to their end for up to
   * ENGINE_DRAIN_TIMEOUT_MS, then stop at their next safe point (between steps, or a confirm
   * that stops waiting: a restart asks the venue about the recorded signature).
   */
  async drain(): Promise<void> {
    this.stopping = true;
    this.stopReducer();
    this.run?.stop();
    this.run = null;
    if (this.inFlight.size === 0) return;
    const n = this.inFlight.size;
    this.logger.log(`draining: ${n} saga(s) in flight, up to ${this.config.drainTimeoutMs} ms (ENGINE_DRAIN_TIMEOUT_MS)`);
    const started = Date.now();
    const timer = setTimeout(() => this.halt.abort(new Error('the drain ran out of time')), this.config.drainTimeoutMs);
    try {
      await Promise.allSettled([...this.inFlight]);
    } finally {
      clearTimeout(timer);
    }
    this.logger.log(`drained ${n} saga(s) in ${Date.now() - started} ms${this.halt.signal.aborted ? ' (some stopped at a safe point, to be resumed on start)' : ''}`);
  }

  /**
   * The REDUCING mode's wind-down: every ENGINE_REDUCING_SALE_EVERY_MS, while the engine is
   * REDUCING, sell what inventory no open sale holds (FlattenInventory, trigger 'reducing'). A sale
   * that failed is followed by a new one at the next tick at the earliest.
   */
  private startReducer(): void {
    if (this.reducer) return;
    this.reducer = setInterval(() => void this.reduceOnce(), this.config.reducingSaleEveryMs);
    this.reducer.unref();
  }

  private stopReducer(): void {
    if (this.reducer) clearInterval(this.reducer);
    this.reducer = null;
  }

  private async reduceOnce(): Promise<void> {
    if (this.reducing || this.stopping || !this.leadership.mayAct() || !this.sql.availability.available) return;
    if (this.engine.current().mode !== 'REDUCING') return;
    this.reducing = true;
    try {
      await this.commands.execute<FlattenInventory, FlattenResult>(
        new FlattenInventory({ actor: 'engine', correlationId: randomUUID() }, 'engine is REDUCING: inventory is sold back to its base token', 'reducing'),
      );
    } catch (err) {
      this.logger.warn(`REDUCING: could not start inventory sales: ${(err as Error).message}`);
    } finally {
      this.reducing = false;
    }
  }

  /** Drives a saga someone else recorded (an inventory sale) to its end, tracked like the loop's own. */
  driveInBackground(opportunityId: string): void {
    if (this.stopping || !this.leadership.mayAct()) {
      this.logger.warn(`${opportunityId}: recorded, not driven now (the engine is stopping or not leading); the next start or leader resumes it from the log`);
      return;
    }
    this.track(this.leadership.run(() => this.drive(opportunityId, false)));
  }

  private track(p: Promise<unknown>): void {
    const t = p
      .catch((err) => (err instanceof FencedError ? this.logger.warn(`stopped: ${err.message}`) : this.logger.error((err as Error).message))).finally(() => this.inFlight.delete(t));
    this.inFlight.add(t);
  }

  /** Records a new opportunity and runs its saga to the end. */
  async runNew(candidate: OpportunityCandidate): Promise<SagaState> {
    return withLogContext(sagaLogContext(candidate.opportunityId), async () => {
      await this.commands.execute(new DetectOpportunity(candidate));
      return this.drive(candidate.opportunityId, false);
    });
  }

  /**
   * Runs one saga's remaining steps until it finishes (or the engine stops). Every line logged
   * on the way, here or in the steps, carries the saga's correlation id (its opportunity id,
   * which is also the correlation id of its events).
   */
  drive(opportunityId: string, resumed: boolean): Promise<SagaState> {
    return withLogContext(sagaLogContext(opportunityId), () => this.driveSteps(opportunityId, resumed));
  }

  private async driveSteps(opportunityId: string, resumed: boolean): Promise<SagaState> {
    const halt = this.halt.signal;
    // Losing the database mid-step is not the saga's failure: it is never retried as one (the
    // loop below waits for the database, then goes on from what the log has: an append that did
    // commit is seen, never repeated).
    const databaseLost = (err: unknown) => !this.sql.availability.available || isConnectionError(err) || err instanceof EventStoreUnavailableError;
    for (;;) {
      // No step past the lease deadline (HA): the next leader resumes the saga from the log.
      assertEngineMayAct(sagaStreamIdOf(opportunityId));
      // No step while the database is away: the saga waits where the log has it.
      if (!this.sql.availability.available) {
        this.logger.warn(`${opportunityId}: waiting for the database before the next step`);
        await this.sql.availability.whenAvailable(halt);
      }
      try {
        const s = await retry(() => this.commands.execute<AdvanceArbitrage, SagaState>(new AdvanceArbitrage(opportunityId, resumed, halt)), {
          policy: STEP_RETRY,
          retryable: (err) => !halt.aborted && !databaseLost(err) && !(err instanceof FencedError),
          signal: halt,
          onRetry: (err, n) => {
            this.metrics.sagaStepFailuresTotal.inc();
            this.metrics.sagaStepRetriesTotal.inc();
            this.logger.warn(`${opportunityId}: step failed (${n}/${STEP_RETRY.maxAttempts}): ${(err as Error).message}`);
          },
          onGiveUp: (err, n, retryable) => {
            if (!halt.aborted && (retryable || !databaseLost(err))) {
              this.metrics.sagaStepFailuresTotal.inc();
              this.logger.warn(`${opportunityId}: step failed (${n}/${STEP_RETRY.maxAttempts}): ${(err as Error).message}`);
            }
            return err;
          },
        });
        if (s.phase === 'finished' || halt.aborted) return s;
      } catch (err) {
        if (halt.aborted || err instanceof FencedError || !databaseLost(err)) throw err;
        await this.sql.availability.whenAvailable(halt).catch(() => undefined);
        if (this.sql.availability.available) await pause(200, halt);
      }
    }
  }

  /**
   * Finds sagas with a detection but no ending and drives each to its end. The open-saga index
   * (the executions read model) answers for the log up to its position; the log after it is
   * scanned. So a start does not read the whole history.
   */
  async recoverUnfinished(): Promise<number> {
    const halt = this.halt.signal; // this run's: a later leadership starts a new one
    const { ids: open, asOf } = await this.openInIndex();
    let after = asOf;
    for (;;) {
      const page = await this.store.readAll({
        after,
        maxCount: 5000,
        filter: { streamPrefix: SAGA_STREAM_PREFIX, eventTypes: ['OpportunityDetected', ...SAGA_ENDING_EVENT_TYPES] },
      });
      if (!page.length) break;
      for (const e of page) {
        const id = e.streamId.slice(SAGA_STREAM_PREFIX.length);
        if (e.type === 'OpportunityDetected') open.add(id);
        else if (sagaOutcomeOf(e)) open.delete(id);
      }
      after = page[page.length - 1].position;
    }
    for (const id of open) {
      try {
        await this.drive(id, true);
      } catch (err) {
        // Stepping down (HA) or stopping ends recovery here: nothing is lost, the sagas stay open
        // in the log and whoever leads next resumes them.
        if (halt.aborted || err instanceof FencedError) {
          this.logger.warn(`stopped resuming unfinished sagas (${(err as Error).message}); the next start or leader resumes them from the log`);
          break;
        }
        this.logger.error(`could not resume saga ${id}: ${(err as Error).message}`);
      }
    }
    return open.size;
  }

  private async openInIndex(): Promise<{ ids: Set<string>; asOf: bigint }> {
    try {
      return await this.openSagas.openAsOf(SAGA_OPEN_PHASES);
    } catch (err) {
      this.logger.warn(`open-saga index unavailable, scanning the whole log for unfinished sagas: ${(err as Error).message}`);
      return { ids: new Set(), asOf: 0n };
    }
  }
}
