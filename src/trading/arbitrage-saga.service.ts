// Drives sagas to their end by dispatching commands, and on start finds sagas a previous run
// left unfinished and resumes (or closes) each one from its events. The engine loop feeds it the
// opportunities of the market source when ENGINE_AUTOSTART is on.
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { SCREENING, type Screening } from '../compliance/screening.port.js';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { OPPORTUNITY_SOURCE, type OpportunityCandidate, type OpportunityRun, type OpportunitySource } from '../market/opportunity-source.port.js';
import { ENGINE_STATE, type EngineStateView } from '../risk/engine-state.port.js';
import { Metrics } from '../shared/metrics/metrics.js';
import { AdvanceArbitrage, DetectOpportunity } from './commands.js';
import { SAGA_STREAM_PREFIX } from './events.js';
import { OPEN_SAGAS, type OpenSagaIndex } from './open-sagas.port.js';
import { SAGA_ENDING_EVENT_TYPES, SAGA_OPEN_PHASES, sagaOutcomeOf } from './outcomes.js';
import type { SagaState } from './saga.js';
import { TRADING_CONFIG, type TradingConfig } from './trading.config.js';

/** How often a saga step that failed for a passing reason (venue unreachable…) is retried. */
const STEP_RETRIES = 5;

@Injectable()
export class ArbitrageSagaService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Engine');
  private run: OpportunityRun | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(OPPORTUNITY_SOURCE) private readonly opportunities: OpportunitySource,
    @Inject(TRADING_CONFIG) private readonly config: TradingConfig,
    @Inject(ENGINE_STATE) private readonly engine: EngineStateView,
    @Inject(SCREENING) private readonly screening: Screening,
    @Inject(OPEN_SAGAS) private readonly openSagas: OpenSagaIndex,
    private readonly metrics: Metrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([this.engine.ready(), this.screening.ready()]);
    const resumed = await this.recoverUnfinished();
    if (resumed) this.logger.log(`resumed ${resumed} unfinished saga(s) from the log`);
    if (this.config.autostart) this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Starts taking opportunities from the market source. */
  start(): void {
    if (this.run) return;
    this.stopping = false;
    this.run = this.opportunities.start(
      (candidate) => {
        if (this.inFlight.size >= this.config.concurrency) {
          this.logger.debug(`skipping ${candidate.opportunityId}: ${this.inFlight.size} sagas already running`);
          return;
        }
        this.track(this.runNew(candidate));
      },
      (err) => this.logger.error(`opportunity source: ${(err as Error).message}`),
    );
    this.logger.log('engine loop started');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.run?.stop();
    this.run = null;
    await Promise.allSettled([...this.inFlight]);
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch((err) => this.logger.error((err as Error).message)).finally(() => this.inFlight.delete(t));
    this.inFlight.add(t);
  }

  /** Records a new opportunity and runs its saga to the end. */
  async runNew(candidate: OpportunityCandidate): Promise<SagaState> {
    await this.commands.execute(new DetectOpportunity(candidate));
    return this.drive(candidate.opportunityId, false);
  }

  /** Runs one saga's remaining steps until it finishes (or the engine stops). */
  async drive(opportunityId: string, resumed: boolean): Promise<SagaState> {
    let failures = 0;
    for (;;) {
      try {
        const s = await this.commands.execute<AdvanceArbitrage, SagaState>(new AdvanceArbitrage(opportunityId, resumed));
        failures = 0;
        if (s.phase === 'finished' || this.stopping) return s;
      } catch (err) {
        failures++;
        this.metrics.sagaStepFailuresTotal.inc();
        this.logger.warn(`${opportunityId}: step failed (${failures}/${STEP_RETRIES}): ${(err as Error).message}`);
        if (failures >= STEP_RETRIES || this.stopping) throw err;
        this.metrics.sagaStepRetriesTotal.inc();
        await new Promise((r) => setTimeout(r, 200 * 2 ** failures));
      }
    }
  }

  /**
   * Finds sagas with a detection but no ending and drives each to its end. The open-saga index
   * (the executions read model) answers for the log up to its position; the log after it is
   * scanned. So a start does not read the whole history.
   */
  async recoverUnfinished(): Promise<number> {
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
