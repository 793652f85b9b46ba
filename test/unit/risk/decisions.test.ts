// The operator commands on the engine stream as a decider (the shared given/when/then harness):
// given the engine's events, when a command, then the event payload it records, or its refusal.
import { describe, expect, it } from 'vitest';
import {
  changeRiskLimits,
  EngineTransitionError,
  InvalidRiskCommandError,
  pauseEngine,
  reduceEngine,
  resumeEngine,
  type EngineState,
} from '../../../src/risk/decisions.js';
import { evolve, type EngineEventLike } from '../../../src/risk/engine-state.js';
import { EnginePaused, EngineReducing, EngineResumed, RiskLimitsChanged } from '../../../src/risk/events.js';
import { riskLimitsToJson } from '../../../src/risk/limits.js';
import { event, fresh, limits } from './fixtures.js';
import { expectStorable, registryOf } from '../../support/registry.js';
import { spec } from '../../support/decider.js';

type EngineCommand =
  | { kind: 'PauseEngine' | 'ResumeEngine' | 'ReduceEngine'; actor: string; reason: string }
  | { kind: 'ChangeRiskLimits'; actor: string; reason: string; limits: unknown; partial?: boolean };

const engine = spec<EngineState, EngineEventLike, EngineCommand, ReturnType<typeof pauseEngine | typeof resumeEngine | typeof reduceEngine | typeof changeRiskLimits>>({
  initial: () => fresh(),
  evolve,
  decide: (c, s) => {
    switch (c.kind) {
      case 'PauseEngine':
        return pauseEngine(s, c);
      case 'ResumeEngine':
        return resumeEngine(s, c);
      case 'ReduceEngine':
        return reduceEngine(s, c);
      case 'ChangeRiskLimits':
        return changeRiskLimits(s, c);
    }
  },
});

const registry = registryOf(EnginePaused, EngineResumed, EngineReducing, RiskLimitsChanged);
const pausedByAlice = event('EnginePaused', { actor: 'operator:alice', reason: 'deploy', cause: 'operator' });
const cmd = { actor: 'operator:bob', reason: 'venue incident' };

describe('operator commands on the engine', () => {
  it('given ACTIVE, when PauseEngine, then EnginePaused with cause operator', () => {
    const p = engine.given([]).when({ kind: 'PauseEngine', ...cmd }).then({ actor: 'operator:bob', reason: 'venue incident', cause: 'operator' });
    expectStorable(registry, EnginePaused, p as never);
  });

  it('given PAUSED, when PauseEngine, then it is refused saying since when and by whom', () => {
    engine.given([pausedByAlice]).when({ kind: 'PauseEngine', ...cmd }).thenError(EngineTransitionError, /already PAUSED since .* by operator:alice/);
  });

  it('given PAUSED, when ResumeEngine, then EngineResumed; given ACTIVE it is refused', () => {
    const p = engine.given([pausedByAlice]).when({ kind: 'ResumeEngine', ...cmd }).then({ actor: 'operator:bob', reason: 'venue incident' });
    expectStorable(registry, EngineResumed, p as never);
    engine.given([]).when({ kind: 'ResumeEngine', ...cmd }).thenError(EngineTransitionError);
  });

  it('given PAUSED, when ReduceEngine, then EngineReducing; given REDUCING it is refused', () => {
    const p = engine.given([pausedByAlice]).when({ kind: 'ReduceEngine', ...cmd }).then((d) => expect(d).toMatchObject(cmd));
    expectStorable(registry, EngineReducing, p as never);
    engine.given([event('EngineReducing', cmd)]).when({ kind: 'ReduceEngine', ...cmd }).thenError(EngineTransitionError);
  });

  it('requires an actor and a reason', () => {
    const e = engine.given([]).when({ kind: 'PauseEngine', actor: ' ', reason: '' }).thenError(InvalidRiskCommandError) as InvalidRiskCommandError;
    expect(e.problems).toEqual(['actor is required', 'reason is required: say why, it is kept in the audit log']);
  });

  it('when ChangeRiskLimits with a patch, then RiskLimitsChanged holds the complete new set as strings and integers', () => {
    const p = engine
      .given([])
      .when({ kind: 'ChangeRiskLimits', ...cmd, limits: { maxSlippageBps: 20 }, partial: true })
      .then({ ...cmd, limits: riskLimitsToJson(limits({ maxSlippageBps: 20 })) });
    expectStorable(registry, RiskLimitsChanged, p as never);
  });

  it('when ChangeRiskLimits is invalid, then every problem is listed', () => {
    const e = engine
      .given([])
      .when({ kind: 'ChangeRiskLimits', actor: 'op', reason: '', limits: { maxSlippageBps: 2.5 }, partial: true })
      .thenError(InvalidRiskCommandError) as InvalidRiskCommandError;
    expect(e.problems).toHaveLength(2);
  });
});
