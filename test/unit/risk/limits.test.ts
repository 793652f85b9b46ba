import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config.js';
import { defaultRiskLimits, RISK_ENV_VARS, riskLimitsFromJson, riskLimitsToJson, validateRiskLimits } from '../../../src/risk/limits.js';
import { limits } from './fixtures.js';

const fullBody = () => ({
  maxPriceAgeSeconds: 5,
  maxConfidenceBps: '50',
  maxPriceDeviationBps: 100,
  maxSlippageBps: 50,
  minProfitBaseUnits: '1000000',
  maxNotionalPerTradeUsdMicros: '1000000000',
  maxExposurePerTokenUsdMicros: 2_000_000_000,
  dailyLossLimitUsdMicros: '100000000',
  maxOrdersPerMinute: 3,
  circuitBreaker: { consecutiveFailedFills: 3, deviationSpikeBps: '500' },
});

function configProblems(env: Record<string, string>): string[] {
  try {
    defaultRiskLimits(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  return [];
}

describe('defaultRiskLimits (RISK_* env)', () => {
  it('given no variables, then built-in defaults apply', () => {
    const l = defaultRiskLimits({});
    expect(l.maxPriceAgeSeconds).toBe(5);
    expect(l.maxNotionalPerTradeUsdMicros).toBe(1_000_000_000n);
    expect(l.circuitBreaker).toEqual({ consecutiveFailedFills: 3, deviationSpikeBps: 500 });
  });

  it('given variables, then they override the defaults; blanks are ignored', () => {
    const l = defaultRiskLimits({
      RISK_MAX_SLIPPAGE_BPS: '25',
      RISK_DAILY_LOSS_LIMIT_USD_MICROS: '123456789012345678901',
      RISK_CIRCUIT_BREAKER_CONSECUTIVE_FAILED_FILLS: ' 7 ',
      RISK_MAX_ORDERS_PER_MINUTE: '  ',
    });
    expect(l.maxSlippageBps).toBe(25);
    expect(l.dailyLossLimitUsdMicros).toBe(123456789012345678901n);
    expect(l.circuitBreaker.consecutiveFailedFills).toBe(7);
    expect(l.maxOrdersPerMinute).toBe(30);
  });

  it('given bad values, then one ConfigError names every variable and what is wrong', () => {
    const problems = configProblems({
      RISK_MAX_SLIPPAGE_BPS: '0.5',
      RISK_MAX_CONFIDENCE_BPS: '10001',
      RISK_MIN_PROFIT_BASE_UNITS: '-1',
      RISK_MAX_ORDERS_PER_MINUTE: 'many',
    });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/RISK_MAX_SLIPPAGE_BPS must be an integer.*"0\.5"/);
    expect(problems.join('\n')).toMatch(/RISK_MAX_CONFIDENCE_BPS must be between 0 and 10000 \(got 10001\)/);
    expect(problems.join('\n')).toMatch(/RISK_MIN_PROFIT_BASE_UNITS must be at least 0/);
    expect(problems.join('\n')).toMatch(/RISK_MAX_ORDERS_PER_MINUTE must be an integer/);
  });

  it('given a spike threshold below the ordinary deviation limit, then it is refused with both names', () => {
    const problems = configProblems({ RISK_MAX_PRICE_DEVIATION_BPS: '300', RISK_CIRCUIT_BREAKER_DEVIATION_SPIKE_BPS: '299' });
    expect(problems).toEqual([expect.stringMatching(/RISK_CIRCUIT_BREAKER_DEVIATION_SPIKE_BPS \(299\) must be at least RISK_MAX_PRICE_DEVIATION_BPS \(300\)/)]);
    expect(configProblems({ RISK_MAX_PRICE_DEVIATION_BPS: '300', RISK_CIRCUIT_BREAKER_DEVIATION_SPIKE_BPS: '300' })).toEqual([]);
  });

  it('lists every variable it reads', () => {
    expect(RISK_ENV_VARS).toHaveLength(11);
    expect(RISK_ENV_VARS).toContain('RISK_CIRCUIT_BREAKER_DEVIATION_SPIKE_BPS');
  });
});

describe('validateRiskLimits (PUT /risk/limits)', () => {
  it('accepts integers and strings of digits and returns typed limits', () => {
    const r = validateRiskLimits(fullBody());
    expect(r).toEqual({ ok: true, limits: limits(), problems: [] });
  });

  it('refuses floats, including a float written as a string', () => {
    const r = validateRiskLimits({ ...fullBody(), maxSlippageBps: 1.5, minProfitBaseUnits: '1.0' });
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      'maxSlippageBps must be an integer, not 1.5 (amounts are never fractional: use base units)',
      'minProfitBaseUnits must be an integer written with digits only (got "1.0")',
    ]);
  });

  it('refuses a number too large to be exact in JSON and asks for a string', () => {
    const r = validateRiskLimits({ ...fullBody(), dailyLossLimitUsdMicros: 2 ** 60 });
    expect(r.problems[0]).toMatch(/dailyLossLimitUsdMicros is too large.*send it as a string/);
  });

  it('refuses unknown fields at both levels', () => {
    const r = validateRiskLimits({ ...fullBody(), maxLeverage: 3, circuitBreaker: { ...fullBody().circuitBreaker, cooldown: 1 } });
    expect(r.problems).toEqual(['maxLeverage is not a known risk limit', 'circuitBreaker.cooldown is not a known risk limit']);
  });

  it('requires every field for a full replacement', () => {
    const { maxSlippageBps: _drop, ...body } = fullBody();
    const r = validateRiskLimits({ ...body, circuitBreaker: {} });
    expect(r.problems).toEqual([
      'maxSlippageBps is required',
      'circuitBreaker.consecutiveFailedFills is required',
      'circuitBreaker.deviationSpikeBps is required',
    ]);
  });

  it('given current limits, then missing fields keep their current value (patch)', () => {
    const r = validateRiskLimits({ maxSlippageBps: '10', circuitBreaker: { consecutiveFailedFills: 9 } }, limits());
    expect(r).toEqual({ ok: true, problems: [], limits: limits({ maxSlippageBps: 10, circuitBreaker: { consecutiveFailedFills: 9, deviationSpikeBps: 500 } }) });
  });

  it('checks ranges and the spike/deviation relation', () => {
    expect(validateRiskLimits({ maxOrdersPerMinute: 0 }, limits()).problems).toEqual(['maxOrdersPerMinute must be between 1 and 100000 (got 0)']);
    expect(validateRiskLimits({ maxPriceDeviationBps: 501 }, limits()).problems[0]).toMatch(/circuitBreaker.deviationSpikeBps \(500\) must be at least maxPriceDeviationBps \(501\)/);
  });

  it('refuses a body that is not an object', () => {
    expect(validateRiskLimits([1, 2]).problems).toEqual(['risk limits must be a JSON object']);
    expect(validateRiskLimits({ ...fullBody(), circuitBreaker: 'off' }).problems).toEqual([
      'circuitBreaker must be an object with consecutiveFailedFills and deviationSpikeBps',
    ]);
  });

  it('round-trips through the JSON form used in events', () => {
    const l = limits({ dailyLossLimitUsdMicros: 98765432109876543210n });
    const j = riskLimitsToJson(l);
    expect(j.dailyLossLimitUsdMicros).toBe('98765432109876543210');
    expect(riskLimitsFromJson(JSON.parse(JSON.stringify(j)))).toEqual(l);
  });
});

describe('riskLimitsSchema (the declaration behind validateRiskLimits)', () => {
  it('lists every problem of a body at once, each naming its field, ranges from the field table', () => {
    const r = validateRiskLimits({
      ...fullBody(),
      maxPriceAgeSeconds: null,
      maxConfidenceBps: true,
      maxSlippageBps: '10001',
      maxNotionalPerTradeUsdMicros: ' 0 ',
      extra: 1,
      circuitBreaker: { consecutiveFailedFills: 1001, deviationSpikeBps: [] },
    });
    expect(r.problems).toEqual([
      'extra is not a known risk limit',
      'maxPriceAgeSeconds must be an integer or a string of digits (got null)',
      'maxConfidenceBps must be an integer or a string of digits (got boolean)',
      'maxSlippageBps must be between 0 and 10000 (got 10001)',
      'maxNotionalPerTradeUsdMicros must be at least 1 (got 0)',
      'circuitBreaker.consecutiveFailedFills must be between 1 and 1000 (got 1001)',
      'circuitBreaker.deviationSpikeBps must be an integer or a string of digits (got object)',
    ]);
  });

  it('keeps values beyond 2^53 exact as bigint, and a patch of a bad circuitBreaker names it', () => {
    const big = '123456789012345678901234567890';
    const r = validateRiskLimits({ dailyLossLimitUsdMicros: big }, limits());
    expect(r.ok && r.limits.dailyLossLimitUsdMicros).toBe(BigInt(big));
    expect(validateRiskLimits({ circuitBreaker: null }, limits()).problems).toEqual([
      'circuitBreaker must be an object with consecutiveFailedFills and deviationSpikeBps',
    ]);
  });
});
