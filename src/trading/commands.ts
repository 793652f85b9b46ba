// Commands of the trading context. The saga is driven by them: DetectOpportunity records a new
// opportunity; AdvanceArbitrage performs the next step of one saga from its recorded events.
import type { OpportunityCandidate } from '../market/opportunity-source.port.js';

export class DetectOpportunity {
  constructor(readonly candidate: OpportunityCandidate) {}
}

export class AdvanceArbitrage {
  constructor(
    readonly opportunityId: string,
    /** Set when the engine picks a saga up again after a restart. */
    readonly resumed = false,
    /** Aborted when the engine's drain runs out of time: a step that waits (confirm) stops waiting. */
    readonly signal?: AbortSignal,
  ) {}
}
