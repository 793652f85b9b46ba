// The trading state the pre-trade checks read: mode (ACTIVE / PAUSED / REDUCING), limits, the
// day's realised P&L, per-token exposure, in-flight trades and recent orders. It is a pure left
// fold over events; the handler reads the events (engine stream + RiskAssessed + fill outcomes)
// and calls `evolve` for each, in log order.
//
// USD conversion (the daily loss limit and exposure are in USD micro-units, fills report P&L in
// base units of the input mint):
// - FillConfirmed may carry `pnlUsdMicros` (signed) and `notionalUsdMicros`; when present they win;
// - otherwise the fold uses the approved RiskAssessed of the same opportunity, whose
//   notionalUsdMicros / amountIn is the USD price of one input base unit at assessment time:
//   pnlUsd = realisedPnl × notional / amountIn, rounded away from zero for losses (conservative);
// - a fill that can be priced neither way is counted in `realisedToday.unpricedFills`, and the
//   daily loss check reports it, instead of silently counting as zero.
//
// Exposure to a token = USD value held from earlier non-round-trip fills (output mint gains the
// notional, input mint loses it, floored at zero since the starting inventory is not known here)
// + the notional of approved trades still in flight that buy the token (their output mint; for a
// round trip that is also the input mint). A round trip adds no held exposure once it settles,
// except for what it leaves of its intermediate token:
//
// Inventory = per mint that is not a base token, base units: what round trips left of their
// intermediate (FillConfirmed v2 `inventory`: leg 1 out − leg 2 in, read by the venue from the
// chain's pre/post token balances), minus what inventory sales sold (their own fills, same
// field). It counts in exposure at the latest price the log has for it (the round trip's leg-1
// rate at its assessment's USD price, then each sale's assessment), rounded up. Inventory sales
// open (detected with a `reduction`, not ended) are tracked so no two sell the same units.
import type { EngineMode, RiskAssessedPayload } from './events.js';
import { riskLimitsFromJson, type RiskLimits, type RiskLimitsJson } from './limits.js';

/** The minimum an event needs for the fold: a RecordedEvent or NewEvent fits. */
export interface EngineEventLike {
  type: string;
  payload: unknown;
  recordedAt: string;
}

export interface InFlightTrade {
  opportunityId: string;
  inputMint: string;
  outputMint: string;
  amountIn: bigint;
  notionalUsdMicros: bigint;
  /** Epoch ms of the approval. */
  approvedAtMs: number;
}

export interface DailyRealised {
  /** UTC day (YYYY-MM-DD) the figures belong to; null before the first fill. */
  day: string | null;
  /** Net realised P&L of the day, signed. */
  pnlUsdMicros: bigint;
  /** Fills of the day whose P&L could not be converted to USD. */
  unpricedFills: number;
}

export interface UnitPrice {
  /** USD micro-units per `perBaseUnits` base units of the mint. */
  usdMicros: bigint;
  perBaseUnits: bigint;
}

export interface InventoryHolding {
  mint: string;
  /** Base units held beyond what the round trips spent (> 0). */
  amountBaseUnits: bigint;
  /** The base token it is sold back to (the input mint of the round trip that left it). */
  baseMint: string;
  /** The latest price the log has for it; null when none could be had (valued 0, reported). */
  price: UnitPrice | null;
}

export interface OpenReduction {
  opportunityId: string;
  mint: string;
  amountBaseUnits: bigint;
}

export interface EngineState {
  mode: EngineMode;
  /** When the current mode began (recordedAt of the event); null for the initial state. */
  since: string | null;
  reason: string | null;
  actor: string | null;
  pauseCause: 'operator' | 'circuit_breaker' | null;
  /** Failed or expired fills since the last confirmed fill or resume. */
  consecutiveFailedFills: number;
  limits: RiskLimits;
  /** Number of RiskLimitsChanged events folded (0 = limits from config). */
  limitsVersion: number;
  realisedToday: DailyRealised;
  /** Held exposure per mint from settled non-round-trip fills without inventory, USD micro-units (≥ 0). Inventory is valued apart (heldExposure). */
  exposureByToken: Readonly<Record<string, bigint>>;
  /** Intermediate tokens left by round trips and not sold yet, by mint. */
  inventory: Readonly<Record<string, InventoryHolding>>;
  /** Inventory sales started and not ended, by opportunity id. */
  reductionsOpen: Readonly<Record<string, OpenReduction>>;
  /** Approved trades with no fill outcome yet, by opportunity id. */
  inFlight: Readonly<Record<string, InFlightTrade>>;
  /** Epoch ms of approved orders in the last minute before the latest approval. */
  recentOrders: readonly number[];
}

export const ORDER_RATE_WINDOW_MS = 60_000;
/**
 * An approved trade counts toward exposure for this long without a fill outcome. A Solana
 * blockhash expires after ~60–90 s, so a trade older than this cannot land any more; without
 * the cut an opportunity abandoned after approval would block exposure forever.
 */
export const IN_FLIGHT_EXPOSURE_MS = 120_000;
/** In-flight entries are kept longer than they count, so a late fill can still be priced. */
export const IN_FLIGHT_RETAIN_MS = 15 * 60_000;

export function initialEngineState(limits: RiskLimits): EngineState {
  return {
    mode: 'ACTIVE',
    since: null,
    reason: null,
    actor: null,
    pauseCause: null,
    consecutiveFailedFills: 0,
    limits,
    limitsVersion: 0,
    realisedToday: { day: null, pnlUsdMicros: 0n, unpricedFills: 0 },
    exposureByToken: {},
    inventory: {},
    reductionsOpen: {},
    inFlight: {},
    recentOrders: [],
  };
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const big = (v: unknown, signed = false): bigint | null => {
  if (typeof v !== 'string' || !(signed ? /^-?\d+$/ : /^\d+$/).test(v)) return null;
  return BigInt(v);
};
const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const rec = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function withoutInFlight(state: EngineState, id: string | null): Readonly<Record<string, InFlightTrade>> {
  if (!id || !(id in state.inFlight)) return state.inFlight;
  const { [id]: _gone, ...rest } = state.inFlight;
  return rest;
}

/** The saga `id` ended: it no longer counts in flight, nor as an open inventory sale. */
function ended(state: EngineState, id: string | null): Pick<EngineState, 'inFlight' | 'reductionsOpen'> {
  let reductionsOpen = state.reductionsOpen;
  if (id && id in reductionsOpen) {
    const { [id]: _gone, ...rest } = reductionsOpen;
    reductionsOpen = rest;
  }
  return { inFlight: withoutInFlight(state, id), reductionsOpen };
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/** A price as a reduced fraction; null for a zero or negative side. */
export function unitPrice(usdMicros: bigint, perBaseUnits: bigint): UnitPrice | null {
  if (usdMicros < 0n || perBaseUnits <= 0n) return null;
  const g = gcd(usdMicros, perBaseUnits) || 1n;
  return { usdMicros: usdMicros / g, perBaseUnits: perBaseUnits / g };
}

/** USD micro-units of `amount` base units at `price`, rounded up (exposure is never understated). */
export function valueUsdMicros(amount: bigint, price: UnitPrice | null): bigint {
  if (!price || amount <= 0n) return 0n;
  return (amount * price.usdMicros + price.perBaseUnits - 1n) / price.perBaseUnits;
}

/** Applies a fill's inventory change (FillConfirmed v2 `inventory`). */
function withInventoryChange(state: EngineState, change: Record<string, unknown>): Readonly<Record<string, InventoryHolding>> {
  const mint = text(change.mint);
  const delta = big(change.changeBaseUnits, true);
  if (!mint || delta === null) return state.inventory;
  const held = state.inventory[mint];
  const pr = rec(change.price);
  const usd = big(pr.usdMicros);
  const per = big(pr.perBaseUnits);
  const price = (usd !== null && per !== null ? unitPrice(usd, per) : null) ?? held?.price ?? null;
  const amount = (held?.amountBaseUnits ?? 0n) + delta;
  const { [mint]: _old, ...rest } = state.inventory;
  // Selling more than the round trips left comes out of the standing balance: inventory is floored at 0.
  if (amount <= 0n) return rest;
  return { ...rest, [mint]: { mint, amountBaseUnits: amount, baseMint: held?.baseMint ?? text(change.baseMint) ?? mint, price } };
}

/** Folds one event into the state. Unknown event types leave the state unchanged. */
export function evolve(state: EngineState, event: EngineEventLike): EngineState {
  const p = rec(event.payload);
  const atMs = Date.parse(event.recordedAt);
  switch (event.type) {
    case 'EnginePaused':
      return {
        ...state,
        mode: 'PAUSED',
        since: event.recordedAt,
        actor: text(p.actor),
        reason: text(p.reason),
        pauseCause: p.cause === 'circuit_breaker' ? 'circuit_breaker' : 'operator',
      };
    case 'EngineResumed':
      // Resuming acknowledges the failures that tripped the breaker; keeping the count would
      // pause again on the very next failure.
      return {
        ...state,
        mode: 'ACTIVE',
        since: event.recordedAt,
        actor: text(p.actor),
        reason: text(p.reason),
        pauseCause: null,
        consecutiveFailedFills: 0,
      };
    case 'EngineReducing':
      return { ...state, mode: 'REDUCING', since: event.recordedAt, actor: text(p.actor), reason: text(p.reason), pauseCause: null };
    case 'RiskLimitsChanged': {
      const l = rec(p.limits);
      if (!('circuitBreaker' in l)) return state; // the registry refuses this; never crash a replay on it
      return { ...state, limits: riskLimitsFromJson(l as unknown as RiskLimitsJson), limitsVersion: state.limitsVersion + 1 };
    }
    case 'RiskAssessed':
      return onAssessed(state, p as Partial<RiskAssessedPayload>, atMs);
    case 'FillConfirmed':
      return onFillConfirmed(state, p, atMs);
    case 'FillFailed':
    case 'TransactionExpired':
      return {
        ...state,
        consecutiveFailedFills: state.consecutiveFailedFills + 1,
        ...ended(state, text(p.opportunityId)),
      };
    case 'OpportunityAbandoned':
    case 'QuoteFailed':
      // Every abandonment is of a transaction that never landed (never sent, or expired while
      // the engine was down): it no longer holds exposure, and it is no failed fill either.
      return { ...state, ...ended(state, text(p.opportunityId)) };
    case 'ComplianceScreened':
      // A trade compliance blocked will never be sent: stop counting it as in flight.
      if (p.decision !== 'blocked') return state;
      return { ...state, ...ended(state, text(p.opportunityId)) };
    case 'OpportunityDetected': {
      // Only inventory sales matter here: they hold their units until they end.
      const reduction = rec(p.reduction);
      const id = text(p.opportunityId);
      const mint = text(rec(p.route).mintA);
      const amount = big(p.amountIn);
      if (!text(reduction.trigger) || !id || !mint || amount === null) return state;
      return { ...state, reductionsOpen: { ...state.reductionsOpen, [id]: { opportunityId: id, mint, amountBaseUnits: amount } } };
    }
    default:
      return state;
  }
}

function onAssessed(state: EngineState, p: Partial<RiskAssessedPayload>, recordedMs: number): EngineState {
  if (p.approved !== true) return { ...state, ...ended(state, text(p.opportunityId)) };
  const assessedMs = typeof p.assessedAt === 'string' ? Date.parse(p.assessedAt) : Number.NaN;
  const t = Number.isNaN(assessedMs) ? recordedMs : assessedMs;
  if (Number.isNaN(t)) return state;
  const recentOrders = [...state.recentOrders.filter((o) => o > t - ORDER_RATE_WINDOW_MS), t];
  const inFlight: Record<string, InFlightTrade> = {};
  for (const [id, f] of Object.entries(state.inFlight)) if (f.approvedAtMs > t - IN_FLIGHT_RETAIN_MS) inFlight[id] = f;
  const id = text(p.opportunityId);
  const amountIn = big(p.amountIn);
  const notional = big(p.notionalUsdMicros);
  const inputMint = text(p.inputMint);
  const outputMint = text(p.outputMint);
  if (id && amountIn !== null && notional !== null && inputMint && outputMint) {
    inFlight[id] = { opportunityId: id, inputMint, outputMint, amountIn, notionalUsdMicros: notional, approvedAtMs: t };
  }
  // A sale of held inventory prices it afresh: its assessment's notional for its amount.
  let inventory = state.inventory;
  const held = inputMint ? inventory[inputMint] : undefined;
  const price = amountIn !== null && notional !== null ? unitPrice(notional, amountIn) : null;
  if (held && price && inputMint !== outputMint) inventory = { ...inventory, [held.mint]: { ...held, price } };
  return { ...state, recentOrders, inFlight, inventory };
}

/** Integer division rounding away from zero (used so a converted loss is never understated). */
function divAwayFromZero(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d === 0n ? q : n < 0n ? q - 1n : q + 1n;
}

function onFillConfirmed(state: EngineState, p: Record<string, unknown>, atMs: number): EngineState {
  const id = text(p.opportunityId);
  const flight = id ? state.inFlight[id] : undefined;

  let pnlUsd = big(p.pnlUsdMicros, true);
  if (pnlUsd === null) {
    const pnl = big(p.realisedPnl, true);
    if (pnl !== null && flight && flight.amountIn > 0n) {
      const scaled = pnl * flight.notionalUsdMicros;
      pnlUsd = pnl < 0n ? divAwayFromZero(scaled, flight.amountIn) : scaled / flight.amountIn;
    }
  }

  const day = Number.isNaN(atMs) ? state.realisedToday.day : utcDay(atMs);
  const base: DailyRealised =
    day === state.realisedToday.day ? state.realisedToday : { day, pnlUsdMicros: 0n, unpricedFills: 0 };
  const realisedToday: DailyRealised =
    pnlUsd === null
      ? { ...base, unpricedFills: base.unpricedFills + 1 }
      : { ...base, pnlUsdMicros: base.pnlUsdMicros + pnlUsd };

  let exposureByToken = state.exposureByToken;
  const inputMint = text(p.inputMint) ?? flight?.inputMint ?? null;
  const outputMint = text(p.outputMint) ?? flight?.outputMint ?? null;
  const notional = big(p.notionalUsdMicros) ?? flight?.notionalUsdMicros ?? null;
  const change = p.inventory !== null && typeof p.inventory === 'object' ? rec(p.inventory) : null;
  // A fill that says what it did to inventory (v2: round trips and sales) is counted there; the
  // notional bookkeeping below is for a plain swap that says nothing of it.
  if (!change && inputMint && outputMint && inputMint !== outputMint && notional !== null) {
    const held = { ...exposureByToken };
    held[outputMint] = (held[outputMint] ?? 0n) + notional;
    const rest = (held[inputMint] ?? 0n) - notional;
    if (rest > 0n) held[inputMint] = rest;
    else delete held[inputMint];
    exposureByToken = held;
  }

  return {
    ...state,
    consecutiveFailedFills: 0,
    realisedToday,
    exposureByToken,
    inventory: change ? withInventoryChange(state, change) : state.inventory,
    ...ended(state, id),
  };
}

export function foldEngineState(events: Iterable<EngineEventLike>, limits: RiskLimits): EngineState {
  let s = initialEngineState(limits);
  for (const e of events) s = evolve(s, e);
  return s;
}

/** In-flight trades that still count at `nowMs` (approved less than IN_FLIGHT_EXPOSURE_MS ago). */
export function liveInFlight(state: EngineState, nowMs: number): InFlightTrade[] {
  return Object.values(state.inFlight).filter((f) => f.approvedAtMs > nowMs - IN_FLIGHT_EXPOSURE_MS);
}

/** Held exposure per mint, USD micro-units: settled swaps plus inventory at its latest price. */
export function heldExposure(state: EngineState): Record<string, bigint> {
  const out: Record<string, bigint> = { ...state.exposureByToken };
  for (const h of Object.values(state.inventory)) out[h.mint] = (out[h.mint] ?? 0n) + valueUsdMicros(h.amountBaseUnits, h.price);
  return out;
}

/** Inventory of `mint` no open sale holds yet (excluding the sale `exceptOpportunityId`), base units. */
export function sellableInventory(state: EngineState, mint: string, exceptOpportunityId?: string): bigint {
  let free = state.inventory[mint]?.amountBaseUnits ?? 0n;
  for (const r of Object.values(state.reductionsOpen)) if (r.mint === mint && r.opportunityId !== exceptOpportunityId) free -= r.amountBaseUnits;
  return free > 0n ? free : 0n;
}

/** Held exposure plus the notional of live in-flight trades buying `mint`, in USD micro-units. */
export function tokenExposure(state: EngineState, mint: string, nowMs: number): bigint {
  let total = heldExposure(state)[mint] ?? 0n;
  for (const f of liveInFlight(state, nowMs)) if (f.outputMint === mint) total += f.notionalUsdMicros;
  return total;
}

/** Held exposure to `mint` not already being sold by a live in-flight trade. */
export function sellableExposure(state: EngineState, mint: string, nowMs: number): bigint {
  let total = state.exposureByToken[mint] ?? 0n;
  for (const f of liveInFlight(state, nowMs)) {
    if (f.inputMint === mint && f.outputMint !== mint) total -= f.notionalUsdMicros;
  }
  return total > 0n ? total : 0n;
}

/** The day's realised figures as seen at `nowMs` (zero on a new UTC day). */
export function realisedOn(state: EngineState, nowMs: number): DailyRealised {
  const day = utcDay(nowMs);
  return state.realisedToday.day === day ? state.realisedToday : { day, pnlUsdMicros: 0n, unpricedFills: 0 };
}

/** Approved orders in the 60 s window ending at `nowMs` (exclusive start, inclusive end). */
export function ordersInWindow(state: EngineState, nowMs: number): number {
  return state.recentOrders.filter((t) => t > nowMs - ORDER_RATE_WINDOW_MS && t <= nowMs).length;
}
