// The case workflow of a compliance flag: open (raised) → reviewed → closed, each step an
// event with the actor and a note. Closing needs a review first — a flag is never closed
// unread — so open → closed is refused. Pure: the handler folds the flag's stream with
// `evolveFlagCase`, calls `reviewFlag` / `closeFlag`, and appends the returned payload.
import type {
  CloseOutcome,
  ComplianceFlagClosedPayload,
  ComplianceFlagRaisedPayload,
  ComplianceFlagReviewedPayload,
} from './events.js';
import { CLOSE_OUTCOMES } from './events.js';
import type { ComplianceRule, Severity } from './rules.js';

export type FlagStatus = 'open' | 'reviewed' | 'closed';

/** The minimum an event needs for the fold: a RecordedEvent or NewEvent fits. */
export interface FlagEventLike {
  type: string;
  payload: unknown;
  recordedAt: string;
}

export interface FlagCase {
  flagId: string;
  opportunityId: string;
  rule: ComplianceRule;
  severity: Severity;
  status: FlagStatus;
  raisedAt: string;
  reviewedBy: string | null;
  reviewedAt: string | null;
  reviewNote: string | null;
  closedBy: string | null;
  closedAt: string | null;
  closeNote: string | null;
  outcome: CloseOutcome | null;
}

export { flagStreamId } from './events.js';

export class InvalidTransitionError extends Error {
  readonly code = 'INVALID_FLAG_TRANSITION';
  constructor(readonly flagId: string, readonly from: FlagStatus, readonly to: FlagStatus, message: string) {
    super(message);
    this.name = 'InvalidTransitionError';
  }
}

export class FlagNotFoundError extends Error {
  readonly code = 'FLAG_NOT_FOUND';
  constructor(readonly flagId: string) {
    super(`compliance flag ${flagId} does not exist`);
    this.name = 'FlagNotFoundError';
  }
}

export class InvalidCaseInputError extends Error {
  readonly code = 'INVALID_CASE_INPUT';
  constructor(readonly problems: string[]) {
    super(`Invalid case action: ${problems.join('; ')}`);
    this.name = 'InvalidCaseInputError';
  }
}

export type CaseError = InvalidTransitionError | FlagNotFoundError | InvalidCaseInputError;

/** Folds one event of a flag's stream. Events of other flags or types leave the case unchanged. */
export function evolveFlagCase(state: FlagCase | null, event: FlagEventLike): FlagCase | null {
  switch (event.type) {
    case 'ComplianceFlagRaised': {
      const p = event.payload as ComplianceFlagRaisedPayload;
      if (state) return state; // raised once; a re-append is an idempotent retry
      return {
        flagId: p.flagId,
        opportunityId: p.opportunityId,
        rule: p.rule,
        severity: p.severity,
        status: 'open',
        raisedAt: event.recordedAt,
        reviewedBy: null,
        reviewedAt: null,
        reviewNote: null,
        closedBy: null,
        closedAt: null,
        closeNote: null,
        outcome: null,
      };
    }
    case 'ComplianceFlagReviewed': {
      const p = event.payload as ComplianceFlagReviewedPayload;
      if (!state || p.flagId !== state.flagId) return state;
      return { ...state, status: 'reviewed', reviewedBy: p.actor, reviewedAt: event.recordedAt, reviewNote: p.note };
    }
    case 'ComplianceFlagClosed': {
      const p = event.payload as ComplianceFlagClosedPayload;
      if (!state || p.flagId !== state.flagId) return state;
      return { ...state, status: 'closed', closedBy: p.actor, closedAt: event.recordedAt, closeNote: p.note, outcome: p.outcome ?? null };
    }
    default:
      return state;
  }
}

function checkInput(cmd: { actor: unknown; note: unknown; outcome?: unknown }): InvalidCaseInputError | null {
  const problems: string[] = [];
  if (typeof cmd.actor !== 'string' || cmd.actor.trim() === '') problems.push('actor is required');
  else if (cmd.actor.trim().length > 200) problems.push('actor must have at most 200 characters');
  if (typeof cmd.note !== 'string' || cmd.note.trim() === '') problems.push('note is required: say what was looked at and why');
  else if (cmd.note.trim().length > 4000) problems.push('note must have at most 4000 characters');
  if (cmd.outcome !== undefined && !(CLOSE_OUTCOMES as readonly unknown[]).includes(cmd.outcome)) {
    problems.push(`outcome must be one of ${CLOSE_OUTCOMES.join(', ')}`);
  }
  return problems.length ? new InvalidCaseInputError(problems) : null;
}

/** open → reviewed. */
export function reviewFlag(
  flag: FlagCase | null | undefined,
  cmd: { flagId?: string; actor: string; note: string },
): ComplianceFlagReviewedPayload | CaseError {
  if (!flag) return new FlagNotFoundError(cmd.flagId ?? 'unknown');
  const bad = checkInput(cmd);
  if (bad) return bad;
  if (flag.status === 'reviewed') {
    return new InvalidTransitionError(flag.flagId, 'reviewed', 'reviewed',
      `flag ${flag.flagId} was already reviewed by ${flag.reviewedBy} at ${flag.reviewedAt}; close it instead`);
  }
  if (flag.status === 'closed') {
    return new InvalidTransitionError(flag.flagId, 'closed', 'reviewed', `flag ${flag.flagId} is closed; a closed case cannot be reviewed again`);
  }
  return { flagId: flag.flagId, actor: cmd.actor.trim(), note: cmd.note.trim() };
}

/** reviewed → closed (open → closed is refused: review it first). */
export function closeFlag(
  flag: FlagCase | null | undefined,
  cmd: { flagId?: string; actor: string; note: string; outcome?: CloseOutcome },
): ComplianceFlagClosedPayload | CaseError {
  if (!flag) return new FlagNotFoundError(cmd.flagId ?? 'unknown');
  const bad = checkInput(cmd);
  if (bad) return bad;
  if (flag.status === 'open') {
    return new InvalidTransitionError(flag.flagId, 'open', 'closed', `flag ${flag.flagId} is still open: review it before closing it`);
  }
  if (flag.status === 'closed') {
    return new InvalidTransitionError(flag.flagId, 'closed', 'closed',
      `flag ${flag.flagId} was already closed by ${flag.closedBy} at ${flag.closedAt}`);
  }
  return { flagId: flag.flagId, actor: cmd.actor.trim(), note: cmd.note.trim(), ...(cmd.outcome ? { outcome: cmd.outcome } : {}) };
}
