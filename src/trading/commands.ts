// Commands of the trading context. The saga is driven by them: DetectOpportunity records a new
// opportunity; AdvanceArbitrage performs the next step of one saga from its recorded events.
import { Command } from '@nestjs/cqrs';
import type { CommandContext, CommandReceipt } from '../ledger/decide-and-append.js';
import type { OpportunityCandidate } from '../market/opportunity-source.port.js';
import type { PlannedSale } from './inventory-sales.js';

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

/** What a flatten started: the request's event (null when nothing was recorded) and its sales. */
export interface FlattenResult {
  request: CommandReceipt | null;
  sales: PlannedSale[];
  /** Inventory that could not be sold, and why (e.g. a token the engine has no price for). */
  skipped: { mint: string; amountBaseUnits: string; reason: string }[];
  message: string;
}

/**
 * Sells the inventory back to its base tokens: one inventory-sale saga per held mint. 'flatten'
 * is an operator's request (recorded as FlattenRequested); 'reducing' is the REDUCING mode's own
 * wind-down (each sale's OpportunityDetected says so).
 */
export class FlattenInventory extends Command<FlattenResult> {
  constructor(
    readonly ctx: CommandContext,
    readonly reason: string,
    readonly trigger: 'flatten' | 'reducing' = 'flatten',
  ) {
    super();
  }
}
