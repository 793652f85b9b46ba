import { describe, expect, it } from 'vitest';
import { fillAmounts, ownerDelta, type BalanceRecord } from '../../../src/execution/fill-amounts.js';
import { NATIVE_MINT } from '../../../src/execution/transaction.js';

const SIGNER = 'Signer1111111111111111111111111111111111111';
const OTHER = 'Other11111111111111111111111111111111111111';
const A = 'MintA111111111111111111111111111111111111111';
const B = 'MintB111111111111111111111111111111111111111';

const record = (over: Partial<BalanceRecord> = {}): BalanceRecord => ({
  accountKeys: [SIGNER, OTHER],
  preBalances: [10_000_000n, 0n],
  postBalances: [10_000_000n, 0n],
  preTokenBalances: [],
  postTokenBalances: [],
  fee: 5200n,
  ...over,
});

describe('fill amounts from confirmed balances', () => {
  it('A → B: what A went down by and B went up by, for accounts the signer owns only', () => {
    const r = record({
      preTokenBalances: [
        { accountIndex: 2, mint: A, owner: SIGNER, amount: 1_000n },
        { accountIndex: 4, mint: B, owner: OTHER, amount: 9_000n },
      ],
      postTokenBalances: [
        { accountIndex: 2, mint: A, owner: SIGNER, amount: 600n },
        { accountIndex: 3, mint: B, owner: SIGNER, amount: 395n }, // created in the transaction
        { accountIndex: 4, mint: B, owner: OTHER, amount: 8_605n },
      ],
    });
    expect(fillAmounts(r, { signer: SIGNER, inputMint: A, outputMint: B, inAmount: 400n })).toEqual({ amountIn: 400n, amountOut: 395n, realisedPnl: null });
  });

  it('ignores token balances without an owner and sums several accounts of one mint', () => {
    const r = record({
      preTokenBalances: [
        { accountIndex: 2, mint: A, owner: SIGNER, amount: 100n },
        { accountIndex: 3, mint: A, owner: SIGNER, amount: 100n },
        { accountIndex: 5, mint: A, amount: 7n },
      ],
      postTokenBalances: [
        { accountIndex: 2, mint: A, owner: SIGNER, amount: 0n },
        { accountIndex: 3, mint: A, owner: SIGNER, amount: 150n },
        { accountIndex: 5, mint: A, amount: 0n },
      ],
    });
    expect(ownerDelta(r, SIGNER, A)).toBe(-50n);
  });

  it('round trip A → A: pnl is the net change, amountIn the intent’s', () => {
    const r = record({
      preTokenBalances: [{ accountIndex: 2, mint: A, owner: SIGNER, amount: 1_000n }],
      postTokenBalances: [{ accountIndex: 2, mint: A, owner: SIGNER, amount: 1_012n }],
    });
    expect(fillAmounts(r, { signer: SIGNER, inputMint: A, outputMint: A, inAmount: 400n })).toEqual({ amountIn: 400n, amountOut: 412n, realisedPnl: 12n });
  });

  it('round trip losing more than was put in: amountOut 0, amountIn the loss', () => {
    const r = record({
      preTokenBalances: [{ accountIndex: 2, mint: A, owner: SIGNER, amount: 1_000n }],
      postTokenBalances: [{ accountIndex: 2, mint: A, owner: SIGNER, amount: 500n }],
    });
    expect(fillAmounts(r, { signer: SIGNER, inputMint: A, outputMint: A, inAmount: 400n })).toEqual({ amountIn: 500n, amountOut: 0n, realisedPnl: -500n });
  });

  it('SOL: lamports of the signer with the fee added back, plus wrapped SOL it owns', () => {
    const r = record({
      preBalances: [10_000_000n, 0n],
      postBalances: [10_000_000n - 5200n - 1_000_000n + 1_003_000n - 2_039_280n, 0n],
      postTokenBalances: [{ accountIndex: 2, mint: NATIVE_MINT, owner: SIGNER, amount: 0n }],
      preTokenBalances: [],
    });
    // 2 039 280 lamports went into a wSOL account that holds 0 wrapped SOL: rent, a real cost.
    expect(ownerDelta(r, SIGNER, NATIVE_MINT)).toBe(3_000n - 2_039_280n);
    const wrapped = record({
      preBalances: [10_000_000n, 0n],
      postBalances: [10_000_000n - 5200n - 500_000n, 0n],
      preTokenBalances: [{ accountIndex: 2, mint: NATIVE_MINT, owner: SIGNER, amount: 0n }],
      postTokenBalances: [{ accountIndex: 2, mint: NATIVE_MINT, owner: SIGNER, amount: 500_000n }],
    });
    expect(ownerDelta(wrapped, SIGNER, NATIVE_MINT)).toBe(0n); // wrapping is not trading
  });

  it('adds the fee back only when the signer paid it (fee payer = first account)', () => {
    const r = record({ accountKeys: [OTHER, SIGNER], preBalances: [1_000_000n, 1_000n], postBalances: [994_800n, 1_000n] });
    expect(ownerDelta(r, SIGNER, NATIVE_MINT)).toBe(0n);
  });
});
