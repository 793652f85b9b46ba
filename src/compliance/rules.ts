// Compliance screening rules over one trade and its counterparties: a pure function of the
// trade, the recent screened trades, the thresholds and the sanctions list. The saga stops on a
// blocking flag and goes on with an advisory one (kept for review in a case).
//
// Severity per rule, and why:
// - sanctioned_address → blocking: trading with a listed address is prohibited outright;
// - large_transaction  → advisory: large is legal, it only needs a human look;
// - velocity_count / velocity_notional → blocking: a burst beyond the configured window is more
//   likely a runaway engine or a compromised key than a strategy, and stopping is cheap;
// - structuring → advisory: the pattern is a suspicion, not proof.
//
// Boundaries (each tested at the limit and one unit past it):
// - large_transaction fires when notional > threshold (at the threshold is not "large");
// - the structuring band is [threshold − threshold × bandBps / 10 000, threshold], i.e. just
//   under or at the threshold, so a trade is either large or possibly structuring, never both;
// - velocity fires when the count (or notional) in the window, this trade included, is above the
//   maximum; windows are (at − window, at]: a trade exactly one window old is out.
import { uuidFromText } from '../shared/ids.js';

export const COMPLIANCE_RULES = [
  'sanctioned_address',
  'large_transaction',
  'velocity_count',
  'velocity_notional',
  'structuring',
] as const;
export type ComplianceRule = (typeof COMPLIANCE_RULES)[number];

export const SEVERITIES = ['blocking', 'advisory'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const DECISIONS = ['clear', 'advisory', 'blocked'] as const;
export type ScreeningDecision = (typeof DECISIONS)[number];

export const RULE_SEVERITY: Readonly<Record<ComplianceRule, Severity>> = {
  sanctioned_address: 'blocking',
  large_transaction: 'advisory',
  velocity_count: 'blocking',
  velocity_notional: 'blocking',
  structuring: 'advisory',
};

export interface ScreenedTrade {
  opportunityId: string;
  /** Every address the trade touches: signer, program ids, token accounts, venue. Base58 is case-sensitive and compared as is. */
  counterparties: readonly string[];
  notionalUsdMicros: bigint;
  /** ISO-8601 time of the trade. */
  at: string;
}

/**
 * A trade screened earlier. The caller passes trades that were allowed to proceed (clear or
 * advisory); a blocked one never traded and should not count toward velocity.
 */
export interface ScreeningHistoryItem {
  opportunityId?: string;
  at: string;
  notionalUsdMicros: bigint;
}

export interface ComplianceRulesConfig {
  largeTxThresholdUsdMicros: bigint;
  velocityWindowSeconds: number;
  velocityMaxCount: number;
  velocityMaxNotionalUsdMicros: bigint;
  structuringWindowSeconds: number;
  /** How far under the large-transaction threshold still counts as "just under", in bps of it. */
  structuringBandBps: number;
  /** Trades in the band within the window (this one included) that make a pattern. */
  structuringMinCount: number;
}

/** What screening needs from a sanctions list; SanctionsList implements it, tests can pass a Set. */
export interface SanctionsLookup {
  has(address: string): boolean;
  /** Content hash of the list in force, recorded as evidence. */
  readonly version?: string;
}

export type Evidence = Record<string, string | number | boolean | null | string[]>;

export interface ComplianceFlag {
  flagId: string;
  rule: ComplianceRule;
  severity: Severity;
  evidence: Evidence;
}

export interface ScreeningResult {
  decision: ScreeningDecision;
  rulesEvaluated: { rule: ComplianceRule; fired: boolean }[];
  flags: ComplianceFlag[];
}

export interface ScreenOptions {
  /** Supplies flag ids; default: deterministic from opportunity id and rule (idempotent retries). */
  flagId?: (rule: ComplianceRule, opportunityId: string) => string;
}

/** Evidence lists are capped so one flag never grows an event beyond reason. */
const MAX_EVIDENCE_IDS = 100;

/** A UUID (version 5 layout) derived from the opportunity id and rule: the same screening retried gives the same flag ids. */
export function deterministicFlagId(rule: ComplianceRule, opportunityId: string): string {
  return uuidFromText(`arbiter:compliance-flag:${opportunityId}:${rule}`);
}

function parseTime(at: string, what: string): number {
  const t = Date.parse(at);
  if (Number.isNaN(t)) throw new RangeError(`${what} has an invalid time "${at}" (expected ISO-8601)`);
  return t;
}

/** Lower edge of the structuring band (inclusive); the threshold is the upper edge (inclusive). */
export function structuringBandLow(config: ComplianceRulesConfig): bigint {
  const t = config.largeTxThresholdUsdMicros;
  return t - (t * BigInt(config.structuringBandBps)) / 10_000n;
}

export function screen(
  trade: ScreenedTrade,
  history: readonly ScreeningHistoryItem[],
  config: ComplianceRulesConfig,
  sanctions: SanctionsLookup,
  opts: ScreenOptions = {},
): ScreeningResult {
  const atMs = parseTime(trade.at, `trade ${trade.opportunityId}`);
  // Earlier screenings of the same opportunity (a retry) and trades after this one do not count.
  const past = history
    .filter((h) => h.opportunityId === undefined || h.opportunityId !== trade.opportunityId)
    .map((h) => ({ ...h, atMs: parseTime(h.at, `history trade ${h.opportunityId ?? ''}`.trim()) }))
    .filter((h) => h.atMs <= atMs);
  const within = (seconds: number) => past.filter((h) => h.atMs > atMs - seconds * 1000);
  const ids = (items: { opportunityId?: string }[]) =>
    [...items.map((h) => h.opportunityId ?? '?'), trade.opportunityId].slice(-MAX_EVIDENCE_IDS);

  const fired: Partial<Record<ComplianceRule, Evidence>> = {};

  // sanctioned_address
  const matched = [...new Set(trade.counterparties.map((a) => a.trim()).filter((a) => a !== '' && sanctions.has(a)))];
  if (matched.length) {
    fired.sanctioned_address = {
      matchedAddresses: matched.slice(0, MAX_EVIDENCE_IDS),
      counterpartiesChecked: trade.counterparties.length,
      sanctionsListVersion: sanctions.version ?? null,
    };
  }

  // large_transaction
  const n = trade.notionalUsdMicros;
  const threshold = config.largeTxThresholdUsdMicros;
  if (n > threshold) {
    fired.large_transaction = { notionalUsdMicros: n.toString(), thresholdUsdMicros: threshold.toString() };
  }

  // velocity_count and velocity_notional
  const velocity = within(config.velocityWindowSeconds);
  const count = velocity.length + 1;
  const windowStart = new Date(atMs - config.velocityWindowSeconds * 1000).toISOString();
  if (count > config.velocityMaxCount) {
    fired.velocity_count = {
      windowSeconds: config.velocityWindowSeconds,
      windowStart,
      count,
      maxCount: config.velocityMaxCount,
      opportunityIds: ids(velocity),
    };
  }
  const sum = velocity.reduce((acc, h) => acc + h.notionalUsdMicros, n);
  if (sum > config.velocityMaxNotionalUsdMicros) {
    fired.velocity_notional = {
      windowSeconds: config.velocityWindowSeconds,
      windowStart,
      notionalUsdMicros: sum.toString(),
      maxNotionalUsdMicros: config.velocityMaxNotionalUsdMicros.toString(),
      count,
    };
  }

  // structuring: this trade is just under the threshold and completes a pattern of such trades
  const low = structuringBandLow(config);
  const inBand = (v: bigint) => v >= low && v <= threshold;
  if (inBand(n)) {
    const band = within(config.structuringWindowSeconds).filter((h) => inBand(h.notionalUsdMicros));
    const bandCount = band.length + 1;
    if (bandCount >= config.structuringMinCount) {
      fired.structuring = {
        windowSeconds: config.structuringWindowSeconds,
        bandLowUsdMicros: low.toString(),
        thresholdUsdMicros: threshold.toString(),
        count: bandCount,
        minCount: config.structuringMinCount,
        opportunityIds: ids(band),
      };
    }
  }

  const makeId = opts.flagId ?? deterministicFlagId;
  const flags: ComplianceFlag[] = COMPLIANCE_RULES.filter((r) => fired[r]).map((rule) => ({
    flagId: makeId(rule, trade.opportunityId),
    rule,
    severity: RULE_SEVERITY[rule],
    evidence: fired[rule]!,
  }));
  const decision: ScreeningDecision = flags.some((f) => f.severity === 'blocking')
    ? 'blocked'
    : flags.length
      ? 'advisory'
      : 'clear';
  return { decision, rulesEvaluated: COMPLIANCE_RULES.map((rule) => ({ rule, fired: rule in fired })), flags };
}
