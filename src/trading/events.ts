// Events of the trading context: how an arbitrage saga ends when no fill outcome closes it.
// The saga's other events belong to the contexts that decide them (market, risk, compliance,
// signing, execution); all of one opportunity go to the stream `arbitrage-<opportunityId>`.
import { defineEvent, type PayloadOf } from '../ledger/event-types.js';
import { isoTime, obj, optional, str } from '../ledger/schema.js';

export const SAGA_STREAM_PREFIX = 'arbitrage-';
export const sagaStreamId = (opportunityId: string) => `${SAGA_STREAM_PREFIX}${opportunityId}`;

export const SAGA_STEPS = ['quote', 'risk', 'compliance', 'sign', 'submit', 'confirm'] as const;
export type SagaStep = (typeof SAGA_STEPS)[number];

/** Market data could not be had for the opportunity: the saga ends here. */
export const QuoteFailed = defineEvent({
  type: 'QuoteFailed',
  version: 1,
  payload: obj({
    opportunityId: str({ min: 1, max: 200 }),
    source: str({ min: 1, max: 50 }),
    code: str({ min: 1, max: 100 }),
    message: str({ min: 1, max: 2000 }),
    failedAt: isoTime(),
  }),
});
export type QuoteFailedPayload = PayloadOf<typeof QuoteFailed>;

/**
 * The saga was closed without trading: a step failed for a reason that is not a market or fill
 * outcome (e.g. signer unavailable), or recovery found it too old to go on safely.
 */
export const OpportunityAbandoned = defineEvent({
  type: 'OpportunityAbandoned',
  version: 1,
  payload: obj({
    opportunityId: str({ min: 1, max: 200 }),
    /** The step the saga had not finished when it was closed. */
    step: str({ oneOf: SAGA_STEPS }),
    reason: str({ min: 1, max: 2000 }),
    /** Set when a transaction had been signed: it never filled (never submitted, or expired while the engine was down). */
    signature: optional(str({ min: 64, max: 88 })),
    abandonedAt: isoTime(),
  }),
});
export type OpportunityAbandonedPayload = PayloadOf<typeof OpportunityAbandoned>;

export const tradingEvents = [QuoteFailed, OpportunityAbandoned];
