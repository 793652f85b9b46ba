// The arbitrage saga as a pure workflow: `evolve(state, event) → state`, `decide(input, state) →
// events`, `initialSagaState`. No clock, no I/O, no randomness: the shell (arbitrage.handlers.ts)
// performs the I/O the next step needs (quotes, prices, signer, venue) and feeds what came back
// in as an input; time comes in the input too.
//
// State is a union per phase, and the transition table below is the whole state machine: a
// (phase, event) pair not in it is an IllegalSagaTransitionError, both for a decided event (so it
// is never appended) and for a stored log that contains one (reported with stream and position,
// never silently "finished").
//
//   detected ─QuoteReceived→ quoted ─RiskAssessed(approved)→ approved ─ComplianceScreened(let through)→ screened
//   screened ─TransactionPrepared→ prepared ─TransactionSigned→ signed ─TransactionSubmitted→ submitted
//   submitted ─FillConfirmed | FillFailed | TransactionExpired→ finished
// and the early ends in outcomes.ts (QuoteFailed, a refusal by risk or compliance, abandonment).
//
// Two kinds of saga share this machine (docs/decisions/0019-inventory-sales.md): an arbitrage round
// trip A → B → A, and an inventory sale, one leg B → base, detected with a `reduction` (why and by
// whom it was started). A sale takes the same steps — quote (one leg), risk (purpose 'reduce'),
// compliance, prepare + sign, submit once, confirm — with the same crash safety.
import type { ComplianceFlagRaisedPayload, ComplianceScreenedPayload } from '../compliance/events.js';
import { ComplianceScreened } from '../compliance/events.js';
import { screenTrade, type ScreeningContext } from '../compliance/decisions.js';
import {
  outcomeEvent,
  submitOutcomeEvent,
  type InventoryChangePayload,
  TransactionPrepared,
  transactionPreparedPayload,
  TransactionSubmitted,
  transactionSubmittedPayload,
  type TransactionPreparedPayload,
  type TransactionSubmittedPayload,
  preparedFromPayload,
} from '../execution/events.js';
import type { ConfirmOutcome, FillQuery, PreparedTransaction, SubmitOutcome, TransactionStatus } from '../execution/venue.port.js';
import type { EventTypeDefinition } from '../ledger/event-types.js';
import { QuoteReceived, quoteReceivedPayload, type OpportunityDetectedPayload, type QuoteReceivedPayload } from '../market/events.js';
import type { PriceObservation } from '../market/price-feed.port.js';
import type { RouteQuote } from '../market/quote-source.port.js';
import { decideRisk, type EngineState, type ScaledPrice } from '../risk/decisions.js';
import { RiskAssessed, type RiskAssessedPayload } from '../risk/events.js';
import { TransactionSigned, type TransactionSignedPayload } from '../signing/events.js';
import { OpportunityAbandoned, QuoteFailed, type SagaStep } from './events.js';
import { sagaOutcomeOf, type SagaOutcome } from './outcomes.js';
import { riskInput, screenedTrade } from './saga-inputs.js';

// ---------------------------------------------------------------------------------------------
// State

/** What every phase after detection knows. */
interface Known {
  opportunityId: string;
  /** Revision of the last event in the stream. */
  revision: bigint;
  /** Id of the last event: the causation id of whatever the next step writes. */
  lastEventId: string;
  correlationId: string;
  detected: OpportunityDetectedPayload;
  /** When the ledger recorded the detection (ISO-8601). */
  detectedAt: string;
}

export type SagaState =
  | { phase: 'new'; opportunityId: string; revision: -1n }
  | (Known & { phase: 'detected' })
  | (Known & { phase: 'quoted'; quote: QuoteReceivedPayload })
  | (Known & { phase: 'approved'; quote: QuoteReceivedPayload; risk: RiskAssessedPayload })
  | (Known & { phase: 'screened'; quote: QuoteReceivedPayload; risk: RiskAssessedPayload; screened: ComplianceScreenedPayload })
  | (Known & { phase: 'prepared' } & Signable)
  | (Known & { phase: 'signed' } & Signable & { signed: TransactionSignedPayload })
  | (Known & { phase: 'submitted' } & Signable & { signed: TransactionSignedPayload; submitted: TransactionSubmittedPayload })
  | (Known & { phase: 'finished'; outcome: SagaOutcome; endedBy: string } & Partial<Trail>);

interface Signable {
  quote: QuoteReceivedPayload;
  risk: RiskAssessedPayload;
  screened: ComplianceScreenedPayload;
  prepared: TransactionPreparedPayload;
}

/** What a finished saga keeps of its way there (for its log line and metrics). */
interface Trail extends Signable {
  signed: TransactionSignedPayload;
}

export type SagaPhase = SagaState['phase'];
export type OpenSagaState = Exclude<SagaState, { phase: 'new' } | { phase: 'finished' }>;

export const initialSagaState = (opportunityId: string): SagaState => ({ phase: 'new', opportunityId, revision: -1n });

/** The minimum of a recorded event the fold reads. */
export interface SagaEventLike {
  id: string;
  type: string;
  payload: unknown;
  revision: bigint;
  recordedAt: string;
  metadata: { correlationId: string };
  /** Present on stored events; used to say where an impossible transition sits. */
  streamId?: string;
  position?: bigint;
}

export class IllegalSagaTransitionError extends Error {
  readonly code = 'ILLEGAL_SAGA_TRANSITION';
  constructor(
    readonly opportunityId: string,
    readonly phase: SagaPhase,
    readonly eventType: string,
    readonly streamId: string | undefined,
    readonly position: bigint | undefined,
  ) {
    super(
      `saga ${opportunityId}: ${eventType} is not a transition from phase "${phase}"` +
        (streamId !== undefined ? ` (stream ${streamId}${position !== undefined && position > 0n ? `, position ${position}` : ''})` : ''),
    );
    this.name = 'IllegalSagaTransitionError';
  }
}

// ---------------------------------------------------------------------------------------------
// The transition table

type Transition = (s: any, payload: any, e: SagaEventLike) => SagaState;

function finish(s: Known & Partial<Trail>, e: SagaEventLike, outcome: SagaOutcome): SagaState {
  return { ...s, phase: 'finished', outcome, endedBy: e.type };
}

/** An event that ends the saga with the outcome outcomes.ts gives it. */
const ends: Transition = (s, _p, e) => finish(s, e, sagaOutcomeOf(e) as SagaOutcome);

const TRANSITIONS: Readonly<Record<SagaPhase, Readonly<Record<string, Transition>>>> = {
  new: {
    OpportunityDetected: (s, p: OpportunityDetectedPayload, e) => ({
      phase: 'detected',
      opportunityId: s.opportunityId,
      revision: e.revision,
      lastEventId: e.id,
      correlationId: e.metadata.correlationId,
      detected: p,
      detectedAt: e.recordedAt,
    }),
  },
  detected: {
    QuoteReceived: (s, quote: QuoteReceivedPayload) => ({ ...s, phase: 'quoted', quote }),
    QuoteFailed: ends,
    OpportunityAbandoned: ends,
  },
  quoted: {
    RiskAssessed: (s, risk: RiskAssessedPayload, e) => (risk.approved ? { ...s, phase: 'approved', risk } : finish({ ...s, risk }, e, 'rejected_by_risk')),
    OpportunityAbandoned: ends,
  },
  approved: {
    ComplianceScreened: (s, screened: ComplianceScreenedPayload, e) =>
      screened.decision === 'blocked' ? finish({ ...s, screened }, e, 'blocked_by_compliance') : { ...s, phase: 'screened', screened },
    OpportunityAbandoned: ends,
  },
  screened: {
    TransactionPrepared: (s, prepared: TransactionPreparedPayload) => ({ ...s, phase: 'prepared', prepared }),
    OpportunityAbandoned: ends,
  },
  prepared: {
    TransactionSigned: (s, signed: TransactionSignedPayload) => ({ ...s, phase: 'signed', signed }),
    OpportunityAbandoned: ends,
  },
  signed: {
    TransactionSubmitted: (s, submitted: TransactionSubmittedPayload) => ({ ...s, phase: 'submitted', submitted }),
    // A submit the venue refused at once, or whose blockhash had already expired when a resumed
    // saga asked (the confirm step then reads the outcome without a submission being recorded).
    FillFailed: ends,
    TransactionExpired: ends,
    FillConfirmed: ends,
    // Closed without ever being sent (logs of earlier versions abandon at submit; the event keeps
    // the signature so an auditor can check the chain never saw it).
    OpportunityAbandoned: ends,
  },
  submitted: {
    FillConfirmed: ends,
    FillFailed: ends,
    TransactionExpired: ends,
    // Resumed after the engine was down and the transaction expired meanwhile: it never landed,
    // and a stale saga is closed as such, not counted as a failed fill (the breaker counts those).
    OpportunityAbandoned: ends,
  },
  finished: {},
};

/** The event types the table accepts in each phase (for docs and tests). */
export function allowedEventTypes(phase: SagaPhase): string[] {
  return Object.keys(TRANSITIONS[phase]);
}

export const SAGA_PHASES = Object.keys(TRANSITIONS) as SagaPhase[];

export function evolve(s: SagaState, e: SagaEventLike): SagaState {
  const t = TRANSITIONS[s.phase][e.type];
  if (!t) throw new IllegalSagaTransitionError(s.opportunityId, s.phase, e.type, e.streamId, e.position);
  const next = t(s, e.payload, e);
  // The bookkeeping every transition shares: where the stream stands and what caused what.
  return { ...next, revision: e.revision, ...(next.phase === 'new' ? {} : { lastEventId: e.id }) } as SagaState;
}

export function foldSaga(opportunityId: string, events: readonly SagaEventLike[]): SagaState {
  return events.reduce(evolve, initialSagaState(opportunityId));
}

/** The step the saga takes next, or null when it is finished (or not detected). */
export function nextStep(s: SagaState): SagaStep | null {
  switch (s.phase) {
    case 'detected':
      return 'quote';
    case 'quoted':
      return 'risk';
    case 'approved':
      return 'compliance';
    case 'screened':
    case 'prepared': // prepared and signed are recorded together; a prepared-only log signs again
      return 'sign';
    case 'signed':
      return 'submit';
    case 'submitted':
      return 'confirm';
    case 'new':
    case 'finished':
      return null;
  }
}

/**
 * The steps the shell takes in the same append as the step before them: from an approved risk
 * decision on, nothing the next step asks for depends on the previous decision being recorded
 * (compliance reads the screening memory and the signer's address; signing prepares and signs
 * bytes no one has seen), so risk, compliance and the prepared and signed transaction commit
 * together, all or nothing. A crash before that commit records nothing, and the saga is taken again
 * from its quote: nothing was sent, the signature never left the process. Submit never chains:
 * the signature must be in the log before anything is sent.
 */
const CHAINED_STEPS: ReadonlySet<SagaStep> = new Set<SagaStep>(['compliance', 'sign']);

/** Whether the saga's next step goes into the same append as the step that led to this state. */
export function chainsIntoPrevious(s: SagaState): boolean {
  const step = nextStep(s);
  return step !== null && CHAINED_STEPS.has(step);
}

// ---------------------------------------------------------------------------------------------
// Inputs: the results of the shell's I/O, and the time they were had

export type SagaInput =
  /** Before any I/O of a step: a saga not yet signed that waited too long is closed. */
  | { kind: 'StepStarted'; at: Date; resumed: boolean; maxSagaAgeMs: number }
  | { kind: 'QuoteObtained'; at: Date; quote: RouteQuote; price: PriceObservation }
  | { kind: 'QuoteUnavailable'; at: Date; source: string; code: string; message: string }
  | {
      kind: 'RiskInputsObtained';
      at: Date;
      priceB: ScaledPrice;
      solPrice: ScaledPrice;
      solMint: string;
      engine: EngineState;
      priorityFeeMicroLamports: bigint;
      computeUnitLimit: bigint;
    }
  | { kind: 'RiskInputsUnavailable'; at: Date; message: string }
  | { kind: 'ScreeningInputsObtained'; at: Date; signerAddress: string; context: ScreeningContext }
  | { kind: 'TransactionSignedByVenueAndSigner'; prepared: PreparedTransaction; signed: TransactionSignedPayload }
  | { kind: 'SigningFailed'; at: Date; message: string; retryable: boolean }
  /** What the venue said of the recorded signature (status), and what sending did, if it sent. */
  | { kind: 'SubmissionChecked'; at: Date; status: TransactionStatus; sent: SubmitOutcome | null }
  | {
      kind: 'FillObserved';
      at: Date;
      outcome: ConfirmOutcome;
      /** Set when the engine picked the saga up again after a restart, with the age bound. */
      resumed?: { maxSagaAgeMs: number };
    };

/** An event to record, as the decider sees it: a type and its payload. */
export interface SagaEventDraft<P = unknown> {
  def: EventTypeDefinition<P>;
  payload: P;
}

export interface SagaDecision {
  /** Appended to the saga's stream, in order, at its expected revision. */
  events: SagaEventDraft[];
  /** Compliance flags to raise, each in its own stream, before the saga's events. */
  flags: ComplianceFlagRaisedPayload[];
}

/** Nothing is recorded: the step failed for a passing reason and is tried again later. */
export class RetryableStepError extends Error {
  readonly code = 'STEP_RETRYABLE';
  constructor(readonly step: SagaStep, message: string) {
    super(message);
    this.name = 'RetryableStepError';
  }
}

/** An input that does not belong to the saga's phase: a bug in the shell, never a market outcome. */
export class SagaInputError extends Error {
  readonly code = 'SAGA_INPUT_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'SagaInputError';
  }
}

const draft = <P>(def: EventTypeDefinition<P>, payload: P): SagaEventDraft => ({ def: def as EventTypeDefinition<unknown>, payload });
const only = (...events: SagaEventDraft[]): SagaDecision => ({ events, flags: [] });
const clip = (s: string) => (s || 'unknown error').slice(0, 2000);

/** What the submit step does after asking the venue about the recorded signature. */
export function submitAction(status: TransactionStatus): 'send' | 'record-existing' | 'read-outcome' {
  if (status === 'unknown') return 'send'; // the venue never saw it: send the recorded bytes
  if (status === 'expired') return 'read-outcome'; // too late to send; read how it ended
  return 'record-existing'; // an earlier run sent it before stopping: send nothing
}

export function decide(input: SagaInput, s: SagaState): SagaDecision | RetryableStepError {
  if (s.phase === 'new' || s.phase === 'finished') throw new SagaInputError(`saga ${s.opportunityId} is ${s.phase}: it takes no ${input.kind}`);
  const step = nextStep(s) as SagaStep;
  const wrong = () => new SagaInputError(`saga ${s.opportunityId} in phase ${s.phase} (step ${step}) takes no ${input.kind}`);
  switch (input.kind) {
    case 'StepStarted': {
      // Before anything is signed, a saga that waited too long (e.g. across a restart) is closed:
      // its quote and prices no longer describe the market.
      const ageMs = input.at.getTime() - Date.parse(s.detectedAt);
      if (!['quote', 'risk', 'compliance', 'sign'].includes(step) || ageMs <= input.maxSagaAgeMs) return only();
      return abandon(s, step, input.at, `opportunity is ${Math.round(ageMs / 1000)} s old${input.resumed ? ' when resumed after a restart' : ''}; its quote and prices are stale`);
    }
    case 'QuoteObtained':
      if (s.phase !== 'detected') throw wrong();
      return only(draft(QuoteReceived, quoteReceivedPayload(s.opportunityId, input.quote, input.price)));
    case 'QuoteUnavailable':
      if (s.phase !== 'detected') throw wrong();
      return only(
        draft(QuoteFailed, { opportunityId: s.opportunityId, source: input.source, code: input.code, message: clip(input.message), failedAt: input.at.toISOString() }),
      );
    case 'RiskInputsObtained': {
      if (s.phase !== 'quoted') throw wrong();
      const p = s.quote.price;
      const riskIn = riskInput({
        detected: s.detected,
        quote: s.quote,
        priceA: { price: BigInt(p.price), expo: p.expo, conf: BigInt(p.conf), publishTime: p.publishTime },
        priceB: input.priceB,
        solPrice: input.solPrice,
        priorityFeeMicroLamports: input.priorityFeeMicroLamports,
        computeUnitLimit: input.computeUnitLimit,
        solMint: input.solMint,
        purpose: isInventorySale(s) ? 'reduce' : 'arbitrage',
      });
      return only(draft(RiskAssessed, decideRisk(riskIn, input.engine, input.at)));
    }
    case 'RiskInputsUnavailable':
      if (s.phase !== 'quoted') throw wrong();
      return abandon(s, 'risk', input.at, `prices for the risk checks are unavailable: ${input.message}`);
    case 'ScreeningInputsObtained': {
      if (s.phase !== 'approved') throw wrong();
      const trade = screenedTrade(s.detected, s.quote, input.signerAddress, BigInt(s.risk.notionalUsdMicros), input.at.toISOString());
      const { screened, flagsRaised } = screenTrade(trade, input.context);
      return { events: [draft(ComplianceScreened, screened)], flags: flagsRaised };
    }
    case 'TransactionSignedByVenueAndSigner':
      if (s.phase !== 'screened' && s.phase !== 'prepared') throw wrong();
      return only(draft(TransactionPrepared, transactionPreparedPayload(input.prepared)), draft(TransactionSigned, input.signed));
    case 'SigningFailed':
      if (s.phase !== 'screened' && s.phase !== 'prepared') throw wrong();
      if (input.retryable) return new RetryableStepError('sign', input.message); // nothing recorded; a later attempt may succeed
      return abandon(s, 'sign', input.at, `could not prepare or sign the transaction: ${input.message}`);
    case 'SubmissionChecked': {
      if (s.phase !== 'signed') throw wrong();
      const prepared = preparedFromPayload(s.prepared);
      const action = submitAction(input.status);
      if (action === 'read-outcome') throw new SagaInputError(`saga ${s.opportunityId}: an expired submission is decided from the fill outcome (FillObserved)`);
      if (action === 'send') {
        if (!input.sent) throw new SagaInputError(`saga ${s.opportunityId}: the venue had not seen the signature, but nothing was sent`);
        const ev = submitOutcomeEvent(prepared, input.sent, input.at.toISOString());
        if (ev) return only(draft(ev.event as EventTypeDefinition<unknown>, ev.payload));
        // The venue answered "already processed" to the send: record the submission that happened.
      }
      return only(
        draft(
          TransactionSubmitted,
          transactionSubmittedPayload(prepared, { status: 'submitted', signature: s.signed.signature, submittedAt: input.at.toISOString(), alreadyProcessed: true }),
        ),
      );
    }
    case 'FillObserved': {
      if (s.phase !== 'submitted' && s.phase !== 'signed') throw wrong();
      const ageMs = input.at.getTime() - Date.parse(s.detectedAt);
      // Resumed after a restart, an expiry is the downtime's doing, not a failed fill (it must not
      // count toward the circuit breaker): always for a transaction never recorded as sent (nothing
      // landed, no fee was paid), and for a sent one once the opportunity is past its age.
      if (input.outcome.status === 'expired' && input.resumed && (s.phase === 'signed' || ageMs > input.resumed.maxSagaAgeMs)) {
        return abandon(
          s,
          'confirm',
          input.at,
          s.phase === 'signed'
            ? `its transaction was signed but not recorded as sent, and its blockhash expired while the engine was down: closed as stale, not a failed fill (${input.outcome.reason})`
            : `its transaction expired while the engine was down (opportunity ${Math.round(ageMs / 1000)} s old when resumed): closed as stale, not a failed fill (${input.outcome.reason})`,
        );
      }
      const inventory = input.outcome.status === 'confirmed' ? inventoryChangeOf(s, input.outcome) : null;
      const ev = outcomeEvent(fillQuery(s), input.outcome, input.at.toISOString(), inventory);
      return only(draft(ev.event as EventTypeDefinition<unknown>, ev.payload));
    }
  }
}

function abandon(s: OpenSagaState, step: SagaStep, at: Date, reason: string): SagaDecision {
  return only(
    draft(OpportunityAbandoned, {
      opportunityId: s.opportunityId,
      step,
      reason: clip(reason),
      ...('signed' in s ? { signature: s.signed.signature } : {}),
      abandonedAt: at.toISOString(),
    }),
  );
}

/** What the venue is asked about a signed transaction's fill. */
export function fillQuery(s: Extract<SagaState, { phase: 'signed' | 'submitted' }>): FillQuery {
  const p = preparedFromPayload(s.prepared);
  // A round trip's leg 2 spends the intermediate: the venue reads what is left of it (inventory).
  const leg2 = !isInventorySale(s) && s.quote.legs.length === 2 ? s.quote.legs[1] : undefined;
  return {
    signature: s.signed.signature,
    opportunityId: s.opportunityId,
    inputMint: p.inputMint,
    outputMint: p.outputMint,
    inAmount: p.inAmount,
    expectedOut: p.expectedOut,
    signerPublicKey: p.signerPublicKey,
    lastValidBlockHeight: p.lastValidBlockHeight,
    ...(leg2 ? { intermediateMint: leg2.inputMint, intermediateSpentByNextLeg: BigInt(leg2.inAmount) } : {}),
    // The round trip's layout, so a failure names the part (leg 1, leg 2, guard) that failed.
    ...(p.roundTrip ? { roundTrip: { instructionRoles: p.roundTrip.instructionRoles } } : {}),
  };
}

/** Whether the saga sells inventory (one leg, mintA → mintB = base) rather than trading a round trip. */
export function isInventorySale(s: { detected: OpportunityDetectedPayload }): boolean {
  return s.detected.reduction !== null;
}

/**
 * What the fill did to inventory, from the venue's reading of the chain's balances: a round
 * trip's change of its intermediate (B), priced at leg 1's rate (leg 1 in / out) and the USD
 * value of A risk assessed; a sale's minus what it sold, priced by its own assessment.
 */
export function inventoryChangeOf(
  s: Extract<SagaState, { phase: 'signed' | 'submitted' }>,
  outcome: Extract<ConfirmOutcome, { status: 'confirmed' }>,
): InventoryChangePayload | null {
  const route = s.detected.route;
  const notional = BigInt(s.risk.notionalUsdMicros);
  const amountIn = BigInt(s.risk.amountIn);
  if (isInventorySale(s)) {
    if (outcome.amountIn === 0n) return null;
    return { mint: route.mintA, changeBaseUnits: (-outcome.amountIn).toString(), baseMint: route.mintB, price: amountIn > 0n ? { usdMicros: notional.toString(), perBaseUnits: amountIn.toString() } : null };
  }
  const change = outcome.intermediateChangeBaseUnits;
  if (change === undefined || change === 0n) return null;
  const leg1 = s.quote.legs[0];
  const legIn = leg1 ? BigInt(leg1.inAmount) : 0n;
  const legOut = leg1 ? BigInt(leg1.outAmount) : 0n;
  const priced = legIn > 0n && legOut > 0n && amountIn > 0n;
  return {
    mint: route.mintB,
    changeBaseUnits: change.toString(),
    baseMint: route.mintA,
    // USD of one B unit = (notional / amountIn) per A unit × (legIn / legOut) A units per B unit.
    price: priced ? { usdMicros: (notional * legIn).toString(), perBaseUnits: (amountIn * legOut).toString() } : null,
  };
}

export type FinishedSaga = Extract<SagaState, { phase: 'finished' }>;
export type SignedSaga = Extract<SagaState, { phase: 'signed' }>;
