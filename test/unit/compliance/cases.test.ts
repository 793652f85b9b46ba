import { describe, expect, it } from 'vitest';
import {
  closeFlag,
  evolveFlagCase,
  FlagNotFoundError,
  flagStreamId,
  InvalidCaseInputError,
  InvalidTransitionError,
  reviewFlag,
  type FlagCase,
  type FlagEventLike,
} from '../../../src/compliance/cases.js';
import { ComplianceFlagClosed, ComplianceFlagReviewed, complianceEvents } from '../../../src/compliance/events.js';
import { expectStorable, registryOf } from '../../support/registry.js';
import { spec } from '../../support/decider.js';

const FLAG = '3f1c2d9e-8a4b-5c6d-9e0f-112233445566';
const registry = registryOf(...complianceEvents);
const ev = (type: string, payload: unknown, recordedAt = '2026-03-02T12:00:00.000Z'): FlagEventLike => ({ type, payload, recordedAt });
const raised = ev('ComplianceFlagRaised', { flagId: FLAG, opportunityId: 'opp-1', rule: 'large_transaction', severity: 'advisory', evidence: {} });

type FlagCommand = { kind: 'ReviewFlag'; flagId?: string; actor: string; note: string } | { kind: 'CloseFlag'; actor: string; note: string; outcome?: 'dismissed' | 'reported' };

/** The flag case as a decider (the shared given/when/then harness). */
const flag = spec<FlagCase | null, FlagEventLike, FlagCommand, ReturnType<typeof reviewFlag | typeof closeFlag>>({
  initial: () => null,
  evolve: evolveFlagCase,
  decide: (c, s) => (c.kind === 'ReviewFlag' ? reviewFlag(s, c) : closeFlag(s, c)),
});

function given(...events: FlagEventLike[]): FlagCase | null {
  return flag.given(events).state();
}
const reviewedEvents = () => [raised, ev('ComplianceFlagReviewed', { flagId: FLAG, actor: 'operator:carol', note: 'checked venue' }, '2026-03-02T13:00:00.000Z')];
const reviewed = () => given(...reviewedEvents());

describe('flag case workflow', () => {
  it('given ComplianceFlagRaised, then the case is open', () => {
    expect(given(raised)).toMatchObject({ flagId: FLAG, status: 'open', rule: 'large_transaction', raisedAt: '2026-03-02T12:00:00.000Z' });
  });

  it('given an open flag, when reviewed, then ComplianceFlagReviewed with trimmed actor and note', () => {
    const p = flag.given([raised]).when({ kind: 'ReviewFlag', actor: ' operator:carol ', note: ' checked venue ' }).then({ flagId: FLAG, actor: 'operator:carol', note: 'checked venue' });
    expectStorable(registry, ComplianceFlagReviewed, p as never);
    expect(reviewed()).toMatchObject({ status: 'reviewed', reviewedBy: 'operator:carol', reviewedAt: '2026-03-02T13:00:00.000Z', reviewNote: 'checked venue' });
  });

  it('given a reviewed flag, when closed with an outcome, then ComplianceFlagClosed', () => {
    const p = flag
      .given(reviewedEvents())
      .when({ kind: 'CloseFlag', actor: 'operator:dan', note: 'legit market maker', outcome: 'dismissed' })
      .then({ flagId: FLAG, actor: 'operator:dan', note: 'legit market maker', outcome: 'dismissed' });
    expectStorable(registry, ComplianceFlagClosed, p as never);
    const closed = evolveFlagCase(reviewed(), ev('ComplianceFlagClosed', p, '2026-03-02T14:00:00.000Z'));
    expect(closed).toMatchObject({ status: 'closed', closedBy: 'operator:dan', outcome: 'dismissed' });
  });

  it('given a reviewed flag, when closed without an outcome, then the payload has none', () => {
    const p = flag.given(reviewedEvents()).when({ kind: 'CloseFlag', actor: 'operator:dan', note: 'n' }).then({ flagId: FLAG, actor: 'operator:dan', note: 'n' });
    expectStorable(registry, ComplianceFlagClosed, p as never);
  });

  it('given an open flag, when closed, then it is refused: review it first', () => {
    const e = flag.given([raised]).when({ kind: 'CloseFlag', actor: 'operator:dan', note: 'n' }).thenError(InvalidTransitionError);
    expect(e).toMatchObject({ from: 'open', to: 'closed' });
    expect(e.message).toBe(`flag ${FLAG} is still open: review it before closing it`);
  });

  it('given a reviewed flag, when reviewed again, then it is refused naming the first reviewer', () => {
    flag.given(reviewedEvents()).when({ kind: 'ReviewFlag', actor: 'x', note: 'n' }).thenError(InvalidTransitionError, /already reviewed by operator:carol/);
  });

  it('given a closed flag, when reviewed or closed, then both are refused', () => {
    const closed = evolveFlagCase(reviewed(), ev('ComplianceFlagClosed', { flagId: FLAG, actor: 'operator:dan', note: 'n' }));
    expect(reviewFlag(closed, { actor: 'x', note: 'n' })).toMatchObject({ from: 'closed', to: 'reviewed' });
    expect(closeFlag(closed, { actor: 'x', note: 'n' })).toBeInstanceOf(InvalidTransitionError);
  });

  it('given no such flag, then FlagNotFoundError', () => {
    const e = flag.given([]).when({ kind: 'ReviewFlag', flagId: FLAG, actor: 'x', note: 'n' }).thenError(FlagNotFoundError);
    expect(e.message).toBe(`compliance flag ${FLAG} does not exist`);
  });

  it('requires an actor and a note, and a known outcome', () => {
    const e = closeFlag(reviewed(), { actor: '', note: '  ', outcome: 'ignored' as never });
    expect(e).toBeInstanceOf(InvalidCaseInputError);
    expect((e as InvalidCaseInputError).problems).toEqual([
      'actor is required',
      'note is required: say what was looked at and why',
      'outcome must be one of dismissed, reported',
    ]);
  });

  it('ignores a repeated ComplianceFlagRaised and events of another flag', () => {
    const s = given(raised, ev('ComplianceFlagReviewed', { flagId: FLAG, actor: 'a', note: 'n' }), raised);
    expect(s?.status).toBe('reviewed');
    expect(evolveFlagCase(s, ev('ComplianceFlagClosed', { flagId: 'other', actor: 'a', note: 'n' }))?.status).toBe('reviewed');
  });

  it('keeps each flag in its own stream', () => {
    expect(flagStreamId(FLAG)).toBe(`compliance-flag-${FLAG}`);
  });
});
