// The risk context's published decisions: the operator commands on the engine stream
// (PauseEngine, ResumeEngine, ReduceEngine, ChangeRiskLimits) and the pre-trade assessment the
// saga asks for. Pure functions of the trading state and the command (or trade) that return the
// event payload to append, or a typed error the API turns into a 4xx.
import type { EngineState } from './engine-state.js';
import type { EngineMode, EnginePausedPayload, EngineReducingPayload, EngineResumedPayload, RiskLimitsChangedPayload } from './events.js';
import { riskLimitsToJson, validateRiskLimits } from './limits.js';
import { assessRisk, riskAssessedPayload, type RiskCheckInput } from './checks.js';
import type { RiskAssessedPayload } from './events.js';

export class EngineTransitionError extends Error {
  readonly code = 'ENGINE_TRANSITION_REFUSED';
  constructor(readonly from: EngineMode, readonly to: EngineMode, message: string) {
    super(message);
    this.name = 'EngineTransitionError';
  }
}

export class InvalidRiskCommandError extends Error {
  readonly code = 'INVALID_RISK_COMMAND';
  constructor(readonly problems: string[]) {
    super(`Invalid risk command: ${problems.join('; ')}`);
    this.name = 'InvalidRiskCommandError';
  }
}

export interface OperatorCommand {
  actor: string;
  reason: string;
}

function checkCommand(cmd: OperatorCommand): InvalidRiskCommandError | null {
  const problems: string[] = [];
  if (typeof cmd.actor !== 'string' || cmd.actor.trim() === '') problems.push('actor is required');
  else if (cmd.actor.length > 200) problems.push('actor must have at most 200 characters');
  if (typeof cmd.reason !== 'string' || cmd.reason.trim() === '') problems.push('reason is required: say why, it is kept in the audit log');
  else if (cmd.reason.length > 2000) problems.push('reason must have at most 2000 characters');
  return problems.length ? new InvalidRiskCommandError(problems) : null;
}

const stateSince = (s: EngineState) => `since ${s.since ?? 'start'}${s.actor ? ` by ${s.actor}` : ''}`;

export function pauseEngine(state: EngineState, cmd: OperatorCommand): EnginePausedPayload | EngineTransitionError | InvalidRiskCommandError {
  const bad = checkCommand(cmd);
  if (bad) return bad;
  if (state.mode === 'PAUSED') return new EngineTransitionError('PAUSED', 'PAUSED', `engine is already PAUSED ${stateSince(state)}`);
  return { actor: cmd.actor.trim(), reason: cmd.reason.trim(), cause: 'operator' };
}

export function resumeEngine(state: EngineState, cmd: OperatorCommand): EngineResumedPayload | EngineTransitionError | InvalidRiskCommandError {
  const bad = checkCommand(cmd);
  if (bad) return bad;
  if (state.mode === 'ACTIVE') return new EngineTransitionError('ACTIVE', 'ACTIVE', 'engine is already ACTIVE: nothing to resume');
  return { actor: cmd.actor.trim(), reason: cmd.reason.trim() };
}

export function reduceEngine(state: EngineState, cmd: OperatorCommand): EngineReducingPayload | EngineTransitionError | InvalidRiskCommandError {
  const bad = checkCommand(cmd);
  if (bad) return bad;
  if (state.mode === 'REDUCING') return new EngineTransitionError('REDUCING', 'REDUCING', `engine is already REDUCING ${stateSince(state)}`);
  return { actor: cmd.actor.trim(), reason: cmd.reason.trim() };
}

/** `limits` is the raw request body; `partial` keeps current values for absent fields (PATCH). */
export function changeRiskLimits(
  state: EngineState,
  cmd: OperatorCommand & { limits: unknown; partial?: boolean },
): RiskLimitsChangedPayload | InvalidRiskCommandError {
  const bad = checkCommand(cmd);
  const v = validateRiskLimits(cmd.limits, cmd.partial ? state.limits : undefined);
  const problems = [...(bad?.problems ?? []), ...(v.ok ? [] : v.problems)];
  if (problems.length || !v.ok) return new InvalidRiskCommandError(problems);
  return { actor: cmd.actor.trim(), reason: cmd.reason.trim(), limits: riskLimitsToJson(v.limits) };
}

// ---------------------------------------------------------------------------------------------
// The pre-trade decision, published for the trading saga: every check of checks.ts against the
// trading state, as the RiskAssessed payload to record. Pure: the state and the time are inputs.
export type { EngineState, InventoryHolding } from './engine-state.js';
/** Inventory no open sale holds yet: what a flatten may sell. */
export { sellableInventory, heldExposure } from './engine-state.js';
export type { RiskCheckInput, ScaledPrice } from './checks.js';

export function decideRisk(input: RiskCheckInput, state: EngineState, now: Date): RiskAssessedPayload {
  return riskAssessedPayload(input, state, now, assessRisk(input, state, now));
}
