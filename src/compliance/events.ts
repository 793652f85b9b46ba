// Events of the compliance context. ComplianceScreened records one screening (it also carries
// the trade's time and notional so velocity history can be rebuilt from compliance's own
// events); each rule that fired gets a ComplianceFlagRaised, and the flag's case goes
// open → reviewed → closed through ComplianceFlagReviewed and ComplianceFlagClosed, which
// belong in the flag's own stream (see flagStreamId in cases.ts).
import { defineEvent } from '../ledger/event-types.js';
import { array, baseUnits, bool, isoTime, obj, optional, str, uuid } from '../ledger/schema.js';
import {
  COMPLIANCE_RULES,
  DECISIONS,
  SEVERITIES,
  type ComplianceRule,
  type Evidence,
  type ScreenedTrade,
  type ScreeningDecision,
  type ScreeningHistoryItem,
  type ScreeningResult,
  type Severity,
} from './rules.js';

/** One stream per flag, so two operators acting on the same flag meet an expected-revision conflict. */
export function flagStreamId(flagId: string): string {
  return `compliance-flag-${flagId}`;
}

export const CLOSE_OUTCOMES = ['dismissed', 'reported'] as const;
export type CloseOutcome = (typeof CLOSE_OUTCOMES)[number];

export interface ComplianceScreenedPayload {
  opportunityId: string;
  decision: ScreeningDecision;
  rulesEvaluated: { rule: ComplianceRule; fired: boolean }[];
  /** Ids of the flags raised by this screening (one ComplianceFlagRaised each). */
  flags: string[];
  /** Trade time and size, for velocity and structuring history. */
  at: string;
  notionalUsdMicros: string;
  sanctionsListVersion?: string;
}

export interface ComplianceFlagRaisedPayload {
  flagId: string;
  opportunityId: string;
  rule: ComplianceRule;
  severity: Severity;
  evidence: Evidence;
}

export interface ComplianceFlagReviewedPayload {
  flagId: string;
  actor: string;
  note: string;
}

export interface ComplianceFlagClosedPayload {
  flagId: string;
  actor: string;
  note: string;
  outcome?: CloseOutcome;
}

const opportunityId = str({ min: 1, max: 200 });
const actor = str({ min: 1, max: 200 });
const note = str({ min: 1, max: 4000 });

export const ComplianceScreened = defineEvent<ComplianceScreenedPayload>({
  type: 'ComplianceScreened',
  version: 1,
  payload: obj({
    opportunityId,
    decision: str({ oneOf: DECISIONS }),
    rulesEvaluated: array(obj({ rule: str({ oneOf: COMPLIANCE_RULES }), fired: bool() }), { min: 1 }),
    flags: array(uuid()),
    at: isoTime(),
    notionalUsdMicros: baseUnits(),
    sanctionsListVersion: optional(str({ min: 1, max: 128 })),
  }),
});

export const ComplianceFlagRaised = defineEvent<ComplianceFlagRaisedPayload>({
  type: 'ComplianceFlagRaised',
  version: 1,
  payload: obj({
    flagId: uuid(),
    opportunityId,
    rule: str({ oneOf: COMPLIANCE_RULES }),
    severity: str({ oneOf: SEVERITIES }),
    evidence: obj({}, { allowUnknown: true }),
  }),
});

export const ComplianceFlagReviewed = defineEvent<ComplianceFlagReviewedPayload>({
  type: 'ComplianceFlagReviewed',
  version: 1,
  payload: obj({ flagId: uuid(), actor, note }),
});

export const ComplianceFlagClosed = defineEvent<ComplianceFlagClosedPayload>({
  type: 'ComplianceFlagClosed',
  version: 1,
  payload: obj({ flagId: uuid(), actor, note, outcome: optional(str({ oneOf: CLOSE_OUTCOMES })) }),
});

/** The stream of the sanctions lists put in force, one SanctionsListActivated each. */
export const SANCTIONS_LIST_STREAM = 'compliance-sanctions-list';

export interface SanctionsListActivatedPayload {
  /** sha256 (hex) of the sorted, distinct entries joined by newlines: equal content, equal hash. */
  contentHash: string;
  /** Where it came from: `file:<path>` on the node that loaded it, or `api:<actor>`. */
  source: string;
  /** The addresses, sorted and distinct. Every node screens against exactly these. */
  entries: string[];
}

/**
 * A sanctions list put in force for every node: the latest one in the log is the list screening
 * uses (a node-local file only feeds it). Written only when the content differs from the list in
 * force.
 */
export const SanctionsListActivated = defineEvent<SanctionsListActivatedPayload>({
  type: 'SanctionsListActivated',
  version: 1,
  payload: obj({
    contentHash: str({ pattern: /^[0-9a-f]{64}$/ }),
    source: str({ min: 1, max: 600 }),
    entries: array(str({ min: 1, max: 128 }), { max: 1_000_000 }),
  }),
});

export const complianceEvents = [ComplianceScreened, ComplianceFlagRaised, ComplianceFlagReviewed, ComplianceFlagClosed, SanctionsListActivated];

/** The payloads to append for one screening: ComplianceScreened first, then one ComplianceFlagRaised per flag. */
export function screeningPayloads(
  trade: ScreenedTrade,
  result: ScreeningResult,
  sanctionsListVersion?: string,
): { screened: ComplianceScreenedPayload; flagsRaised: ComplianceFlagRaisedPayload[] } {
  // Normalise the time so the payload always passes isoTime() whatever ISO form the caller used.
  const at = new Date(Date.parse(trade.at)).toISOString();
  const screened: ComplianceScreenedPayload = {
    opportunityId: trade.opportunityId,
    decision: result.decision,
    rulesEvaluated: result.rulesEvaluated,
    flags: result.flags.map((f) => f.flagId),
    at,
    notionalUsdMicros: trade.notionalUsdMicros.toString(),
    ...(sanctionsListVersion ? { sanctionsListVersion } : {}),
  };
  const flagsRaised = result.flags.map((f) => ({
    flagId: f.flagId,
    opportunityId: trade.opportunityId,
    rule: f.rule,
    severity: f.severity,
    evidence: f.evidence,
  }));
  return { screened, flagsRaised };
}

/** Screening history from ComplianceScreened events: trades that were let through (not blocked). */
/** A retried screening of the same opportunity replaces the earlier one, so no trade counts twice. */
export function historyFromScreened(events: Iterable<{ type: string; payload: unknown }>): ScreeningHistoryItem[] {
  const byOpportunity = new Map<string, ScreeningHistoryItem>();
  for (const e of events) {
    if (e.type !== ComplianceScreened.type) continue;
    const p = e.payload as ComplianceScreenedPayload;
    byOpportunity.delete(p.opportunityId);
    if (p.decision === 'blocked' || !/^\d+$/.test(p.notionalUsdMicros ?? '')) continue;
    byOpportunity.set(p.opportunityId, { opportunityId: p.opportunityId, at: p.at, notionalUsdMicros: BigInt(p.notionalUsdMicros) });
  }
  return [...byOpportunity.values()];
}
