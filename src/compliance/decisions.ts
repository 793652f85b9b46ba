// The compliance context's published decision for the trading saga: screen one trade against the
// rules, the sanctions list in force and the recent screenings compliance remembers, and say
// what to record (ComplianceScreened, and one ComplianceFlagRaised per flag). Pure: everything it
// reads comes in the ScreeningContext that the compliance port hands out.
import { screeningPayloads, type ComplianceFlagRaisedPayload, type ComplianceScreenedPayload } from './events.js';
import { screen, type ComplianceRulesConfig, type SanctionsLookup, type ScreenedTrade, type ScreeningHistoryItem } from './rules.js';

export type { ScreenedTrade } from './rules.js';

/** What a screening depends on besides the trade, as compliance has it now. */
export interface ScreeningContext {
  /** Trades let through recently (for the velocity and structuring rules). */
  history: readonly ScreeningHistoryItem[];
  rules: ComplianceRulesConfig;
  sanctions: SanctionsLookup;
}

export function screenTrade(
  trade: ScreenedTrade,
  ctx: ScreeningContext,
): { screened: ComplianceScreenedPayload; flagsRaised: ComplianceFlagRaisedPayload[] } {
  return screeningPayloads(trade, screen(trade, ctx.history, ctx.rules, ctx.sanctions), ctx.rules, ctx.sanctions.version);
}
