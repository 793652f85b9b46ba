// Events of the leadership context: who runs the engine. One stream, `engine-leader`, holds one
// EngineLeadershipAcquired per takeover; the revision of the newest one is the fencing token that
// every append of the engine carries (docs/decisions/0011-engine-high-availability.md).
import type { z } from 'zod';
import { defineEvent, type PayloadOf } from '../event-types.js';
import { obj, record, str } from '../schema.js';

/** The stream whose revision is the engine's fencing token. */
export const ENGINE_LEADER_STREAM = 'engine-leader';

const acquiredV1 = {
  /** ENGINE_NODE_ID of the node that took the lease. */
  holder: str({ min: 1, max: 100 }),
  /** The lease's epoch (engine_lease.epoch) it took, as a decimal string. */
  epoch: str({ pattern: /^\d{1,19}$/ }),
};
export const EngineLeadershipAcquiredV1Schema = obj(acquiredV1);
export type EngineLeadershipAcquiredV1Payload = z.output<typeof EngineLeadershipAcquiredV1Schema>;

/**
 * Version 2 (docs/decisions/0020) adds `settings`: the node-local settings the new leader decides
 * with (src/config/decision-settings.ts) and their hash, so every node can tell whether it would
 * decide alike. Version-1 events are upcast with `settings: null`: not recorded, never guessed.
 */
export const EngineLeadershipAcquired = defineEvent({
  type: 'EngineLeadershipAcquired',
  version: 2,
  payload: obj({
    ...acquiredV1,
    settings: obj({
      version: str({ pattern: /^[0-9a-f]{32}$/ }),
      /** Variable name → value, as the leader's configuration had it. */
      values: record<Record<string, string>>(),
    }).nullable(),
  }),
  upcasters: {
    1: (p: EngineLeadershipAcquiredV1Payload) => ({ ...p, settings: null }),
  },
});
export type EngineLeadershipAcquiredPayload = PayloadOf<typeof EngineLeadershipAcquired>;

export const leadershipEvents = [EngineLeadershipAcquired];
