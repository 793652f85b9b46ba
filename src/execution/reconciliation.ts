// Reconciliation of the ledger's balances with the chain, as pure functions (published through
// ./decisions.ts; trading's ReconciliationService does the reads and the append).
//
// - The ledger's figure of a mint = the chain figure the previous reconciliation recorded (its
//   basis) + what the fills recorded since then moved: FillConfirmed adds amountOut of the output
//   mint and takes amountIn of the input mint (and a round trip's `inventory` moves its intermediate); every fee (FillConfirmed, and FillFailed when the
//   transaction landed and paid one) is taken from SOL. At the opening (no reconciliation yet for
//   this wallet) there is no ledger figure: the chain's figures are recorded as the starting point.
// - SOL is one row under wrapped SOL's mint: the owner's lamports plus its wrapped SOL, because a
//   fill's amounts in SOL (fill-amounts.ts) are the lamport change and the WSOL change together.
//   Rent paid into a new account is in neither: the SOL tolerance is there for that.
// - Rows: SOL, the tracked mints (the configured pairs' tokens), every mint the wallet held at the
//   opening, and from then on every mint with a figure on the ledger side (the basis, i.e. the
//   previous rows, or fills). A token of any other mint that arrives later is counted
//   (untrackedMints) but not compared: anyone can send a token to any wallet, and that must not
//   pause the engine. A mint at zero on both sides drops out.
// - Every row has both figures, chain − ledger, the mint's tolerance and whether it is beyond it.
//   All rows equal (or the opening) → BalancesReconciled; any difference → BalanceDiscrepancyDetected,
//   with beyondTolerance when one row is beyond its tolerance (the circuit breaker pauses on it).
import {
  BalanceDiscrepancyDetected,
  BalancesReconciled,
  type BalanceDiscrepancyDetectedPayload,
  type BalancesReconciledPayload,
  type FillConfirmedPayload,
  fillHoldingChanges,
} from './events.js';
import { NATIVE_MINT } from './transaction.js';
import type { ChainBalances } from './wallet-balances.port.js';
import type { VenueName } from './venue.port.js';

export { NATIVE_MINT as SOL_ROW_MINT };

export interface ReconciliationTolerances {
  /** For the SOL row (lamports + wrapped SOL). */
  lamports: bigint;
  /** For every other mint without its own. */
  baseUnits: bigint;
  /** Per mint, overriding both. */
  byMint: ReadonlyMap<string, bigint>;
}

export function toleranceFor(t: ReconciliationTolerances, mint: string): bigint {
  return t.byMint.get(mint) ?? (mint === NATIVE_MINT ? t.lamports : t.baseUnits);
}

/** The chain's figures per row: SOL = lamports + wrapped SOL, every other mint as summed. */
export function chainFigures(chain: ChainBalances): Map<string, bigint> {
  const out = new Map(chain.tokens);
  out.set(NATIVE_MINT, chain.lamports + (chain.tokens.get(NATIVE_MINT) ?? 0n));
  return out;
}

/** Where the ledger's figures start: the chain figures a reconciliation recorded, at its position. */
export interface LedgerBasis {
  position: bigint;
  balances: ReadonlyMap<string, bigint>;
}

/** The basis a recorded reconciliation (either event) gives the next one. */
export function basisOf(payload: Pick<BalancesReconciledPayload, 'balances'>, position: bigint): LedgerBasis {
  return { position, balances: new Map(payload.balances.map((b) => [b.mint, BigInt(b.chainBaseUnits)])) };
}

export interface FillEventLike {
  type: string;
  payload: unknown;
}

/** The fill outcome types the ledger's balances fold. */
export const BALANCE_EVENT_TYPES = ['FillConfirmed', 'FillFailed'] as const;

export interface LedgerBalances {
  basisPosition: bigint;
  balances: Map<string, bigint>;
  fillsCounted: number;
}

const units = (v: unknown): bigint => (typeof v === 'string' && /^\d+$/.test(v) ? BigInt(v) : 0n);

/** The ledger's balances: the basis plus every fill outcome in `fills` (those after the basis, in log order). */
export function ledgerBalances(basis: LedgerBasis, fills: Iterable<FillEventLike>): LedgerBalances {
  const balances = new Map(basis.balances);
  const add = (mint: string, by: bigint) => balances.set(mint, (balances.get(mint) ?? 0n) + by);
  let fillsCounted = 0;
  for (const e of fills) {
    const p = (e.payload ?? {}) as Record<string, unknown>;
    if (e.type === 'FillConfirmed') {
      if (typeof p.inputMint !== 'string' || typeof p.outputMint !== 'string') continue;
      for (const c of fillHoldingChanges(p as unknown as FillConfirmedPayload)) add(c.mint, c.changeBaseUnits);
      add(NATIVE_MINT, -units(p.feeLamports));
      fillsCounted++;
    } else if (e.type === 'FillFailed') {
      // Landed with an error: nothing traded, the fee paid all the same. Refused before landing: no fee field.
      add(NATIVE_MINT, -units(p.feeLamports));
      fillsCounted++;
    }
  }
  return { basisPosition: basis.position, balances, fillsCounted };
}

export interface ReconciliationInput {
  owner: string;
  venue: VenueName;
  chain: ChainBalances;
  /** Null at the opening (no reconciliation recorded for this wallet yet). */
  ledger: LedgerBalances | null;
  /** The ledger's figures fold every fill up to this global position. */
  throughPosition: bigint;
  /** Mints always compared (the configured pairs' tokens), besides SOL and the ledger's own. */
  trackedMints: readonly string[];
  tolerances: ReconciliationTolerances;
  now: Date;
}

export type ReconciliationDecision =
  | { event: typeof BalancesReconciled; payload: BalancesReconciledPayload }
  | { event: typeof BalanceDiscrepancyDetected; payload: BalanceDiscrepancyDetectedPayload };

export function decideReconciliation(input: ReconciliationInput): ReconciliationDecision {
  const chain = chainFigures(input.chain);
  const ledger = input.ledger?.balances ?? null;
  // The opening takes in whatever the wallet holds; later runs compare what the ledger has figures for.
  const held = ledger ? ledger.keys() : [...chain.keys()].filter((m) => chain.get(m)! > 0n);
  const mints = new Set<string>([NATIVE_MINT, ...input.trackedMints, ...held]);
  const untrackedMints = [...chain.keys()].filter((m) => !mints.has(m) && chain.get(m)! > 0n).length;
  const balances = [...mints]
    .sort((a, b) => (a === NATIVE_MINT ? -1 : b === NATIVE_MINT ? 1 : a < b ? -1 : a > b ? 1 : 0))
    .map((mint) => {
      const onChain = chain.get(mint) ?? 0n;
      const onLedger = ledger ? (ledger.get(mint) ?? 0n) : null;
      const difference = onLedger === null ? 0n : onChain - onLedger;
      const tolerance = toleranceFor(input.tolerances, mint);
      return {
        mint,
        ledgerBaseUnits: onLedger === null ? null : onLedger.toString(),
        chainBaseUnits: onChain.toString(),
        differenceBaseUnits: difference.toString(),
        toleranceBaseUnits: tolerance.toString(),
        beyondTolerance: (difference < 0n ? -difference : difference) > tolerance,
        zero: onChain === 0n && (onLedger === null || onLedger === 0n),
      };
    })
    // A mint at zero on both sides says nothing (SOL is always shown).
    .filter((b) => !b.zero || b.mint === NATIVE_MINT)
    .map(({ zero: _zero, ...b }) => b);
  const common = {
    owner: input.owner,
    venue: input.venue,
    slot: input.chain.slot.toString(),
    lamports: input.chain.lamports.toString(),
    tokenAccounts: input.chain.tokenAccounts,
    untrackedMints,
    ledgerThroughPosition: input.throughPosition.toString(),
    basisPosition: input.ledger ? input.ledger.basisPosition.toString() : null,
    fillsCounted: input.ledger?.fillsCounted ?? 0,
    balances,
    checkedAt: input.now.toISOString(),
  };
  if (balances.every((b) => b.differenceBaseUnits === '0')) {
    return { event: BalancesReconciled, payload: { ...common, opening: input.ledger === null } };
  }
  return { event: BalanceDiscrepancyDetected, payload: { ...common, beyondTolerance: balances.some((b) => b.beyondTolerance) } };
}

/** The rows beyond tolerance of a discrepancy, for a pause reason and metrics. */
export function rowsBeyondTolerance(payload: Pick<BalanceDiscrepancyDetectedPayload, 'balances'>) {
  return payload.balances.filter((b) => b.beyondTolerance);
}
