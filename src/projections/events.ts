// Events of the projections context: who asked for a read model to be rebuilt from the log, and why.
import { defineEvent, type PayloadOf } from '../ledger/event-types.js';
import { obj, str } from '../ledger/schema.js';

/** Stream of a projection's operator actions. */
export const projectionStreamId = (name: string) => `projection-${name}`;

export const ProjectionRebuildRequested = defineEvent({
  type: 'ProjectionRebuildRequested',
  version: 1,
  payload: obj({ projection: str({ pattern: /^[a-z][a-z0-9_]{0,40}$/ }), actor: str({ min: 1, max: 200 }), reason: str({ min: 1, max: 2000 }) }),
});
export type ProjectionRebuildRequestedPayload = PayloadOf<typeof ProjectionRebuildRequested>;

export const projectionEvents = [ProjectionRebuildRequested];
