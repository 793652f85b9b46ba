// The reconciliation decision: the ledger's balances folded from the last reconciliation's chain
// figures and the fills since, against the chain's figures, per mint with its tolerance.
import { describe, expect, it } from 'vitest';
import { basisOf, decideReconciliation, ledgerBalances, SOL_ROW_MINT, type ReconciliationTolerances } from '../../../src/execution/decisions.js';
import { BalanceDiscrepancyDetected, BalancesReconciled, reconciliationEvents } from '../../../src/execution/events.js';
import type { ChainBalances } from '../../../src/execution/wallet-balances.port.js';
import { expectStorable, registryOf, validationError } from '../../support/registry.js';

const OWNER = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';
const BONK = 'DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263';
const SPAM = 'Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB';
const NOW = new Date('2026-12-01T12:00:00.000Z');
const tolerances: ReconciliationTolerances = { lamports: 10_000n, baseUnits: 0n, byMint: new Map([[BONK, 5n]]) };
const registry = registryOf(...reconciliationEvents);

const chain = (lamports: bigint, tokens: Record<string, bigint> = {}): ChainBalances => ({
  kind: 'balances',
  slot: 1234n,
  lamports,
  tokens: new Map(Object.entries(tokens)),
  tokenAccounts: Object.keys(tokens).length,
});
const decide = (c: ChainBalances, ledger: ReturnType<typeof ledgerBalances> | null, trackedMints: string[] = [USDC]) =>
  decideReconciliation({ owner: OWNER, venue: 'solana', chain: c, ledger, throughPosition: 50n, trackedMints, tolerances, now: NOW });
const basis = (balances: Record<string, bigint>, position = 10n) => ({ position, balances: new Map(Object.entries(balances)) });
const filled = (inputMint: string, outputMint: string, amountIn: bigint, amountOut: bigint, feeLamports: bigint) => ({
  type: 'FillConfirmed',
  payload: { inputMint, outputMint, amountIn: String(amountIn), amountOut: String(amountOut), feeLamports: String(feeLamports) },
});
const row = (payload: { balances: { mint: string }[] }, mint: string) => payload.balances.find((b) => b.mint === mint);

describe('ledger balances: the basis plus the fills since', () => {
  it('a round trip adds its net result to the mint and takes its fee from SOL', () => {
    const l = ledgerBalances(basis({ [SOL_ROW_MINT]: 1_000_000n, [USDC]: 500n }), [filled(USDC, USDC, 100n, 103n, 7_000n)]);
    expect(l.balances.get(USDC)).toBe(503n);
    expect(l.balances.get(SOL_ROW_MINT)).toBe(993_000n);
    expect(l).toMatchObject({ basisPosition: 10n, fillsCounted: 1 });
  });

  it('a trade between two mints takes the input and adds the output, a landed failure costs its fee, a refused one nothing', () => {
    const l = ledgerBalances(basis({ [SOL_ROW_MINT]: 1_000_000n, [USDC]: 500n }), [
      filled(USDC, BONK, 200n, 9_000n, 5_000n),
      { type: 'FillFailed', payload: { reason: 'instruction 3 failed', feeLamports: '5000' } },
      { type: 'FillFailed', payload: { reason: 'refused by preflight' } },
    ]);
    expect(Object.fromEntries(l.balances)).toEqual({ [SOL_ROW_MINT]: 990_000n, [USDC]: 300n, [BONK]: 9_000n });
    expect(l.fillsCounted).toBe(3);
  });

  it('a round trip moves its intermediate by what leg 1 left behind; a sale of it counts once', () => {
    const roundTrip = filled(USDC, USDC, 100n, 103n, 5_000n);
    const left = { ...roundTrip, payload: { ...roundTrip.payload, inventory: { mint: BONK, changeBaseUnits: '40', baseMint: USDC, price: null } } };
    const sale = filled(BONK, USDC, 40n, 2n, 5_000n);
    const sold = { ...sale, payload: { ...sale.payload, inventory: { mint: BONK, changeBaseUnits: '-40', baseMint: USDC, price: null } } };
    const l = ledgerBalances(basis({ [SOL_ROW_MINT]: 1_000_000n, [USDC]: 500n }), [left]);
    expect(Object.fromEntries(l.balances)).toEqual({ [SOL_ROW_MINT]: 995_000n, [USDC]: 503n, [BONK]: 40n });
    const after = ledgerBalances(basis({ [SOL_ROW_MINT]: 1_000_000n, [USDC]: 500n }), [left, sold]);
    expect(Object.fromEntries(after.balances)).toEqual({ [SOL_ROW_MINT]: 990_000n, [USDC]: 505n, [BONK]: 0n });
  });

  it('folds only fill outcomes: other events change nothing', () => {
    const l = ledgerBalances(basis({ [USDC]: 5n }), [{ type: 'TransactionSubmitted', payload: { feeLamports: '5000' } }]);
    expect(Object.fromEntries(l.balances)).toEqual({ [USDC]: 5n });
  });

  it('the basis is the recorded chain figures of the previous reconciliation', () => {
    const opening = decide(chain(2_000_000n, { [USDC]: 42n }), null);
    const b = basisOf(opening.payload, 77n);
    expect(b.position).toBe(77n);
    expect(Object.fromEntries(b.balances)).toEqual({ [SOL_ROW_MINT]: 2_000_000n, [USDC]: 42n });
  });
});

describe('decideReconciliation', () => {
  it('at the opening records the chain figures as the starting point, with no ledger figure', () => {
    const d = decide(chain(2_000_000n, { [USDC]: 42n, [SOL_ROW_MINT]: 1_000n }), null);
    expect(d.event).toBe(BalancesReconciled);
    expect(d.payload).toMatchObject({ opening: true, basisPosition: null, ledgerThroughPosition: '50', slot: '1234', lamports: '2000000', fillsCounted: 0, checkedAt: NOW.toISOString() });
    // SOL is lamports plus wrapped SOL.
    expect(row(d.payload, SOL_ROW_MINT)).toEqual({ mint: SOL_ROW_MINT, ledgerBaseUnits: null, chainBaseUnits: '2001000', differenceBaseUnits: '0', toleranceBaseUnits: '10000', beyondTolerance: false });
    expectStorable(registry, BalancesReconciled, d.payload as never);
  });

  it('chain equal to the ledger for every mint: BalancesReconciled with both figures', () => {
    const ledger = ledgerBalances(basis({ [SOL_ROW_MINT]: 1_000_000n, [USDC]: 500n }), [filled(USDC, USDC, 100n, 103n, 7_000n)]);
    const d = decide(chain(993_000n, { [USDC]: 503n }), ledger);
    expect(d.event).toBe(BalancesReconciled);
    expect(d.payload).toMatchObject({ opening: false, basisPosition: '10', fillsCounted: 1 });
    expect(row(d.payload, USDC)).toMatchObject({ ledgerBaseUnits: '503', chainBaseUnits: '503', differenceBaseUnits: '0' });
  });

  it('tokens gone behind the ledger’s back: BalanceDiscrepancyDetected beyond tolerance, with both figures and chain − ledger', () => {
    const ledger = ledgerBalances(basis({ [SOL_ROW_MINT]: 1_000_000n, [USDC]: 500n }), []);
    const d = decide(chain(995_000n, { [USDC]: 400n }), ledger);
    expect(d.event).toBe(BalanceDiscrepancyDetected);
    expect(d.payload).toMatchObject({ beyondTolerance: true });
    expect(row(d.payload, USDC)).toEqual({ mint: USDC, ledgerBaseUnits: '500', chainBaseUnits: '400', differenceBaseUnits: '-100', toleranceBaseUnits: '0', beyondTolerance: true });
    // 5 000 lamports less is within the SOL tolerance of 10 000: recorded, not beyond.
    expect(row(d.payload, SOL_ROW_MINT)).toMatchObject({ differenceBaseUnits: '-5000', beyondTolerance: false });
    expectStorable(registry, BalanceDiscrepancyDetected, d.payload as never);
  });

  it('a difference within every tolerance is still recorded as a discrepancy, but not beyond tolerance', () => {
    const ledger = ledgerBalances(basis({ [SOL_ROW_MINT]: 1_000_000n, [BONK]: 100n }), []);
    const d = decide(chain(1_010_000n, { [BONK]: 105n }), ledger);
    expect(d.event).toBe(BalanceDiscrepancyDetected);
    expect(d.payload).toMatchObject({ beyondTolerance: false });
    expect(row(d.payload, BONK)).toMatchObject({ differenceBaseUnits: '5', toleranceBaseUnits: '5', beyondTolerance: false });
  });

  it('one unit past a tolerance is beyond it (either direction)', () => {
    const ledger = ledgerBalances(basis({ [SOL_ROW_MINT]: 1_000_000n, [BONK]: 100n }), []);
    expect(decide(chain(1_000_000n, { [BONK]: 94n }), ledger).payload).toMatchObject({ beyondTolerance: true });
    expect(decide(chain(1_010_001n, { [BONK]: 100n }), ledger).payload).toMatchObject({ beyondTolerance: true });
  });

  it('a traded mint whose account is gone shows 0 on chain against the ledger figure', () => {
    const ledger = ledgerBalances(basis({ [SOL_ROW_MINT]: 1_000_000n }), [filled(SOL_ROW_MINT, BONK, 0n, 1_000n, 0n)]);
    const d = decide(chain(1_000_000n), ledger, []);
    expect(row(d.payload, BONK)).toMatchObject({ ledgerBaseUnits: '1000', chainBaseUnits: '0', differenceBaseUnits: '-1000', beyondTolerance: true });
  });

  it('tokens of a mint neither traded nor tracked are counted, not compared (a token anyone sent must not pause the engine)', () => {
    const ledger = ledgerBalances(basis({ [SOL_ROW_MINT]: 1_000_000n }), []);
    const d = decide(chain(1_000_000n, { [SPAM]: 1_000_000_000n }), ledger);
    expect(d.event).toBe(BalancesReconciled);
    expect(d.payload.untrackedMints).toBe(1);
    expect(row(d.payload, SPAM)).toBeUndefined();
  });

  it('the opening takes in every mint the wallet holds, tracked or not; from then on those are compared', () => {
    const opening = decide(chain(1_000n, { [SPAM]: 7n }), null);
    expect(row(opening.payload, SPAM)).toMatchObject({ ledgerBaseUnits: null, chainBaseUnits: '7' });
    expect(opening.payload.untrackedMints).toBe(0);
    const next = decide(chain(1_000n, { [SPAM]: 6n }), ledgerBalances(basisOf(opening.payload, 60n), []));
    expect(next.event).toBe(BalanceDiscrepancyDetected);
    expect(row(next.payload, SPAM)).toMatchObject({ ledgerBaseUnits: '7', chainBaseUnits: '6', beyondTolerance: true });
  });

  it('leaves out tracked mints at zero on both sides, keeps SOL, sorts SOL first', () => {
    const d = decide(chain(0n, { [BONK]: 3n }), null, [USDC, BONK]);
    expect(d.payload.balances.map((b) => b.mint)).toEqual([SOL_ROW_MINT, BONK]);
  });

  it('the store refuses a reconciliation without its figures', () => {
    const d = decide(chain(1n), null);
    const { balances: _b, ...rest } = d.payload;
    expect(validationError(registry, BalancesReconciled, rest)).toMatch(/balances is required/);
    expect(validationError(registry, BalancesReconciled, { ...d.payload, balances: [{ ...d.payload.balances[0], chainBaseUnits: 1.5 }] })).toMatch(/chainBaseUnits/);
  });
});
