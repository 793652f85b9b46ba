// How an arbitrage saga can end, defined once. The saga's state machine, start-up recovery (and
// the SQL it runs over the executions read model), the executions projection and GraphQL all
// take their words and their "is it over?" from here, so the four can never disagree again.

export const SAGA_OUTCOMES = [
  'filled',
  'fill_failed',
  'expired',
  'rejected_by_risk',
  'blocked_by_compliance',
  'quote_failed',
  'abandoned',
] as const;
export type SagaOutcome = (typeof SAGA_OUTCOMES)[number];

/** The phases a saga passes through before it ends, in order; also the executions read model's statuses. */
export const SAGA_OPEN_PHASES = ['detected', 'quoted', 'approved', 'screened', 'prepared', 'signed', 'submitted'] as const;
export type SagaOpenPhase = (typeof SAGA_OPEN_PHASES)[number];

/** Event types that always end a saga. */
const ALWAYS_ENDING: Readonly<Record<string, SagaOutcome>> = {
  QuoteFailed: 'quote_failed',
  FillConfirmed: 'filled',
  FillFailed: 'fill_failed',
  TransactionExpired: 'expired',
  OpportunityAbandoned: 'abandoned',
};

/** Event types that end a saga or may, depending on their payload (a refusal). */
export const SAGA_ENDING_EVENT_TYPES: readonly string[] = [...Object.keys(ALWAYS_ENDING), 'RiskAssessed', 'ComplianceScreened'];

/** The outcome an event of a saga's stream gives the saga, or null when the saga goes on. */
export function sagaOutcomeOf(e: { type: string; payload: unknown }): SagaOutcome | null {
  const always = ALWAYS_ENDING[e.type];
  if (always) return always;
  const p = e.payload as { approved?: unknown; decision?: unknown } | null;
  if (e.type === 'RiskAssessed' && p?.approved === false) return 'rejected_by_risk';
  if (e.type === 'ComplianceScreened' && p?.decision === 'blocked') return 'blocked_by_compliance';
  return null;
}

export function isSagaOutcome(status: string): status is SagaOutcome {
  return (SAGA_OUTCOMES as readonly string[]).includes(status);
}
