// Events of the compliance context. ComplianceScreened records one screening (it also carries
// the trade's time and notional so velocity history can be rebuilt from compliance's own
// events); each rule that fired gets a ComplianceFlagRaised, and the flag's case goes
// open → reviewed → closed through ComplianceFlagReviewed and ComplianceFlagClosed, which
// belong in the flag's own stream (see flagStreamId in cases.ts).
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { defineEvent, type PayloadOf } from '../ledger/event-types.js';
import { array, baseUnits, bool, int, isoTime, obj, optional, record, str, uuid } from '../ledger/schema.js';
import { canonicalJson } from '../shared/canonical-json.js';
import {
  COMPLIANCE_RULES,
  type ComplianceRulesConfig,
  DECISIONS,
  SEVERITIES,
  type Evidence,
  type ScreenedTrade,
  type ScreeningHistoryItem,
  type ScreeningResult,
} from './rules.js';

/** One stream per flag, so two operators acting on the same flag meet an expected-revision conflict. */
export function flagStreamId(flagId: string): string {
  return `compliance-flag-${flagId}`;
}

export const CLOSE_OUTCOMES = ['dismissed', 'reported'] as const;
export type CloseOutcome = (typeof CLOSE_OUTCOMES)[number];

const opportunityId = str({ min: 1, max: 200 });
const actor = str({ min: 1, max: 200 });
const note = str({ min: 1, max: 4000 });

/** The thresholds a screening ran with, as stored: amounts as integer strings, never floats. */
const ruleSetSchema = obj({
  /** First 32 hex digits of SHA-256 over the canonical JSON of `thresholds` (the same form as the sanctions list's version). */
  version: str({ pattern: /^[0-9a-f]{32}$/ }),
  thresholds: obj({
    largeTxThresholdUsdMicros: baseUnits(),
    velocityWindowSeconds: int({ min: 0 }),
    velocityMaxCount: int({ min: 0 }),
    velocityMaxNotionalUsdMicros: baseUnits(),
    structuringWindowSeconds: int({ min: 0 }),
    structuringBandBps: int({ min: 0, max: 10_000 }),
    structuringMinCount: int({ min: 0 }),
  }),
});
export type ScreeningRuleSet = z.output<typeof ruleSetSchema>;

const screenedV1 = {
  opportunityId,
  decision: str({ oneOf: DECISIONS }),
  rulesEvaluated: array(obj({ rule: str({ oneOf: COMPLIANCE_RULES }), fired: bool() }), { min: 1 }),
  /** Ids of the flags raised by this screening (one ComplianceFlagRaised each). */
  flags: array(uuid()),
  /** Trade time and size, for velocity and structuring history. */
  at: isoTime(),
  notionalUsdMicros: baseUnits(),
  /** Content hash of the sanctions list in force. */
  sanctionsListVersion: optional(str({ min: 1, max: 128 })),
};

/** Version 1 as it was written until docs/decisions/0017: without the thresholds in force. */
export const ComplianceScreenedV1Schema = obj(screenedV1);
export type ComplianceScreenedV1Payload = z.output<typeof ComplianceScreenedV1Schema>;

/**
 * Version 2 (docs/decisions/0017) adds `ruleSet`: the thresholds the rules ran with and their
 * hash, so a reviewer can tell why a trade was (or was not) flagged after the configuration has
 * changed. Version-1 rows are upcast with `ruleSet: null`: not recorded, never guessed.
 */
const ComplianceScreenedSchema = obj({ ...screenedV1, ruleSet: ruleSetSchema.nullable() });
export type ComplianceScreenedPayload = z.output<typeof ComplianceScreenedSchema>;

export const ComplianceScreened = defineEvent({
  type: 'ComplianceScreened',
  version: 2,
  payload: ComplianceScreenedSchema,
  upcasters: {
    1: (p: ComplianceScreenedV1Payload): ComplianceScreenedPayload => ({ ...p, ruleSet: null }),
  },
});

export const ComplianceFlagRaised = defineEvent({
  type: 'ComplianceFlagRaised',
  version: 1,
  payload: obj({
    flagId: uuid(),
    opportunityId,
    rule: str({ oneOf: COMPLIANCE_RULES }),
    severity: str({ oneOf: SEVERITIES }),
    evidence: record<Evidence>(),
  }),
});
export type ComplianceFlagRaisedPayload = PayloadOf<typeof ComplianceFlagRaised>;

export const ComplianceFlagReviewed = defineEvent({
  type: 'ComplianceFlagReviewed',
  version: 1,
  payload: obj({ flagId: uuid(), actor, note }),
});
export type ComplianceFlagReviewedPayload = PayloadOf<typeof ComplianceFlagReviewed>;

export const ComplianceFlagClosed = defineEvent({
  type: 'ComplianceFlagClosed',
  version: 1,
  payload: obj({ flagId: uuid(), actor, note, outcome: optional(str({ oneOf: CLOSE_OUTCOMES })) }),
});
export type ComplianceFlagClosedPayload = PayloadOf<typeof ComplianceFlagClosed>;

/** The rule set a screening records: the thresholds as stored, and their hash. */
export function screeningRuleSet(rules: ComplianceRulesConfig): ScreeningRuleSet {
  const thresholds = {
    largeTxThresholdUsdMicros: rules.largeTxThresholdUsdMicros.toString(),
    velocityWindowSeconds: rules.velocityWindowSeconds,
    velocityMaxCount: rules.velocityMaxCount,
    velocityMaxNotionalUsdMicros: rules.velocityMaxNotionalUsdMicros.toString(),
    structuringWindowSeconds: rules.structuringWindowSeconds,
    structuringBandBps: rules.structuringBandBps,
    structuringMinCount: rules.structuringMinCount,
  };
  return { version: createHash('sha256').update(canonicalJson(thresholds)).digest('hex').slice(0, 32), thresholds };
}

export const complianceEvents = [ComplianceScreened, ComplianceFlagRaised, ComplianceFlagReviewed, ComplianceFlagClosed];

/** The payloads to append for one screening: ComplianceScreened first, then one ComplianceFlagRaised per flag. */
export function screeningPayloads(
  trade: ScreenedTrade,
  result: ScreeningResult,
  rules: ComplianceRulesConfig,
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
    ruleSet: screeningRuleSet(rules),
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
