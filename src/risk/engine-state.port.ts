// The risk context's port for the trading state as the log has it (mode, limits, exposure,
// in-flight trades, order rate): what the saga reads before a risk decision, and how it waits
// until its own decision is folded in. EngineStateService is the adapter (it follows the log).
import type { EngineState } from './engine-state.js';

export const ENGINE_STATE = Symbol('ENGINE_STATE');

export interface EngineStateView {
  /** Resolves once the history is folded and the view follows the log. */
  ready(): Promise<void>;
  current(): EngineState;
  /** Resolves once the event at `position` (if it is one the view folds) is folded in. */
  caughtUp(position: bigint, timeoutMs?: number): Promise<void>;
  /** Resolves once everything it folds at or before `head` (any position, e.g. the log's head) is folded in. */
  caughtUpThrough(head: bigint, timeoutMs?: number): Promise<void>;
  /**
   * On the caught-up state, before the engine starts (HA: on each takeover): pauses the engine if
   * the circuit breaker's condition was met in the log but no pause was recorded. Resolves once
   * that pause is folded in.
   */
  tripMissed(when: 'start' | 'takeover'): Promise<void>;
}
