// A realistic ledger for read-model tests: complete arbitrage sagas (filled, rejected by risk,
// blocked by compliance, failed, expired, quote failed, abandoned), compliance cases and engine
// changes, built with the contexts' own payload functions and real decisions (assessRisk,
// screen) so every payload passes the event catalog. Times are fixed: the log is deterministic.
import { createHash } from 'node:crypto';
import type { NewEvent, RecordedEvent } from '../../../src/ledger/envelope.js';
import { newEvent, type EventTypeDefinition } from '../../../src/ledger/event-types.js';
import { buildEventRegistry } from '../../../src/event-catalog.js';
import { OpportunityDetected, QuoteReceived, opportunityDetectedPayload, quoteReceivedPayload } from '../../../src/market/events.js';
import type { Quote } from '../../../src/market/quote-source.port.js';
import { initialEngineState } from '../../../src/risk/engine-state.js';
import { assessRisk, riskAssessedPayload, WRAPPED_SOL_MINT, type RiskCheckInput } from '../../../src/risk/checks.js';
import { defaultRiskLimits, riskLimitsToJson } from '../../../src/risk/limits.js';
import { ENGINE_STREAM_ID, EnginePaused, EngineResumed, RiskAssessed, RiskLimitsChanged } from '../../../src/risk/events.js';
import { screen, type ComplianceRulesConfig } from '../../../src/compliance/rules.js';
import {
  ComplianceFlagClosed,
  ComplianceFlagRaised,
  ComplianceFlagReviewed,
  ComplianceScreened,
  screeningPayloads,
} from '../../../src/compliance/events.js';
import { flagStreamId } from '../../../src/compliance/cases.js';
import { TransactionSigned } from '../../../src/signing/events.js';
import bs58 from 'bs58';
import { outcomeEvent, TransactionSubmitted, transactionSubmittedPayload } from '../../../src/execution/events.js';
import type { PreparedTransaction } from '../../../src/execution/venue.port.js';
import { OpportunityAbandoned, QuoteFailed, sagaStreamId } from '../../../src/trading/events.js';

export const SOL = WRAPPED_SOL_MINT;
export const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
export const SANCTIONED = 'BadAddressBadAddressBadAddressBad1111111111';
const FEED = 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d';
const SIGNER = '11111111111111111111111111111112';

export interface Entry {
  streamId: string;
  event: NewEvent;
}

export type Outcome = 'filled' | 'rejected' | 'blocked' | 'failed' | 'expired' | 'quote_failed' | 'abandoned';

export const oppId = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
export const sigOf = (seed: string) => bs58.encode(createHash('sha512').update(seed).digest());

const meta = (correlationId: string, actor = 'engine') => ({ correlationId, causationId: null, actor, tenant: 'default' });
const at = (base: number, offsetMs: number) => new Date(base + offsetMs).toISOString();

export const COMPLIANCE_CONFIG: ComplianceRulesConfig = {
  largeTxThresholdUsdMicros: 500_000_000n,
  velocityWindowSeconds: 60,
  velocityMaxCount: 1000,
  velocityMaxNotionalUsdMicros: 10n ** 15n,
  structuringWindowSeconds: 3600,
  structuringBandBps: 500,
  structuringMinCount: 50,
};

export interface SagaSpec {
  n: number;
  outcome: Outcome;
  /** Epoch ms of detection. */
  start: number;
  amountIn?: bigint;
  /** Round-trip output of the fill (SOL base units); default amountIn + 120_000. */
  amountOut?: bigint;
  /** USD notional; above 500 USD raises an advisory large_transaction flag. */
  notionalUsdMicros?: bigint;
}

function quote(input: string, output: string, inAmount: bigint, outAmount: bigint, quotedAt: string): Quote {
  return {
    inputMint: input,
    outputMint: output,
    inAmount,
    outAmount,
    otherAmountThreshold: (outAmount * 995n) / 1000n,
    slippageBps: 30,
    swapMode: 'ExactIn',
    priceImpactPct: '0.0001',
    routePlan: [{ swapInfo: { label: 'Orca', feeAmount: '12' }, percent: 100 }],
    contextSlot: 123_456n,
    timeTaken: '0.0123',
    quotedAt,
    raw: { inAmount: inAmount.toString(), outAmount: outAmount.toString(), timeTaken: 0.0123 },
  };
}

/** The events of one saga, in the order the saga appends them. */
export function saga(spec: SagaSpec): Entry[] {
  const id = oppId(spec.n);
  const stream = sagaStreamId(id);
  const m = meta(id);
  const amountIn = spec.amountIn ?? 1_000_000_000n; // 1 SOL
  const usdcOut = 150_000_000n; // 150 USDC
  const back = spec.amountOut ?? amountIn + 120_000n;
  const notional = spec.notionalUsdMicros ?? 150_000_000n;
  const t = (ms: number) => at(spec.start, ms);
  const out: Entry[] = [];
  const push = <P>(def: EventTypeDefinition<P>, payload: P, recordedAt: string, streamId = stream, metadata = m) =>
    out.push({ streamId, event: newEvent(def, payload, metadata, { recordedAt }) });

  push(OpportunityDetected, opportunityDetectedPayload({
    opportunityId: id,
    route: { mintA: SOL, mintB: USDC, symbolA: 'SOL', symbolB: 'USDC', decimalsA: 9, decimalsB: 6 },
    amountIn,
    source: 'simulated',
    detectedAt: t(0),
    slippageBps: 30,
    priceFeedId: FEED,
  }), t(0));
  if (spec.outcome === 'quote_failed') {
    push(QuoteFailed, { opportunityId: id, source: 'jupiter', code: 'UPSTREAM_5XX', message: 'Jupiter answered 503', failedAt: t(40) }, t(40));
    return out;
  }
  const profit = spec.outcome === 'rejected' ? -5_000n : 120_000n; // expected; the fill may differ
  const legs = [quote(SOL, USDC, amountIn, usdcOut, t(30)), quote(USDC, SOL, usdcOut, amountIn + profit, t(50))];
  const price = { feedId: FEED, price: 15_000_000_000n, conf: 1_000_000n, expo: -8, publishTime: Math.floor((spec.start + 50) / 1000) };
  push(QuoteReceived, quoteReceivedPayload(id, { legs, expectedProfit: profit }, price), t(60));

  const input: RiskCheckInput = {
    opportunityId: id,
    inputMint: SOL,
    outputMint: SOL,
    amountIn,
    expectedOut: amountIn + profit,
    expectedProfit: profit,
    feesEstimate: 5_000n,
    priorityFee: 1_000n,
    slippageBps: 30,
    notionalUsdMicros: notional,
    pyth: { price: price.price, expo: price.expo, conf: price.conf, publishTime: price.publishTime },
    quoteImpliedPrice: { price: price.price, expo: price.expo },
  };
  const state = initialEngineState(defaultRiskLimits({}));
  const now = new Date(spec.start + 100);
  const assessment = assessRisk(input, state, now);
  const expectApproved = spec.outcome !== 'rejected';
  if (assessment.approved !== expectApproved) {
    throw new Error(`fixture: risk ${assessment.approved ? 'approved' : 'rejected'} saga ${spec.n}: ${assessment.failedChecks.join(', ')}`);
  }
  push(RiskAssessed, riskAssessedPayload(input, state, now, assessment), t(100));
  if (spec.outcome === 'rejected') return out;

  const blocked = spec.outcome === 'blocked';
  const result = screen(
    { opportunityId: id, counterparties: [SIGNER, blocked ? SANCTIONED : USDC], notionalUsdMicros: notional, at: t(120) },
    [],
    COMPLIANCE_CONFIG,
    new Set([SANCTIONED]),
  );
  const { screened, flagsRaised } = screeningPayloads(
    { opportunityId: id, counterparties: [], notionalUsdMicros: notional, at: t(120) },
    result,
    COMPLIANCE_CONFIG,
    'list-v1',
  );
  push(ComplianceScreened, screened, t(120));
  for (const f of flagsRaised) push(ComplianceFlagRaised, f, t(121), flagStreamId(f.flagId));
  if (blocked) return out;

  const signature = sigOf(`sig-${spec.n}`);
  push(TransactionSigned, {
    opportunityId: id,
    signature,
    signerPublicKey: SIGNER,
    keyId: 'keystore:test',
    signerKind: 'keystore',
    messageHash: createHash('sha256').update(id).digest('hex'),
  }, t(150));
  if (spec.outcome === 'abandoned') {
    push(OpportunityAbandoned, { opportunityId: id, step: 'submit', reason: 'venue unavailable for 30 s', signature, abandonedAt: t(200) }, t(200));
    return out;
  }
  const prepared = { venue: 'paper', opportunityId: id, lastValidBlockHeight: 5_000n, priorityFeeMicroLamports: 1_000n } as unknown as PreparedTransaction;
  push(TransactionSubmitted, transactionSubmittedPayload(prepared, { status: 'submitted', signature, submittedAt: t(200), alreadyProcessed: false }), t(200));

  const query = { signature, opportunityId: id, inputMint: SOL, outputMint: SOL, inAmount: amountIn, expectedOut: amountIn + profit, signerPublicKey: SIGNER, lastValidBlockHeight: 5_000n };
  const o =
    spec.outcome === 'filled'
      ? outcomeEvent(query, { status: 'confirmed', signature, slot: 777n + BigInt(spec.n), fee: 6_000n, amountIn, amountOut: back, realisedPnl: back - amountIn, confirmedAt: t(900) } as never, t(900))
      : spec.outcome === 'failed'
        ? outcomeEvent(query, { status: 'failed', signature, reason: 'custom program error: 0x1771 (slippage exceeded)', slot: 778n, fee: 5_000n } as never, t(900))
        : outcomeEvent(query, { status: 'expired', signature, lastValidBlockHeight: 5_000n, reason: 'block height exceeded 5000' } as never, t(900));
  push(o.event as EventTypeDefinition<unknown>, o.payload, t(900));
  return out;
}

/** Operator actions on an advisory flag: review, then close. */
export function flagCase(flagId: string, reviewAt: string, closeAt: string | null): Entry[] {
  const out: Entry[] = [
    { streamId: flagStreamId(flagId), event: newEvent(ComplianceFlagReviewed, { flagId, actor: 'operator:alice', note: 'checked the counterparties' }, meta(flagId, 'operator:alice'), { recordedAt: reviewAt }) },
  ];
  if (closeAt) {
    out.push({ streamId: flagStreamId(flagId), event: newEvent(ComplianceFlagClosed, { flagId, actor: 'operator:bob', note: 'reported to the regulator', outcome: 'reported' }, meta(flagId, 'operator:bob'), { recordedAt: closeAt }) });
  }
  return out;
}

export function engineChanges(start: number): Entry[] {
  const m = (actor: string) => meta('engine-ops', actor);
  const limits = riskLimitsToJson({ ...defaultRiskLimits({}), maxSlippageBps: 40 });
  return [
    { streamId: ENGINE_STREAM_ID, event: newEvent(EnginePaused, { actor: 'operator:alice', reason: 'maintenance window', cause: 'operator' }, m('operator:alice'), { recordedAt: at(start, 0) }) },
    { streamId: ENGINE_STREAM_ID, event: newEvent(RiskLimitsChanged, { actor: 'risk:carol', reason: 'tighter slippage', limits }, m('risk:carol'), { recordedAt: at(start, 1000) }) },
    { streamId: ENGINE_STREAM_ID, event: newEvent(EngineResumed, { actor: 'operator:alice', reason: 'maintenance done' }, m('operator:alice'), { recordedAt: at(start, 2000) }) },
  ];
}

export const DAY1 = Date.parse('2026-03-01T10:00:00.000Z');
export const DAY2 = Date.parse('2026-03-02T09:00:00.000Z');

/** The standard log: sagas of every outcome over two UTC days, a reviewed-and-closed flag case, engine changes. */
export function standardLog(): Entry[] {
  const specs: SagaSpec[] = [
    { n: 1, outcome: 'filled', start: DAY1 },
    { n: 2, outcome: 'rejected', start: DAY1 + 60_000 },
    { n: 3, outcome: 'blocked', start: DAY1 + 120_000 },
    { n: 4, outcome: 'failed', start: DAY1 + 180_000 },
    { n: 5, outcome: 'expired', start: DAY1 + 240_000 },
    { n: 6, outcome: 'quote_failed', start: DAY1 + 300_000 },
    { n: 7, outcome: 'filled', start: DAY1 + 360_000, amountOut: 1_000_000_000n - 30_000n }, // a losing fill
    { n: 8, outcome: 'filled', start: DAY2, notionalUsdMicros: 600_000_000n }, // large: advisory flag
    { n: 9, outcome: 'abandoned', start: DAY2 + 60_000 },
  ];
  const log: Entry[] = [];
  for (const s of specs) log.push(...saga(s));
  log.push(...engineChanges(DAY1 + 400_000));
  const flags = log.filter((e) => e.event.type === 'ComplianceFlagRaised').map((e) => (e.event.payload as { flagId: string; opportunityId: string }));
  const blockedFlag = flags.find((f) => f.opportunityId === oppId(3))!;
  const largeFlag = flags.find((f) => f.opportunityId === oppId(8))!;
  log.push(...flagCase(blockedFlag.flagId, at(DAY2, 3_600_000), at(DAY2, 7_200_000)));
  log.push(...flagCase(largeFlag.flagId, at(DAY2, 3_700_000), null));
  return log;
}

/** Gives entries positions and revisions as a store would (no hashes: projections do not read them). */
export function recorded(entries: Entry[]): RecordedEvent[] {
  const registry = buildEventRegistry();
  const revisions = new Map<string, bigint>();
  return entries.map((e, i) => {
    registry.validate(e.event);
    const rev = revisions.get(e.streamId) ?? 0n;
    revisions.set(e.streamId, rev + 1n);
    return { ...e.event, streamId: e.streamId, revision: rev, position: BigInt(i + 1), contentHash: '0'.repeat(64), prevHash: '0'.repeat(64), hash: '0'.repeat(64) };
  });
}
