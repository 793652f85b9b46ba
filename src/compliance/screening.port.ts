// The compliance context's port for screening: the rules, the sanctions list in force and the
// recent screenings compliance remembers (a fold of its own ComplianceScreened events), handed
// to the published decision `screenTrade` (decisions.ts). ComplianceService is the adapter.
import type { ScreeningContext } from './decisions.js';

export const SCREENING = Symbol('SCREENING');

export interface Screening {
  /** Resolves once the sanctions list is loaded and the screening memory follows the log. */
  ready(): Promise<void>;
  context(): ScreeningContext;
  /** Resolves once the event at `position` (if it is a ComplianceScreened) is remembered. */
  caughtUp(position: bigint, timeoutMs?: number): Promise<void>;
  /** Resolves once everything it folds at or before `head` (any position, e.g. the log's head) is folded in. */
  caughtUpThrough(head: bigint, timeoutMs?: number): Promise<void>;
}
