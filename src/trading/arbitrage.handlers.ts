// The command handlers of the arbitrage saga. Each loads the saga's stream, folds it, performs
// exactly one step (quote → risk → compliance → sign → submit → confirm), and appends what it
// decided with the stream's expected revision, so two engines can never both take a step.
import { Inject, Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { screeningPayloads } from '../compliance/events.js';
import { ComplianceFlagRaised, ComplianceScreened } from '../compliance/events.js';
import { flagStreamId } from '../compliance/cases.js';
import { screen } from '../compliance/rules.js';
import { ComplianceService } from '../compliance/compliance.module.js';
import { VenueError } from '../execution/errors.js';
import {
  outcomeEvent,
  preparedFromPayload,
  submitOutcomeEvent,
  TransactionPrepared,
  transactionPreparedPayload,
  TransactionSubmitted,
  transactionSubmittedPayload,
} from '../execution/events.js';
import { VENUE, type FillQuery, type Venue } from '../execution/venue.port.js';
import type { EventMetadata, NewEvent } from '../ledger/envelope.js';
import { newEvent, type EventTypeDefinition } from '../ledger/event-types.js';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { isMarketDataError } from '../market/errors.js';
import { OpportunityDetected, opportunityDetectedPayload, QuoteReceived, quoteReceivedPayload } from '../market/events.js';
import { MARKET_CONFIG } from '../market/market.module.js';
import type { MarketConfig } from '../market/market.config.js';
import { PRICE_FEED, type PriceFeed, type PriceObservation } from '../market/price-feed.port.js';
import { QUOTE_SOURCE, roundTripQuote, type QuoteSource } from '../market/quote-source.port.js';
import { normaliseFeedId, SOL, tokenByMint } from '../market/tokens.js';
import { assessRisk, riskAssessedPayload } from '../risk/checks.js';
import { EngineStateService } from '../risk/engine-state.service.js';
import { RiskAssessed } from '../risk/events.js';
import { Metrics } from '../shared/metrics/metrics.js';
import { base58Decode } from '../shared/base58.js';
import { TransactionSigned, transactionSignedPayload } from '../signing/events.js';
import { SIGNER, type Signer } from '../signing/signer.port.js';
import { AdvanceArbitrage, DetectOpportunity } from './commands.js';
import { OpportunityAbandoned, QuoteFailed, sagaStreamId, type SagaStep } from './events.js';
import { riskInput, screenedTrade } from './saga-inputs.js';
import { emptySaga, evolveSaga, foldSaga, type SagaState } from './saga-state.js';
import { TRADING_CONFIG, type TradingConfig } from './trading.config.js';

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

@CommandHandler(DetectOpportunity)
export class DetectOpportunityHandler implements ICommandHandler<DetectOpportunity, SagaState> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly metrics: Metrics,
  ) {}

  async execute({ candidate }: DetectOpportunity): Promise<SagaState> {
    const event = newEvent(OpportunityDetected, opportunityDetectedPayload(candidate), {
      correlationId: candidate.opportunityId,
      causationId: null,
      actor: ENGINE_ACTOR,
      tenant: 'default',
    });
    const r = await this.store.append(sagaStreamId(candidate.opportunityId), [event], 'no_stream');
    this.metrics.arbitrageAttemptsTotal.inc();
    return evolveSaga(emptySaga(candidate.opportunityId), {
      ...event,
      streamId: sagaStreamId(candidate.opportunityId),
      revision: r.nextRevision,
      position: r.position,
      contentHash: '',
      prevHash: '',
      hash: '',
    });
  }
}

@CommandHandler(AdvanceArbitrage)
export class AdvanceArbitrageHandler implements ICommandHandler<AdvanceArbitrage, SagaState> {
  private readonly logger = new Logger('Saga');
  private static readonly shared = new Mutex();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PRICE_FEED) private readonly prices: PriceFeed,
    @Inject(QUOTE_SOURCE) private readonly quotes: QuoteSource,
    @Inject(MARKET_CONFIG) private readonly market: MarketConfig,
    @Inject(SIGNER) private readonly signer: Signer,
    @Inject(VENUE) private readonly venue: Venue,
    @Inject(TRADING_CONFIG) private readonly config: TradingConfig,
    private readonly engine: EngineStateService,
    private readonly compliance: ComplianceService,
    private readonly metrics: Metrics,
  ) {}

  async execute({ opportunityId, resumed }: AdvanceArbitrage): Promise<SagaState> {
    const stream = sagaStreamId(opportunityId);
    const s = foldSaga(opportunityId, await this.store.readStream(stream));
    if (s.phase === 'new') throw new Error(`no opportunity ${opportunityId} has been detected`);
    if (s.phase === 'finished') return s;
    const started = performance.now();
    const step = stepOf(s);
    try {
      // Before anything is signed, a saga that has waited too long (e.g. across a restart) is
      // closed: its quote and prices no longer describe the market.
      const age = Date.now() - Date.parse(s.detectedAt!);
      if (['quote', 'risk', 'compliance', 'sign'].includes(step) && age > this.config.maxSagaAgeMs) {
        return await this.abandon(s, step, `opportunity is ${Math.round(age / 1000)} s old${resumed ? ' when resumed after a restart' : ''}; its quote and prices are stale`);
      }
      switch (step) {
        case 'quote':
          return await this.quote(s);
        case 'risk':
          return await AdvanceArbitrageHandler.shared.run(() => this.risk(s));
        case 'compliance':
          return await AdvanceArbitrageHandler.shared.run(() => this.screen(s));
        case 'sign':
          return await this.sign(s);
        case 'submit':
          return await this.submit(s);
        case 'confirm':
          return await this.confirm(s);
      }
    } finally {
      this.metrics.sagaStepSeconds.observe({ step }, (performance.now() - started) / 1000);
    }
  }

  private meta(s: SagaState): EventMetadata {
    return { correlationId: s.correlationId ?? s.opportunityId, causationId: s.lastEventId, actor: ENGINE_ACTOR, tenant: 'default' };
  }

  /** Appends to the saga's stream at its expected revision and returns the new state. */
  private async record(s: SagaState, events: NewEvent[]): Promise<SagaState> {
    return (await this.recordAt(s, events)).state;
  }

  /** record() that also returns the global position of the last event written. */
  private async recordAt(s: SagaState, events: NewEvent[]): Promise<{ state: SagaState; position: bigint }> {
    const result = await this.store.append(sagaStreamId(s.opportunityId), events, s.revision);
    // Fold what was just written instead of reading the stream back: the append either wrote
    // exactly these events at the next revisions, or threw.
    const next = events.reduce(
      (acc, e, i) =>
        evolveSaga(acc, {
          ...e,
          streamId: sagaStreamId(s.opportunityId),
          revision: s.revision + 1n + BigInt(i),
          position: result.position - BigInt(events.length - 1 - i),
          contentHash: '',
          prevHash: '',
          hash: '',
        }),
      s,
    );
    if (next.phase === 'finished') this.finished(next);
    return { state: next, position: result.position };
  }

  private event<P>(def: EventTypeDefinition<P>, payload: P, s: SagaState): NewEvent<P> {
    return newEvent(def, payload, this.meta(s));
  }

  private finished(s: SagaState): void {
    const outcome = s.outcome!;
    this.metrics.arbitrageOutcomesTotal.inc({ outcome });
    if (s.detectedAt) this.metrics.arbitrageExecutionSeconds.observe({ outcome }, Math.max(0, (Date.now() - Date.parse(s.detectedAt)) / 1000));
    if (outcome === 'filled') this.metrics.arbitrageSuccessesTotal.inc();
    const detail =
      outcome === 'rejected_by_risk'
        ? `: ${s.risk?.failedChecks.join(', ')}`
        : outcome === 'blocked_by_compliance'
          ? `: flags ${s.screened?.flags.length ?? 0}`
          : '';
    this.logger.log(`${s.opportunityId} ${s.detected?.route.symbolA}→${s.detected?.route.symbolB}→${s.detected?.route.symbolA} ${outcome}${detail}`);
  }

  private async abandon(s: SagaState, step: SagaStep, reason: string): Promise<SagaState> {
    this.logger.warn(`${s.opportunityId}: abandoned at ${step}: ${reason}`);
    return this.record(s, [
      this.event(
        OpportunityAbandoned,
        {
          opportunityId: s.opportunityId,
          step,
          reason: reason.slice(0, 2000),
          ...(s.signed ? { signature: s.signed.signature } : {}),
          abandonedAt: new Date().toISOString(),
        },
        s,
      ),
    ]);
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
  private async quote(s: SagaState): Promise<SagaState> {
    const d = s.detected!;
    try {
      const rq = await roundTripQuote(this.quotes, {
        mintA: d.route.mintA,
        mintB: d.route.mintB,
        amount: BigInt(d.amountIn),
        slippageBps: this.market.slippageBps,
      });
      const price = (await this.latest([d.route.mintA])).get(d.route.mintA)!;
      return await this.record(s, [this.event(QuoteReceived, quoteReceivedPayload(s.opportunityId, rq, price), s)]);
    } catch (err) {
      const m = isMarketDataError(err) ? err : null;
      return this.record(s, [
        this.event(
          QuoteFailed,
          {
            opportunityId: s.opportunityId,
            source: m?.source ?? 'market',
            code: m?.code ?? 'UNEXPECTED',
            message: ((err as Error).message || 'unknown error').slice(0, 2000),
            failedAt: new Date().toISOString(),
          },
          s,
        ),
      ]);
    }
  }

  // 2. Risk: every pre-trade check against the trading state as the log has it.
  private async risk(s: SagaState): Promise<SagaState> {
    const d = s.detected!;
    const q = s.quote!;
    let prices: Map<string, PriceObservation>;
    try {
      prices = await this.latest([d.route.mintB, SOL.mint]);
    } catch (err) {
      return this.abandon(s, 'risk', `prices for the risk checks are unavailable: ${(err as Error).message}`);
    }
    const p = q.price;
    const input = riskInput({
      detected: d,
      quote: q,
      priceA: { price: BigInt(p.price), expo: p.expo, conf: BigInt(p.conf), publishTime: p.publishTime },
      priceB: scaled(prices.get(d.route.mintB)!),
      solPrice: scaled(prices.get(SOL.mint)!),
      priorityFeeMicroLamports: this.config.priorityFeeMicroLamports,
      computeUnitLimit: this.config.computeUnitLimit,
      solMint: SOL.mint,
    });
    const now = new Date();
    const state = this.engine.current();
    const assessment = assessRisk(input, state, now);
    const payload = riskAssessedPayload(input, state, now, assessment);
    for (const c of assessment.failedChecks) this.metrics.riskEventsTotal.inc({ check: c });
    const { state: next, position } = await this.recordAt(s, [this.event(RiskAssessed, payload, s)]);
    // The next assessment must see this one (order rate, exposure in flight).
    await this.engine.caughtUp(position);
    return next;
  }

  // 3. Compliance: screen the trade; flags go to their own streams (case workflow), first.
  private async screen(s: SagaState): Promise<SagaState> {
    const d = s.detected!;
    const signer = await this.signerAddress();
    const trade = screenedTrade(d, s.quote!, signer, BigInt(s.risk!.notionalUsdMicros), new Date().toISOString());
    const sanctions = this.compliance.sanctions();
    const result = screen(trade, this.engine.screeningHistory(), this.compliance.config.rules, sanctions);
    const { screened, flagsRaised } = screeningPayloads(trade, result, sanctions.version);
    for (const flag of flagsRaised) {
      // The flag id is derived from opportunity and rule, and so is this event's id: a retried
      // screening re-appends the same event, which the store treats as a no-op.
      const e = newEvent(ComplianceFlagRaised, flag, this.meta(s), { id: flag.flagId });
      await this.store.append(flagStreamId(flag.flagId), [e], 'any');
      this.metrics.complianceFlagsTotal.inc({ rule: flag.rule, severity: flag.severity });
    }
    const { state: next, position } = await this.recordAt(s, [this.event(ComplianceScreened, screened, s)]);
    await this.engine.caughtUp(position);
    return next;
  }

  private signerAddress(): Promise<string> {
    return this.signer.publicKeyBase58();
  }

  // 4. Sign: build the transaction, sign it, and record both before anything is sent.
  private async sign(s: SagaState): Promise<SagaState> {
    const d = s.detected!;
    const q = s.quote!;
    try {
      const pub = await this.signer.publicKey();
      const prepared = await this.venue.prepare(
        {
          opportunityId: s.opportunityId,
          inputMint: d.route.mintA,
          outputMint: q.legs[q.legs.length - 1]!.outputMint,
          inAmount: BigInt(d.amountIn),
          expectedOut: BigInt(q.legs[q.legs.length - 1]!.outAmount),
          quoteRaw: q.legs.map((l) => l.raw),
        },
        pub,
      );
      const signature = await this.signer.sign(prepared.messageBytes);
      const signed = await transactionSignedPayload(this.signer, s.opportunityId, prepared.messageBytes, signature);
      return await this.record(s, [
        this.event(TransactionPrepared, transactionPreparedPayload(prepared), s),
        this.event(TransactionSigned, signed, s),
      ]);
    } catch (err) {
      if (err instanceof VenueError && err.retryable) throw err; // nothing recorded; a later attempt may succeed
      return this.abandon(s, 'sign', `could not prepare or sign the transaction: ${(err as Error).message}`);
    }
  }

  // 5. Submit: never a second transaction. Ask the venue about the recorded signature first; only
  // a signature the venue has never seen is sent, and it is always the same signed bytes.
  private async submit(s: SagaState): Promise<SagaState> {
    const prepared = preparedFromPayload(s.prepared!);
    const sig = s.signed!.signature;
    const status = await this.venue.status(sig, prepared.lastValidBlockHeight);
    if (status === 'unknown') {
      const outcome = await this.venue.submit(prepared, base58Decode(sig));
      const ev = submitOutcomeEvent(prepared, outcome);
      if (ev) return this.record(s, [this.event(ev.event as EventTypeDefinition<unknown>, ev.payload, s)]);
    }
    if (status === 'expired') {
      return this.confirm({ ...s, phase: 'submitted' }); // confirm() records the expiry
    }
    // The venue has it already (an earlier run sent it before stopping): record the submission
    // that happened and go on to confirm, without sending anything.
    return this.record(s, [
      this.event(
        TransactionSubmitted,
        transactionSubmittedPayload(prepared, { status: 'submitted', signature: sig, submittedAt: new Date().toISOString(), alreadyProcessed: true }),
        s,
      ),
    ]);
  }

  // 6. Confirm: wait for the outcome and record the fill (amounts from the chain), failure or expiry.
  private async confirm(s: SagaState): Promise<SagaState> {
    const p = preparedFromPayload(s.prepared!);
    const query: FillQuery = {
      signature: s.signed!.signature,
      opportunityId: s.opportunityId,
      inputMint: p.inputMint,
      outputMint: p.outputMint,
      inAmount: p.inAmount,
      expectedOut: p.expectedOut,
      signerPublicKey: p.signerPublicKey,
      lastValidBlockHeight: p.lastValidBlockHeight,
    };
    const outcome = await this.venue.confirm(query, { signal: AbortSignal.timeout(this.config.confirmTimeoutMs) });
    const ev = outcomeEvent(query, outcome);
    if (ev.event.type === 'FillConfirmed' && outcome.status === 'confirmed' && outcome.realisedPnl !== null) {
      const token = tokenByMint(p.inputMint)?.symbol ?? p.inputMint;
      this.metrics.arbitrageProfit.inc({ token }, Number(outcome.realisedPnl));
    }
    return this.record(s, [this.event(ev.event as EventTypeDefinition<unknown>, ev.payload, s)]);
  }
}

function scaled(o: PriceObservation) {
  return { price: o.price, expo: o.expo };
}

export function stepOf(s: SagaState): SagaStep {
  switch (s.phase) {
    case 'detected':
      return 'quote';
    case 'quoted':
      return 'risk';
    case 'approved':
      return 'compliance';
    case 'screened':
      return 'sign';
    case 'signed':
      return 'submit';
    case 'submitted':
      return 'confirm';
    default:
      throw new Error(`a ${s.phase} saga has no next step`);
  }
}
