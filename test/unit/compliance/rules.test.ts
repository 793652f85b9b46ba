import { describe, expect, it } from 'vitest';
import { UUID_RE } from '../../../src/ledger/schema.js';
import {
  COMPLIANCE_RULES,
  deterministicFlagId,
  screen,
  structuringBandLow,
  type ComplianceRulesConfig,
  type ScreenedTrade,
  type ScreeningHistoryItem,
} from '../../../src/compliance/rules.js';

const USD = 1_000_000n;
const AT_MS = Date.parse('2026-03-02T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const SIGNER = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';
const SANCTIONED = 'Sanct1oned1111111111111111111111111111111111';

const config: ComplianceRulesConfig = {
  largeTxThresholdUsdMicros: 10_000n * USD,
  velocityWindowSeconds: 60,
  velocityMaxCount: 3,
  velocityMaxNotionalUsdMicros: 25_000n * USD,
  structuringWindowSeconds: 86_400,
  structuringBandBps: 1_000, // band = [9_000, 10_000] USD
  structuringMinCount: 3,
};

const trade = (over: Partial<ScreenedTrade> = {}): ScreenedTrade => ({
  opportunityId: 'opp-now',
  counterparties: [SIGNER, 'JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4'],
  notionalUsdMicros: 100n * USD,
  at: iso(AT_MS),
  ...over,
});
const past = (secondsAgo: number, notionalUsdMicros = 100n * USD, opportunityId = `opp-${secondsAgo}`): ScreeningHistoryItem => ({
  opportunityId,
  at: iso(AT_MS - secondsAgo * 1000),
  notionalUsdMicros,
});
const sanctions = new Set([SANCTIONED]);
const run = (t: ScreenedTrade, history: ScreeningHistoryItem[] = [], c = config) => screen(t, history, c, sanctions);
const firedRules = (t: ScreenedTrade, history: ScreeningHistoryItem[] = [], c = config) => run(t, history, c).flags.map((f) => f.rule);

describe('screen: a clean trade', () => {
  it('given no history, when an ordinary trade is screened, then it is clear and every rule was evaluated', () => {
    const r = run(trade());
    expect(r.decision).toBe('clear');
    expect(r.flags).toEqual([]);
    expect(r.rulesEvaluated).toEqual(COMPLIANCE_RULES.map((rule) => ({ rule, fired: false })));
  });
});

describe('sanctioned_address (blocking)', () => {
  it('when a counterparty is on the list, then the trade is blocked with the address as evidence', () => {
    const r = screen(trade({ counterparties: [SIGNER, ` ${SANCTIONED} `, SANCTIONED] }), [], config, Object.assign(new Set([SANCTIONED]), { version: 'abc' }));
    expect(r.decision).toBe('blocked');
    expect(r.flags).toEqual([
      {
        flagId: deterministicFlagId('sanctioned_address', 'opp-now'),
        rule: 'sanctioned_address',
        severity: 'blocking',
        evidence: { matchedAddresses: [SANCTIONED], counterpartiesChecked: 3, sanctionsListVersion: 'abc' },
      },
    ]);
  });

  it('compares base58 exactly: a different case is a different address', () => {
    expect(run(trade({ counterparties: [SANCTIONED.toLowerCase()] })).decision).toBe('clear');
  });
});

describe('large_transaction (advisory)', () => {
  it('when the notional is exactly the threshold, then no flag', () => {
    expect(firedRules(trade({ notionalUsdMicros: 10_000n * USD }))).not.toContain('large_transaction');
  });
  it('when it is one micro-dollar above, then an advisory flag and the trade may continue', () => {
    const r = run(trade({ notionalUsdMicros: 10_000n * USD + 1n }));
    expect(r.decision).toBe('advisory');
    expect(r.flags).toEqual([
      expect.objectContaining({ rule: 'large_transaction', severity: 'advisory', evidence: { notionalUsdMicros: '10000000001', thresholdUsdMicros: '10000000000' } }),
    ]);
  });
});

describe('velocity_count (blocking, max 3 per 60 s)', () => {
  it('given two trades in the window, when a third arrives, then no flag', () => {
    expect(firedRules(trade(), [past(59), past(1)])).toEqual([]);
  });
  it('given three trades in the window, when a fourth arrives, then blocked', () => {
    const r = run(trade(), [past(59), past(30), past(1)]);
    expect(r.decision).toBe('blocked');
    expect(r.flags[0]).toMatchObject({ rule: 'velocity_count', severity: 'blocking', evidence: { count: 4, maxCount: 3, windowSeconds: 60 } });
    expect(r.flags[0].evidence.opportunityIds).toEqual(['opp-59', 'opp-30', 'opp-1', 'opp-now']);
  });
  it('given a trade exactly one window old, then it is out of the window', () => {
    expect(firedRules(trade(), [past(60), past(30), past(1)])).toEqual([]);
  });
  it('ignores earlier screenings of the same opportunity and trades after this one', () => {
    expect(firedRules(trade(), [past(30, 100n * USD, 'opp-now'), past(20), past(1), { opportunityId: 'later', at: iso(AT_MS + 1), notionalUsdMicros: 1n }])).toEqual([]);
  });
});

describe('velocity_notional (blocking, max 25 000 USD per 60 s)', () => {
  it('when the window total including this trade equals the maximum, then no flag', () => {
    expect(firedRules(trade({ notionalUsdMicros: 5_000n * USD }), [past(10, 20_000n * USD)], { ...config, largeTxThresholdUsdMicros: 10n ** 12n })).toEqual([]);
  });
  it('when it is one micro-dollar above, then blocked with the total as evidence', () => {
    const r = run(trade({ notionalUsdMicros: 5_000n * USD + 1n }), [past(10, 20_000n * USD)], { ...config, largeTxThresholdUsdMicros: 10n ** 12n });
    expect(r.decision).toBe('blocked');
    expect(r.flags[0]).toMatchObject({ rule: 'velocity_notional', evidence: { notionalUsdMicros: '25000000001', maxNotionalUsdMicros: '25000000000', count: 2 } });
  });
});

describe('structuring (advisory, 3 trades in [9 000, 10 000] USD within a day)', () => {
  const low = 9_000n * USD;
  it('computes the band from the threshold and bps', () => {
    expect(structuringBandLow(config)).toBe(low);
  });
  it('given two earlier trades in the band, when a third lands at the lower edge, then it fires', () => {
    const r = run(trade({ notionalUsdMicros: low }), [past(3_600, 9_500n * USD), past(7_200, 10_000n * USD)]);
    expect(r.decision).toBe('advisory');
    expect(r.flags).toEqual([
      expect.objectContaining({ rule: 'structuring', severity: 'advisory', evidence: expect.objectContaining({ count: 3, minCount: 3, bandLowUsdMicros: '9000000000' }) }),
    ]);
  });
  it('when the third is one micro-dollar under the band, then it does not fire', () => {
    expect(firedRules(trade({ notionalUsdMicros: low - 1n }), [past(3_600, 9_500n * USD), past(7_200, 9_500n * USD)])).toEqual([]);
  });
  it('when the third is exactly at the threshold, then it is structuring, not large', () => {
    expect(firedRules(trade({ notionalUsdMicros: 10_000n * USD }), [past(3_600, 9_500n * USD), past(7_200, 9_500n * USD)])).toEqual(['structuring']);
  });
  it('when the third is one micro-dollar above the threshold, then it is large, not structuring', () => {
    expect(firedRules(trade({ notionalUsdMicros: 10_000n * USD + 1n }), [past(3_600, 9_500n * USD), past(7_200, 9_500n * USD)])).toEqual(['large_transaction']);
  });
  it('given only one earlier trade in the band, then two is not a pattern', () => {
    expect(firedRules(trade({ notionalUsdMicros: 9_500n * USD }), [past(3_600, 9_500n * USD), past(7_200, 8_999n * USD)])).toEqual([]);
  });
  it('given band trades older than the window, then they do not count', () => {
    expect(firedRules(trade({ notionalUsdMicros: 9_500n * USD }), [past(86_400, 9_500n * USD), past(3_600, 9_500n * USD)])).toEqual([]);
  });
});

describe('decision and flag ids', () => {
  it('given a blocking and an advisory flag, then the decision is blocked and both flags are kept', () => {
    const r = run(trade({ counterparties: [SANCTIONED], notionalUsdMicros: 10_001n * USD }));
    expect(r.decision).toBe('blocked');
    expect(r.flags.map((f) => `${f.rule}:${f.severity}`)).toEqual(['sanctioned_address:blocking', 'large_transaction:advisory']);
    expect(r.rulesEvaluated.filter((e) => e.fired).map((e) => e.rule)).toEqual(['sanctioned_address', 'large_transaction']);
  });

  it('gives deterministic UUIDs per opportunity and rule, so a retried screening raises the same flags', () => {
    const a = deterministicFlagId('structuring', 'opp-1');
    expect(a).toMatch(UUID_RE);
    expect(deterministicFlagId('structuring', 'opp-1')).toBe(a);
    expect(deterministicFlagId('large_transaction', 'opp-1')).not.toBe(a);
    expect(deterministicFlagId('structuring', 'opp-2')).not.toBe(a);
  });

  it('uses ids supplied by the caller when given', () => {
    const r = screen(trade({ notionalUsdMicros: 10_001n * USD }), [], config, sanctions, { flagId: () => '00000000-0000-4000-8000-000000000001' });
    expect(r.flags[0].flagId).toBe('00000000-0000-4000-8000-000000000001');
  });

  it('refuses a trade with an unreadable time instead of screening it wrongly', () => {
    expect(() => run(trade({ at: 'yesterday' }))).toThrow(/invalid time "yesterday"/);
  });
});
