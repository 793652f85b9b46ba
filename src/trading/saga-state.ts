// The state of one arbitrage saga, folded from the events of its stream. Pure: the saga's
// handler loads the stream, folds it, and decides the next step from this alone.
import type { RecordedEvent } from '../ledger/envelope.js';
import type { ComplianceScreenedPayload } from '../compliance/events.js';
import type { TransactionPreparedPayload, TransactionSubmittedPayload } from '../execution/events.js';
import type { OpportunityDetectedPayload, QuoteReceivedPayload } from '../market/events.js';
import type { RiskAssessedPayload } from '../risk/events.js';
import type { TransactionSignedPayload } from '../signing/events.js';

/** Where the saga stands; the next step follows from it. */
export type SagaPhase =
  | 'new' // nothing recorded
  | 'detected' // next: quote
  | 'quoted' // next: risk
  | 'approved' // next: compliance
  | 'screened' // next: sign
  | 'signed' // next: submit (after checking the venue has not seen it)
  | 'submitted' // next: confirm
  | 'finished';

export type SagaOutcome =
  | 'filled'
  | 'fill_failed'
  | 'expired'
  | 'rejected_by_risk'
  | 'blocked_by_compliance'
  | 'quote_failed'
  | 'abandoned';

export interface SagaState {
  opportunityId: string;
  /** Revision of the last event in the stream; -1n when there is none. */
  revision: bigint;
  phase: SagaPhase;
  outcome: SagaOutcome | null;
  detected: OpportunityDetectedPayload | null;
  detectedAt: string | null;
  quote: QuoteReceivedPayload | null;
  risk: RiskAssessedPayload | null;
  screened: ComplianceScreenedPayload | null;
  prepared: TransactionPreparedPayload | null;
  signed: TransactionSignedPayload | null;
  submitted: TransactionSubmittedPayload | null;
  /** Id of the last event: the causation id of whatever the next step writes. */
  lastEventId: string | null;
  correlationId: string | null;
}

export function emptySaga(opportunityId: string): SagaState {
  return {
    opportunityId,
    revision: -1n,
    phase: 'new',
    outcome: null,
    detected: null,
    detectedAt: null,
    quote: null,
    risk: null,
    screened: null,
    prepared: null,
    signed: null,
    submitted: null,
    lastEventId: null,
    correlationId: null,
  };
}

export const TERMINAL_EVENT_TYPES = ['QuoteFailed', 'FillConfirmed', 'FillFailed', 'TransactionExpired', 'OpportunityAbandoned'];

export function evolveSaga(s: SagaState, e: RecordedEvent): SagaState {
  const next: SagaState = { ...s, revision: e.revision, lastEventId: e.id, correlationId: s.correlationId ?? e.metadata.correlationId };
  const p = e.payload as never;
  switch (e.type) {
    case 'OpportunityDetected':
      return { ...next, phase: 'detected', detected: p, detectedAt: e.recordedAt };
    case 'QuoteReceived':
      return { ...next, phase: 'quoted', quote: p };
    case 'QuoteFailed':
      return { ...next, phase: 'finished', outcome: 'quote_failed' };
    case 'RiskAssessed': {
      const risk = p as RiskAssessedPayload;
      return risk.approved ? { ...next, phase: 'approved', risk } : { ...next, phase: 'finished', outcome: 'rejected_by_risk', risk };
    }
    case 'ComplianceScreened': {
      const screened = p as ComplianceScreenedPayload;
      return screened.decision === 'blocked'
        ? { ...next, phase: 'finished', outcome: 'blocked_by_compliance', screened }
        : { ...next, phase: 'screened', screened };
    }
    case 'TransactionPrepared':
      return { ...next, prepared: p };
    case 'TransactionSigned':
      return { ...next, phase: 'signed', signed: p };
    case 'TransactionSubmitted':
      return { ...next, phase: 'submitted', submitted: p };
    case 'FillConfirmed':
      return { ...next, phase: 'finished', outcome: 'filled' };
    case 'FillFailed':
      return { ...next, phase: 'finished', outcome: 'fill_failed' };
    case 'TransactionExpired':
      return { ...next, phase: 'finished', outcome: 'expired' };
    case 'OpportunityAbandoned':
      return { ...next, phase: 'finished', outcome: 'abandoned' };
    default:
      return next; // e.g. ComplianceFlagRaised lives in its own stream; anything else is kept as revision only
  }
}

export function foldSaga(opportunityId: string, events: RecordedEvent[]): SagaState {
  return events.reduce(evolveSaga, emptySaga(opportunityId));
}
