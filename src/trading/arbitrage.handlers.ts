// The command handlers of the arbitrage saga: the thin I/O shell around the pure workflow in
// saga.ts. AdvanceArbitrage loads the saga's stream, folds it, performs the I/O its next step
// needs (quotes, prices, signer, venue), hands the results to `decide`, and appends what was
// decided at the stream's expected revision, so two engines can never both take a step. Every
// branch (stale, failed, retryable, the submit cases) is the decider's; none is here.
import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ComplianceFlagRaised, flagStreamId } from '../compliance/events.js';
import { SCREENING, type Screening } from '../compliance/screening.port.js';
import { VenueError } from '../execution/errors.js';
import { preparedFromPayload } from '../execution/events.js';
import { VENUE, type Venue } from '../execution/venue.port.js';
import type { EventMetadata, NewEvent } from '../ledger/envelope.js';
import { newEvent } from '../ledger/event-types.js';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { decideAndAppend } from '../ledger/decide-and-append.js';
import { assertEngineMayAct } from '../ledger/leadership/fencing.js';
import { isMarketDataError } from '../market/errors.js';
import { OpportunityDetected, opportunityDetectedPayload } from '../market/events.js';
import { MARKET_CONFIG, type MarketConfig } from '../market/market.config.js';
import { PRICE_FEED, type PriceFeed, type PriceObservation } from '../market/price-feed.port.js';
import { QUOTE_SOURCE, roundTripQuote, type QuoteSource } from '../market/quote-source.port.js';
import { ROUTE_INSTRUCTIONS, type RouteInstructionsSource } from '../market/route-instructions.port.js';
import type { TradeIntent } from '../execution/venue.port.js';
import { composesRoundTrips, MAX_ACCOUNTS_STEPS, roundTripLegs } from './round-trip-legs.js';
import { ENGINE_STATE, type EngineStateView } from '../risk/engine-state.port.js';
import { Metrics } from '../shared/metrics/metrics.js';
import bs58 from 'bs58';
import { normaliseFeedId, SOL, tokenByMint } from '../shared/tokens.js';
import { transactionSignedPayload } from '../signing/events.js';
import { SIGNER, type Signer } from '../signing/signer.port.js';
import { AdvanceArbitrage, DetectOpportunity } from './commands.js';
import { sagaStreamId, type SagaStep } from './events.js';
import {
  chainsIntoPrevious,
  decide,
  evolve,
  fillQuery,
  foldSaga,
  isInventorySale,
  nextStep,
  RetryableStepError,
  submitAction,
  type OpenSagaState,
  type SagaDecision,
  type SagaInput,
  type SagaState,
} from './saga.js';
import { TRADING_CONFIG, type TradingConfig } from './trading.config.js';
import { KnownSagas } from './known-sagas.js';

/** One lock for the steps that read and change the shared trading state (risk, compliance). */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

const ENGINE_ACTOR = 'engine';

/**
 * The state an event about to be appended gives (its revision is the next one): what a chained
 * step is decided on. The append still checks the expected revision of the first event.
 */
const provisional = (s: SagaState, e: NewEvent): SagaState =>
  evolve(s, { id: e.id, type: e.type, payload: e.payload, revision: s.revision + 1n, recordedAt: e.recordedAt, metadata: e.metadata });

const metaOf = (s: SagaState): EventMetadata => ({
  correlationId: s.phase === 'new' ? s.opportunityId : s.correlationId,
  causationId: s.phase === 'new' ? null : s.lastEventId,
  actor: ENGINE_ACTOR,
  tenant: 'default',
});

@CommandHandler(DetectOpportunity)
export class DetectOpportunityHandler implements ICommandHandler<DetectOpportunity, SagaState> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly metrics: Metrics,
    private readonly known: KnownSagas,
  ) {}

  async execute({ candidate }: DetectOpportunity): Promise<SagaState> {
    const { opportunityId } = candidate;
    const streamId = sagaStreamId(opportunityId);
    const { state } = await decideAndAppend(this.store, {
      streamId,
      known: { state: foldSaga(opportunityId, []), revision: -1n },
      retries: 0,
      fold: (events) => foldSaga(opportunityId, events),
      evolve,
      decide: (s) => [newEvent(OpportunityDetected, opportunityDetectedPayload(candidate), metaOf(s))],
    });
    this.known.set(streamId, state);
    this.metrics.sagasStartedTotal.inc();
    return state;
  }
}

@CommandHandler(AdvanceArbitrage)
export class AdvanceArbitrageHandler implements ICommandHandler<AdvanceArbitrage, SagaState> {
  private readonly logger = new Logger('Saga');
  private static readonly shared = new Mutex();
  /**
   * Where the last risk and compliance decisions taken under the shared lock were recorded: the
   * next one waits, under the lock, until the views have folded them (they must see it: order
   * rate, exposure in flight, velocity). Waiting there rather than right after the append keeps
   * that wait out of the step's own span; the views have usually folded it by then.
   */
  private decidedAt: { engine?: bigint; screening?: bigint } = {};

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PRICE_FEED) private readonly prices: PriceFeed,
    @Inject(QUOTE_SOURCE) private readonly quotes: QuoteSource,
    @Inject(ROUTE_INSTRUCTIONS) private readonly routes: RouteInstructionsSource,
    @Inject(MARKET_CONFIG) private readonly market: MarketConfig,
    @Inject(SIGNER) private readonly signer: Signer,
    @Inject(VENUE) private readonly venue: Venue,
    @Inject(TRADING_CONFIG) private readonly config: TradingConfig,
    @Inject(ENGINE_STATE) private readonly engine: EngineStateView,
    @Inject(SCREENING) private readonly screening: Screening,
    private readonly metrics: Metrics,
    private readonly known: KnownSagas,
  ) {}

  async execute({ opportunityId, resumed, signal }: AdvanceArbitrage): Promise<SagaState> {
    const streamId = sagaStreamId(opportunityId);
    // The state our own last append left (no read), or the stream as the log has it.
    const s = this.known.get(streamId) ?? foldSaga(opportunityId, await this.store.readStream(streamId));
    if (s.phase === 'new') throw new Error(`no opportunity ${opportunityId} has been detected`);
    if (s.phase === 'finished') return s;
    const step = nextStep(s) as SagaStep;
    const started = performance.now();
    const take = () =>
      decideAndAppend(this.store, {
        streamId,
        known: { state: s, revision: s.revision },
        retries: 0, // a step another engine took is not taken again: its I/O must never repeat blindly
        fold: (events) => foldSaga(opportunityId, events),
        evolve,
        decide: (state) => this.step(state, resumed, signal),
      }).then(
        (r) => {
          this.known.set(streamId, r.state);
          if (r.state.phase === 'finished') this.finished(r.state);
          return r;
        },
        (err: unknown) => {
          this.known.forget(streamId);
          throw err;
        },
      );
    try {
      if (step !== 'risk' && step !== 'compliance') return (await take()).state;
      // Risk and compliance read and change the shared trading state: one at a time, and each one
      // must see the one before (order rate, exposure in flight, velocity).
      return await AdvanceArbitrageHandler.shared.run(async () => {
        const before = this.decidedAt;
        await Promise.all([
          before.engine !== undefined ? this.engine.caughtUp(before.engine) : undefined,
          before.screening !== undefined ? this.screening.caughtUp(before.screening) : undefined,
        ]);
        const { state, receipts } = await take();
        // Only a decision the views fold counts (an abandonment is none of theirs), at that
        // decision's own position: a follower reaches only positions of the types it follows, and
        // the same append may carry the signed transaction after it.
        const last = (...types: string[]) => receipts.filter((r) => types.includes(r.type)).at(-1)?.position;
        const decided = last('RiskAssessed', 'ComplianceScreened');
        const screened = last('ComplianceScreened');
        this.decidedAt = {
          engine: decided !== undefined ? BigInt(decided) : before.engine,
          screening: screened !== undefined ? BigInt(screened) : before.screening,
        };
        return state;
      });
    } finally {
      this.metrics.sagaStepDurationSeconds.observe({ step }, (performance.now() - started) / 1000);
    }
  }

  /**
   * Performs the step's I/O, asks the decider, raises its flags; then goes on with the steps that
   * chain into it (risk → compliance → sign, `chainsIntoPrevious`), each decided on the state the
   * previous one's events give, and returns all their saga events for one append. A passing
   * failure of a chained step keeps what was decided before it (recorded now, the step retried
   * later); on its own it records nothing, as before. A chained step that raises compliance flags
   * is left to the next command.
   */
  private async step(s: SagaState, resumed: boolean, signal?: AbortSignal): Promise<NewEvent[]> {
    const stale = this.decided(decide({ kind: 'StepStarted', at: new Date(), resumed, maxSagaAgeMs: this.config.maxSagaAgeMs }, s));
    if (stale.events.length) {
      this.logger.warn(`${s.opportunityId}: abandoned at ${nextStep(s)}: ${(stale.events[0].payload as { reason: string }).reason}`);
      return this.toEvents(s, stale);
    }
    // A deposed leader (past its lease deadline) starts no I/O: it signs nothing, sends nothing.
    assertEngineMayAct(sagaStreamId(s.opportunityId));
    const events = await this.toEvents(s, this.decided(decide(await this.io(s, signal, resumed), s)));
    let at = events.reduce(provisional, s);
    while (chainsIntoPrevious(at)) {
      assertEngineMayAct(sagaStreamId(s.opportunityId));
      const d = decide(await this.io(at, signal, resumed), at);
      if (d instanceof RetryableStepError) {
        this.logger.warn(`${s.opportunityId}: ${d.step} will be retried: ${d.message}`);
        break;
      }
      // Flags go to their own streams before the saga's events and name the saga's last event as
      // their cause: that event must be recorded first, so a step that raises flags is taken on
      // its own (decided again by the next command; nothing of this decision is kept).
      if (d.flags.length) break;
      const more = await this.toEvents(at, d);
      events.push(...more);
      at = more.reduce(provisional, at);
    }
    return events;
  }

  /** The I/O the saga's phase asks for, as the decider's input. */
  private io(s: SagaState, signal?: AbortSignal, resumed = false): Promise<SagaInput> {
    switch (s.phase) {
      case 'detected':
        return this.quote(s);
      case 'quoted':
        return this.riskInputs(s);
      case 'approved':
        return this.screeningInputs();
      case 'screened':
      case 'prepared':
        return this.sign(s);
      case 'signed':
        return this.submit(s, signal, resumed);
      case 'submitted':
        return this.confirm(s, signal, resumed);
      case 'new':
      case 'finished':
        throw new Error(`a ${s.phase} saga has no next step`);
    }
  }

  /** A retryable refusal is thrown (nothing recorded; the engine tries the step again later). */
  private decided(d: SagaDecision | RetryableStepError): SagaDecision {
    if (d instanceof RetryableStepError) throw d;
    return d;
  }

  /** Raises the decision's flags (each in its own stream, idempotent by id); returns its saga events. */
  private async toEvents(s: SagaState, d: SagaDecision): Promise<NewEvent[]> {
    const meta = metaOf(s);
    for (const flag of d.flags) {
      // The flag id is derived from opportunity and rule, and so is this event's id: a retried
      // screening finds the flag raised already and writes nothing.
      await decideAndAppend(this.store, {
        streamId: flagStreamId(flag.flagId),
        eventId: flag.flagId,
        fold: () => null,
        decide: () => [newEvent(ComplianceFlagRaised, flag, meta, { id: flag.flagId })],
      });
      this.metrics.complianceFlagsRaisedTotal.inc({ rule: flag.rule, severity: flag.severity });
    }
    return d.events.map((x) => newEvent(x.def, x.payload, meta));
  }

  private async screeningInputs(): Promise<SagaInput> {
    return { kind: 'ScreeningInputsObtained', at: new Date(), signerAddress: await this.signer.publicKeyBase58(), context: this.screening.context() };
  }

  private finished(s: Extract<SagaState, { phase: 'finished' }>): void {
    const { outcome } = s;
    this.metrics.sagasFinishedTotal.inc({ outcome });
    if (outcome === 'rejected_by_risk') for (const check of s.risk?.failedChecks ?? []) this.metrics.riskCheckFailuresTotal.inc({ check });
    this.metrics.sagaDurationSeconds.observe({ outcome }, Math.max(0, (Date.now() - Date.parse(s.detectedAt)) / 1000));
    const detail =
      outcome === 'rejected_by_risk' ? `: ${s.risk?.failedChecks.join(', ')}` : outcome === 'blocked_by_compliance' ? `: flags ${s.screened?.flags.length ?? 0}` : '';
    const r = s.detected.route;
    this.logger.log(`${s.opportunityId} ${r.symbolA}→${r.symbolB}→${r.symbolA} ${outcome}${detail}`);
  }

  private feedOf(mint: string): string {
    const t = tokenByMint(mint);
    if (!t) throw new Error(`no Pyth feed is known for mint ${mint}`);
    return normaliseFeedId(t.pythFeedId);
  }

  private async latest(mints: string[]): Promise<Map<string, PriceObservation>> {
    const feeds = [...new Set(mints.map((m) => this.feedOf(m)))];
    const obs = await this.prices.latest(feeds);
    const byFeed = new Map(obs.map((o) => [normaliseFeedId(o.feedId), o]));
    const out = new Map<string, PriceObservation>();
    for (const m of mints) {
      const o = byFeed.get(this.feedOf(m));
      if (!o) throw new Error(`no price came back for mint ${m}`);
      out.set(m, o);
    }
    return out;
  }

  // 1. Quote: Jupiter round trip A → B → A, and the Pyth price of A it is checked against.
  private async quote(s: Extract<SagaState, { phase: 'detected' }>): Promise<SagaInput> {
    const d = s.detected;
    try {
      const nextLegSpends = composesRoundTrips(this.venue.name, this.routes) ? 'minimumOut' : 'outAmount';
      // An inventory sale is one leg, mintA (held) → mintB (base); it seeks no profit (expectedProfit 0).
      const quote = isInventorySale(s)
        ? { legs: [await this.quotes.quote({ inputMint: d.route.mintA, outputMint: d.route.mintB, amount: BigInt(d.amountIn), slippageBps: this.market.slippageBps })], expectedProfit: 0n }
        : await roundTripQuote(this.quotes, { mintA: d.route.mintA, mintB: d.route.mintB, amount: BigInt(d.amountIn), slippageBps: this.market.slippageBps, nextLegSpends });
      const price = (await this.latest([d.route.mintA])).get(d.route.mintA) as PriceObservation;
      return { kind: 'QuoteObtained', at: new Date(), quote, price };
    } catch (err) {
      const m = isMarketDataError(err) ? err : null;
      return { kind: 'QuoteUnavailable', at: new Date(), source: m?.source ?? 'market', code: m?.code ?? 'UNEXPECTED', message: (err as Error).message };
    }
  }

  // 2. Risk: the prices the checks need, and the trading state as the log has it.
  private async riskInputs(s: OpenSagaState): Promise<SagaInput> {
    const mintB = s.detected.route.mintB;
    try {
      const prices = await this.latest([mintB, SOL.mint]);
      const scaled = (o: PriceObservation | undefined) => ({ price: (o as PriceObservation).price, expo: (o as PriceObservation).expo });
      return {
        kind: 'RiskInputsObtained',
        at: new Date(),
        priceB: scaled(prices.get(mintB)),
        solPrice: scaled(prices.get(SOL.mint)),
        solMint: SOL.mint,
        engine: this.engine.current(),
        priorityFeeMicroLamports: this.config.priorityFeeMicroLamports,
        computeUnitLimit: this.config.computeUnitLimit,
      };
    } catch (err) {
      return { kind: 'RiskInputsUnavailable', at: new Date(), message: (err as Error).message };
    }
  }

  // 4. Sign: build the transaction and sign it; both are recorded before anything is sent.
  private async sign(s: Extract<SagaState, { phase: 'screened' | 'prepared' }>): Promise<SagaInput> {
    const d = s.detected;
    const last = s.quote.legs[s.quote.legs.length - 1];
    try {
      if (!last) throw new Error('the quote has no legs');
      const pub = await this.signer.publicKey();
      const intent: TradeIntent = {
        opportunityId: s.opportunityId,
        inputMint: d.route.mintA,
        outputMint: last.outputMint,
        inAmount: BigInt(d.amountIn),
        expectedOut: BigInt(last.outAmount),
        quoteRaw: s.quote.legs.map((l) => l.raw),
      };
      const composes = composesRoundTrips(this.venue.name, this.routes);
      const prepared = !composes
        ? await this.venue.prepare(intent, pub)
        : isInventorySale(s)
          ? await this.prepareSale(intent, s, pub)
          : await this.prepareRoundTrip(intent, s, pub);
      const signature = await this.signer.sign(prepared.messageBytes);
      const signed = await transactionSignedPayload(this.signer, s.opportunityId, prepared.messageBytes, signature);
      return { kind: 'TransactionSignedByVenueAndSigner', prepared, signed };
    } catch (err) {
      return { kind: 'SigningFailed', at: new Date(), message: (err as Error).message, retryable: err instanceof VenueError && err.retryable };
    }
  }

  /**
   * Both legs' instructions for the signer, composed by the venue into one guarded transaction;
   * over 1232 bytes, Swap API v2 legs are built again with a lower maxAccounts.
   */
  private async prepareRoundTrip(intent: TradeIntent, s: Extract<SagaState, { phase: 'screened' | 'prepared' }>, pub: Uint8Array) {
    const routes = this.routes as RouteInstructionsSource & { api: 'v1' | 'v2' };
    const steps = MAX_ACCOUNTS_STEPS[routes.api];
    for (let i = 0; ; i++) {
      const roundTrip = await roundTripLegs(routes, {
        quoteRaws: s.quote.legs.map((l) => l.raw as never),
        taker: bs58.encode(pub),
        minProfitBaseUnits: this.engine.current().limits.minProfitBaseUnits,
        maxAccounts: steps[i],
      });
      try {
        return await this.venue.prepare({ ...intent, roundTrip }, pub);
      } catch (err) {
        if (!(err instanceof VenueError) || err.code !== 'TRANSACTION_TOO_LARGE' || i + 1 >= steps.length) throw err;
        this.logger.warn(`${s.opportunityId}: ${err.message}; building the legs again with maxAccounts ${steps[i + 1]}`);
      }
    }
  }

  /** An inventory sale: Jupiter's instructions for its one leg, composed by the venue into one v0 transaction. */
  private async prepareSale(intent: TradeIntent, s: Extract<SagaState, { phase: 'screened' | 'prepared' }>, pub: Uint8Array) {
    const leg = s.quote.legs[0];
    if (!leg || s.quote.legs.length !== 1) throw new Error(`an inventory sale has one leg (the quote has ${s.quote.legs.length})`);
    const swap = await this.routes.legInstructions({ quoteRaw: leg.raw as never, taker: bs58.encode(pub) });
    return this.venue.prepare({ ...intent, swap: { ...swap, raw: swap.raw } }, pub);
  }

  // 5. Submit: never a second transaction. Ask the venue about the recorded signature first; only
  // a signature the venue has never seen is sent, and it is always the same signed bytes.
  private async submit(s: Extract<SagaState, { phase: 'signed' }>, signal?: AbortSignal, resumed = false): Promise<SagaInput> {
    const prepared = preparedFromPayload(s.prepared);
    const status = await this.venue.status(s.signed.signature, prepared.lastValidBlockHeight);
    switch (submitAction(status)) {
      case 'send':
        return { kind: 'SubmissionChecked', at: new Date(), status, sent: await this.venue.submit(prepared, bs58.decode(s.signed.signature)) };
      case 'record-existing':
        return { kind: 'SubmissionChecked', at: new Date(), status, sent: null };
      case 'read-outcome':
        return this.confirm(s, signal, resumed);
    }
  }

  // 6. Confirm: wait for the outcome (amounts from the chain): fill, failure or expiry.
  private async confirm(s: Extract<SagaState, { phase: 'signed' | 'submitted' }>, signal?: AbortSignal, resumed = false): Promise<SagaInput> {
    const query = fillQuery(s);
    // The wait ends at the confirm timeout, or when the engine's drain runs out of time (nothing is
    // recorded then: a restart asks the venue about the recorded signature).
    const timeout = AbortSignal.timeout(this.config.confirmTimeoutMs);
    const outcome = await this.venue.confirm(query, { signal: signal ? AbortSignal.any([timeout, signal]) : timeout });
    if (outcome.status === 'confirmed' && outcome.realisedPnl !== null) {
      const token = tokenByMint(query.inputMint)?.symbol ?? query.inputMint;
      this.metrics.realisedPnlBaseUnits.inc({ token }, Number(outcome.realisedPnl));
    }
    return { kind: 'FillObserved', at: new Date(), outcome, ...(resumed ? { resumed: { maxSagaAgeMs: this.config.maxSagaAgeMs } } : {}) };
  }
}
