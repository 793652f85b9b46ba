// Events of the trading context: how an arbitrage saga ends when no fill outcome closes it.
// The saga's other events belong to the contexts that decide them (market, risk, compliance,
// signing, execution); all of one opportunity go to the stream `arbitrage-<opportunityId>`.
import { defineEvent, type PayloadOf } from '../ledger/event-types.js';
import { array, baseUnits, isoTime, obj, optional, str, uuid } from '../ledger/schema.js';
import { routeSchema } from '../market/events.js';

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

export const FLATTEN_STREAM_PREFIX = 'flatten-';
export const flattenStreamId = (requestId: string) => `${FLATTEN_STREAM_PREFIX}${requestId}`;

/**
 * An operator asked to flatten the inventory (POST /engine/flatten): one sale per held mint, each
 * an inventory-sale saga (stream `arbitrage-<opportunityId>`, started with OpportunityDetected
 * whose reduction names this request). Recorded before any sale starts, so a retry of the same
 * request (its event id is fixed by the Idempotency-Key) starts exactly these sales, never others.
 */
export const FlattenRequested = defineEvent({
  type: 'FlattenRequested',
  version: 1,
  payload: obj({
    requestId: uuid(),
    actor: str({ min: 1, max: 200 }),
    reason: str({ min: 1, max: 2000 }),
    sales: array(
      obj({
        opportunityId: uuid(),
        /** The inventory sold (mintA), and the base token it goes back to (mintB). */
        route: routeSchema,
        /** Base units of route.mintA sold: the inventory no other sale held. */
        amountIn: baseUnits(),
      }),
      { min: 1, max: 64 },
    ),
    requestedAt: isoTime(),
  }),
});
export type FlattenRequestedPayload = PayloadOf<typeof FlattenRequested>;

export const tradingEvents = [QuoteFailed, OpportunityAbandoned, FlattenRequested];
