import { describe, expect, it } from 'vitest';
import {
  changeRiskLimits,
  EngineTransitionError,
  InvalidRiskCommandError,
  pauseEngine,
  reduceEngine,
  resumeEngine,
} from '../../../src/risk/decisions.js';
import { EnginePaused, EngineReducing, EngineResumed, RiskLimitsChanged } from '../../../src/risk/events.js';
import { riskLimitsToJson } from '../../../src/risk/limits.js';
import { event, fresh, given, limits } from './fixtures.js';
import { expectStorable, registryOf } from '../../support/registry.js';

const registry = registryOf(EnginePaused, EngineResumed, EngineReducing, RiskLimitsChanged);
const paused = () => given([event('EnginePaused', { actor: 'operator:alice', reason: 'deploy', cause: 'operator' })]);
const cmd = { actor: 'operator:bob', reason: 'venue incident' };

describe('operator commands on the engine', () => {
  it('given ACTIVE, when PauseEngine, then EnginePaused with cause operator', () => {
    const p = pauseEngine(fresh(), cmd);
    expect(p).toEqual({ actor: 'operator:bob', reason: 'venue incident', cause: 'operator' });
    expectStorable(registry, EnginePaused, p as never);
  });

  it('given PAUSED, when PauseEngine, then it is refused saying since when and by whom', () => {
    const e = pauseEngine(paused(), cmd);
    expect(e).toBeInstanceOf(EngineTransitionError);
    expect((e as Error).message).toMatch(/already PAUSED since .* by operator:alice/);
  });

  it('given PAUSED, when ResumeEngine, then EngineResumed; given ACTIVE it is refused', () => {
    const p = resumeEngine(paused(), cmd);
    expect(p).toEqual({ actor: 'operator:bob', reason: 'venue incident' });
    expectStorable(registry, EngineResumed, p as never);
    expect(resumeEngine(fresh(), cmd)).toBeInstanceOf(EngineTransitionError);
  });

  it('given PAUSED, when ReduceEngine, then EngineReducing; given REDUCING it is refused', () => {
    const p = reduceEngine(paused(), cmd);
    expectStorable(registry, EngineReducing, p as never);
    expect(reduceEngine(given([event('EngineReducing', cmd)]), cmd)).toBeInstanceOf(EngineTransitionError);
  });

  it('requires an actor and a reason', () => {
    const e = pauseEngine(fresh(), { actor: ' ', reason: '' });
    expect(e).toBeInstanceOf(InvalidRiskCommandError);
    expect((e as InvalidRiskCommandError).problems).toEqual(['actor is required', 'reason is required: say why, it is kept in the audit log']);
  });

  it('when ChangeRiskLimits with a patch, then RiskLimitsChanged holds the complete new set as strings and integers', () => {
    const p = changeRiskLimits(fresh(), { ...cmd, limits: { maxSlippageBps: 20 }, partial: true });
    expect(p).toEqual({ ...cmd, limits: riskLimitsToJson(limits({ maxSlippageBps: 20 })) });
    expectStorable(registry, RiskLimitsChanged, p as never);
  });

  it('when ChangeRiskLimits is invalid, then every problem is listed', () => {
    const e = changeRiskLimits(fresh(), { actor: 'op', reason: '', limits: { maxSlippageBps: 2.5 }, partial: true });
    expect(e).toBeInstanceOf(InvalidRiskCommandError);
    expect((e as InvalidRiskCommandError).problems).toHaveLength(2);
  });
});
