// Events of the leadership context: who runs the engine. One stream, `engine-leader`, holds one
// EngineLeadershipAcquired per takeover; the revision of the newest one is the fencing token that
// every append of the engine carries (docs/decisions/0011-engine-high-availability.md).
import { defineEvent, type PayloadOf } from '../event-types.js';
import { obj, str } from '../schema.js';

/** The stream whose revision is the engine's fencing token. */
export const ENGINE_LEADER_STREAM = 'engine-leader';

export const EngineLeadershipAcquired = defineEvent({
  type: 'EngineLeadershipAcquired',
  version: 1,
  payload: obj({
    /** ENGINE_NODE_ID of the node that took the lease. */
    holder: str({ min: 1, max: 100 }),
    /** The lease's epoch (engine_lease.epoch) it took, as a decimal string. */
    epoch: str({ pattern: /^\d{1,19}$/ }),
  }),
});
export type EngineLeadershipAcquiredPayload = PayloadOf<typeof EngineLeadershipAcquired>;

export const leadershipEvents = [EngineLeadershipAcquired];
