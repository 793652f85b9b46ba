// Pre-trade risk checks. `assessRisk` runs every check and reports each one with its inputs,
// limit and observed value, so a RiskAssessed event explains a rejection without re-running
// anything. Pure bigint arithmetic: ratios are computed exactly and reported rounded UP to whole
// bps, so "observed ≤ limit" in the report always agrees with the decision.
import {
  ordersInWindow,
  realisedOn,
  sellableExposure,
  sellableInventory,
  tokenExposure,
  type EngineState,
} from './engine-state.js';
import { CHECK_NAMES, type CheckName, type CheckReport, type RiskAssessedPayload } from './events.js';

/** Wrapped SOL: the only input mint whose base units are lamports, the unit of network fees. */
export const WRAPPED_SOL_MINT = 'So11111111111111111111111111111111111111112';

/** A price written as an integer mantissa and a power of ten (value = price × 10^expo). */
export interface ScaledPrice {
  price: bigint;
  expo: number;
}

export interface PythPriceInput extends ScaledPrice {
  conf: bigint;
  /** Unix time in seconds. */
  publishTime: number;
}

export interface RiskCheckInput {
  opportunityId: string;
  inputMint: string;
  outputMint: string;
  /** Base units of the input mint. */
  amountIn: bigint;
  /** Base units of the output mint. */
  expectedOut: bigint;
  /** Expected profit before network fees, signed, in base units of the input mint. */
  expectedProfit: bigint;
  /** Estimated base + signature fees, in lamports. */
  feesEstimate: bigint;
  /** Priority fee, in lamports. */
  priorityFee: bigint;
  /**
   * feesEstimate + priorityFee converted to base units of the input mint. Optional when the
   * input mint is wrapped SOL (lamports are its base units); required otherwise, because the
   * check refuses to guess an exchange rate.
   */
  feesInInputBaseUnits?: bigint;
  slippageBps: number;
  /** USD value of amountIn, in USD micro-units. */
  notionalUsdMicros: bigint;
  pyth: PythPriceInput;
  /** The price the quote implies, in the same terms as the Pyth feed. */
  quoteImpliedPrice: ScaledPrice;
  /**
   * 'reduce': a sale of held inventory back to its base token (an inventory sale saga). It is
   * the only trade REDUCING lets through; it may not sell more than the inventory no other sale
   * holds; profit and the daily loss budget do not apply to it (it lowers risk). Default 'arbitrage'.
   */
  purpose?: 'arbitrage' | 'reduce';
}

export interface RiskAssessment {
  approved: boolean;
  failedChecks: CheckName[];
  checks: CheckReport[];
}

type Check = (input: RiskCheckInput, state: EngineState, nowMs: number) => CheckReport;

const s = (v: bigint | number) => v.toString();
const ceilDiv = (n: bigint, d: bigint) => (n + d - 1n) / d; // n ≥ 0, d > 0
const abs = (v: bigint) => (v < 0n ? -v : v);
// Pyth exponents are small negatives; anything outside this range is a bad feed, not a price.
const MAX_ABS_EXPO = 30;

function report(
  name: CheckName,
  passed: boolean,
  fields: { inputs: CheckReport['inputs']; limit: string | null; observed: string | null; unit: string; reason: string },
): CheckReport {
  return { name, passed, ...fields };
}

/** An inventory sale may sell at most what no other open sale holds, in any mode but PAUSED. */
function checkInventorySale(input: RiskCheckInput, state: EngineState, inputs: CheckReport['inputs']): CheckReport {
  const sellable = sellableInventory(state, input.inputMint, input.opportunityId);
  const base = { inputs: { ...inputs, inventoryMint: input.inputMint, sellableInventoryBaseUnits: s(sellable), amountIn: s(input.amountIn) }, limit: s(sellable), observed: s(input.amountIn), unit: 'base_units' };
  if (state.mode === 'PAUSED') {
    return report('engine_state', false, { ...base, reason: `engine is PAUSED since ${state.since ?? 'start'} by ${state.actor ?? 'unknown'}: ${state.reason ?? 'no reason given'}; nothing trades, not even an inventory sale (set REDUCING to sell inventory)` });
  }
  const passed = input.inputMint !== input.outputMint && input.amountIn <= sellable;
  return report('engine_state', passed, {
    ...base,
    reason: passed
      ? `engine is ${state.mode} and the trade sells ${input.amountIn} of ${sellable} base units of held ${input.inputMint} inventory`
      : `the inventory sale of ${input.amountIn} base units of ${input.inputMint} is more than the ${sellable} held and not being sold by another sale`,
  });
}

export const checkEngineState: Check = (input, state, nowMs) => {
  const inputs = { mode: state.mode, since: state.since, actor: state.actor, stateReason: state.reason };
  const base = { inputs, limit: null, observed: null, unit: 'mode' };
  if (input.purpose === 'reduce') return checkInventorySale(input, state, inputs);
  if (state.mode === 'ACTIVE') return report('engine_state', true, { ...base, reason: 'engine is ACTIVE' });
  if (state.mode === 'PAUSED') {
    return report('engine_state', false, {
      ...base,
      reason: `engine is PAUSED since ${state.since ?? 'start'} by ${state.actor ?? 'unknown'}: ${state.reason ?? 'no reason given'}`,
    });
  }
  // REDUCING: only a trade that sells down a held position may go; a round trip never does.
  const sellable = sellableExposure(state, input.inputMint, nowMs);
  const reduces = input.inputMint !== input.outputMint && input.notionalUsdMicros > 0n && input.notionalUsdMicros <= sellable;
  const reducingInputs = { ...inputs, sellableExposureUsdMicros: s(sellable), notionalUsdMicros: s(input.notionalUsdMicros) };
  return report('engine_state', reduces, {
    ...base,
    inputs: reducingInputs,
    limit: s(sellable),
    observed: s(input.notionalUsdMicros),
    unit: 'usd_micros',
    reason: reduces
      ? `engine is REDUCING and the trade sells down held ${input.inputMint}`
      : `engine is REDUCING: only trades selling down a held position (inventory sales) are allowed ` +
        `(sellable ${input.inputMint} exposure ${sellable} usd_micros, trade ${input.notionalUsdMicros}` +
        `${input.inputMint === input.outputMint ? ', and an arbitrage round trip reduces nothing' : ''})`,
  });
};

export const checkPriceStaleness: Check = (input, state, nowMs) => {
  const { publishTime } = input.pyth;
  const limitMs = state.limits.maxPriceAgeSeconds * 1000;
  const inputs = { publishTime, nowMs, maxPriceAgeSeconds: state.limits.maxPriceAgeSeconds };
  if (!Number.isSafeInteger(publishTime) || publishTime <= 0) {
    return report('price_staleness', false, { inputs, limit: s(limitMs), observed: null, unit: 'ms', reason: `Pyth publishTime ${publishTime} is not a valid unix time` });
  }
  const ageMs = nowMs - publishTime * 1000;
  const passed = ageMs <= limitMs;
  return report('price_staleness', passed, {
    inputs,
    limit: s(limitMs),
    observed: s(ageMs),
    unit: 'ms',
    reason: passed ? `Pyth price is ${ageMs} ms old` : `Pyth price is ${ageMs} ms old, older than ${limitMs} ms`,
  });
};

export const checkPriceConfidence: Check = (input, state) => {
  const { price, conf, expo } = input.pyth;
  const limit = BigInt(state.limits.maxConfidenceBps);
  const inputs = { price: s(price), conf: s(conf), expo };
  if (price <= 0n || conf < 0n) {
    return report('price_confidence', false, { inputs, limit: s(limit), observed: null, unit: 'bps', reason: `Pyth price ${price} / conf ${conf} cannot be used (price must be > 0, conf ≥ 0)` });
  }
  const observed = ceilDiv(conf * 10_000n, price);
  const passed = observed <= limit;
  return report('price_confidence', passed, {
    inputs,
    limit: s(limit),
    observed: s(observed),
    unit: 'bps',
    reason: passed ? `confidence interval ${observed} bps of the price` : `confidence interval ${observed} bps is wider than ${limit} bps`,
  });
};

/**
 * Deviation of the quote's implied price from the Pyth price, in bps of the Pyth price, rounded
 * up; null when either price is unusable. Exported for the circuit breaker's tests.
 */
export function deviationBps(pyth: ScaledPrice, quote: ScaledPrice): bigint | null {
  if (pyth.price <= 0n || quote.price <= 0n) return null;
  if (!Number.isSafeInteger(pyth.expo) || !Number.isSafeInteger(quote.expo)) return null;
  if (Math.abs(pyth.expo) > MAX_ABS_EXPO || Math.abs(quote.expo) > MAX_ABS_EXPO) return null;
  const e = Math.min(pyth.expo, quote.expo);
  const a = pyth.price * 10n ** BigInt(pyth.expo - e);
  const b = quote.price * 10n ** BigInt(quote.expo - e);
  return ceilDiv(abs(a - b) * 10_000n, a);
}

export const checkPriceDeviation: Check = (input, state) => {
  const limit = BigInt(state.limits.maxPriceDeviationBps);
  const inputs = {
    pythPrice: s(input.pyth.price),
    pythExpo: input.pyth.expo,
    quotePrice: s(input.quoteImpliedPrice.price),
    quoteExpo: input.quoteImpliedPrice.expo,
  };
  const observed = deviationBps(input.pyth, input.quoteImpliedPrice);
  if (observed === null) {
    return report('price_deviation', false, { inputs, limit: s(limit), observed: null, unit: 'bps', reason: 'Pyth or quote price is not positive or has an out-of-range exponent' });
  }
  const passed = observed <= limit;
  return report('price_deviation', passed, {
    inputs,
    limit: s(limit),
    observed: s(observed),
    unit: 'bps',
    reason: passed ? `quote is ${observed} bps from Pyth` : `quote is ${observed} bps from Pyth, more than ${limit} bps`,
  });
};

export const checkSlippage: Check = (input, state) => {
  const limit = state.limits.maxSlippageBps;
  const v = input.slippageBps;
  const inputs = { slippageBps: v };
  if (!Number.isSafeInteger(v) || v < 0) {
    return report('slippage', false, { inputs, limit: s(limit), observed: null, unit: 'bps', reason: `slippageBps ${v} is not a non-negative integer` });
  }
  const passed = v <= limit;
  return report('slippage', passed, {
    inputs,
    limit: s(limit),
    observed: s(v),
    unit: 'bps',
    reason: passed ? `slippage tolerance ${v} bps` : `slippage tolerance ${v} bps is above ${limit} bps`,
  });
};

/** A check that does not apply to an inventory sale, reported as passed with why. */
const notForSales = (name: CheckName, check: Check): Check => (input, state, nowMs) =>
  input.purpose === 'reduce'
    ? report(name, true, { inputs: { purpose: 'reduce' }, limit: null, observed: null, unit: 'none', reason: `not applied to an inventory sale: it lowers exposure, it does not seek a profit` })
    : check(input, state, nowMs);

export const checkMinProfit: Check = notForSales('min_profit', (input, state) => {
  const limit = state.limits.minProfitBaseUnits;
  const inputs = {
    inputMint: input.inputMint,
    expectedProfit: s(input.expectedProfit),
    feesEstimateLamports: s(input.feesEstimate),
    priorityFeeLamports: s(input.priorityFee),
    feesInInputBaseUnits: input.feesInInputBaseUnits === undefined ? null : s(input.feesInInputBaseUnits),
  };
  let fees = input.feesInInputBaseUnits;
  if (fees === undefined) {
    if (input.inputMint !== WRAPPED_SOL_MINT) {
      return report('min_profit', false, {
        inputs,
        limit: s(limit),
        observed: null,
        unit: 'base_units',
        reason: `fees are in lamports but the input mint is ${input.inputMint}: supply feesInInputBaseUnits to compare profit after fees`,
      });
    }
    fees = input.feesEstimate + input.priorityFee;
  }
  const net = input.expectedProfit - fees;
  const passed = net >= limit;
  return report('min_profit', passed, {
    inputs,
    limit: s(limit),
    observed: s(net),
    unit: 'base_units',
    reason: passed
      ? `expected profit after fees ${net} base units`
      : `expected profit after fees ${net} base units is below the minimum ${limit}`,
  });
});

export const checkTokenExposure: Check = (input, state, nowMs) => {
  const limit = state.limits.maxExposurePerTokenUsdMicros;
  // Selling a token never raises exposure to it; what the trade adds to is its output mint.
  const before = tokenExposure(state, input.outputMint, nowMs);
  const after = before + input.notionalUsdMicros;
  const passed = after <= limit;
  return report('token_exposure', passed, {
    inputs: { mint: input.outputMint, exposureBeforeUsdMicros: s(before), notionalUsdMicros: s(input.notionalUsdMicros) },
    limit: s(limit),
    observed: s(after),
    unit: 'usd_micros',
    reason: passed
      ? `exposure to ${input.outputMint} would be ${after} usd_micros`
      : `exposure to ${input.outputMint} would be ${after} usd_micros, above ${limit}`,
  });
};

export const checkTradeNotional: Check = (input, state) => {
  const limit = state.limits.maxNotionalPerTradeUsdMicros;
  const v = input.notionalUsdMicros;
  const passed = v <= limit;
  return report('trade_notional', passed, {
    inputs: { notionalUsdMicros: s(v), amountIn: s(input.amountIn), inputMint: input.inputMint },
    limit: s(limit),
    observed: s(v),
    unit: 'usd_micros',
    reason: passed ? `trade notional ${v} usd_micros` : `trade notional ${v} usd_micros is above ${limit}`,
  });
};

export const checkDailyLoss: Check = notForSales('daily_loss', (_input, state, nowMs) => {
  const limit = state.limits.dailyLossLimitUsdMicros;
  const today = realisedOn(state, nowMs);
  const loss = today.pnlUsdMicros < 0n ? -today.pnlUsdMicros : 0n;
  // The limit is a budget: once the day's loss reaches it, nothing more may be risked today.
  const passed = loss < limit;
  return report('daily_loss', passed, {
    inputs: { day: today.day, realisedPnlUsdMicros: s(today.pnlUsdMicros), unpricedFills: today.unpricedFills },
    limit: s(limit),
    observed: s(loss),
    unit: 'usd_micros',
    reason:
      (passed ? `realised loss today ${loss} usd_micros` : `realised loss today ${loss} usd_micros has reached the daily limit ${limit}`) +
      (today.unpricedFills ? ` (${today.unpricedFills} fill(s) today could not be priced in USD and are not counted)` : ''),
  });
});

export const checkOrderRate: Check = (_input, state, nowMs) => {
  const limit = state.limits.maxOrdersPerMinute;
  const withThis = ordersInWindow(state, nowMs) + 1;
  const passed = withThis <= limit;
  return report('order_rate', passed, {
    inputs: { ordersInLastMinute: withThis - 1 },
    limit: s(limit),
    observed: s(withThis),
    unit: 'orders',
    reason: passed
      ? `${withThis} order(s) in the last minute including this one`
      : `${withThis} orders in the last minute including this one, above ${limit} per minute`,
  });
};

const CHECKS: Record<CheckName, Check> = {
  engine_state: checkEngineState,
  price_staleness: checkPriceStaleness,
  price_confidence: checkPriceConfidence,
  price_deviation: checkPriceDeviation,
  slippage: checkSlippage,
  min_profit: checkMinProfit,
  token_exposure: checkTokenExposure,
  trade_notional: checkTradeNotional,
  daily_loss: checkDailyLoss,
  order_rate: checkOrderRate,
};

/** Runs every check (never stopping at the first failure) and approves only if all pass. */
export function assessRisk(input: RiskCheckInput, state: EngineState, now: Date): RiskAssessment {
  // Sizes are the caller's own arithmetic, not market data: a negative one is a bug, not a risk.
  if (input.amountIn <= 0n) throw new RangeError(`amountIn must be positive (got ${input.amountIn}) for ${input.opportunityId}`);
  if (input.notionalUsdMicros < 0n) {
    throw new RangeError(`notionalUsdMicros must not be negative (got ${input.notionalUsdMicros}) for ${input.opportunityId}`);
  }
  const nowMs = now.getTime();
  const checks = CHECK_NAMES.map((name) => CHECKS[name](input, state, nowMs));
  const failedChecks = checks.filter((c) => !c.passed).map((c) => c.name);
  return { approved: failedChecks.length === 0, failedChecks, checks };
}

/** The RiskAssessed payload for an assessment made with `state` at `now`. */
export function riskAssessedPayload(
  input: RiskCheckInput,
  state: EngineState,
  now: Date,
  assessment: RiskAssessment = assessRisk(input, state, now),
): RiskAssessedPayload {
  return {
    opportunityId: input.opportunityId,
    approved: assessment.approved,
    failedChecks: assessment.failedChecks,
    checks: assessment.checks,
    inputMint: input.inputMint,
    outputMint: input.outputMint,
    amountIn: s(input.amountIn),
    notionalUsdMicros: s(input.notionalUsdMicros),
    engineMode: state.mode,
    limitsVersion: state.limitsVersion,
    assessedAt: now.toISOString(),
  };
}
