// The integer arithmetic that turns quotes and oracle prices into risk and compliance inputs.
import { describe, expect, it } from 'vitest';
import { impliedPrice, lamportsIn, priorityFeeLamports, usdMicros } from '../../../src/trading/saga-inputs.js';

describe('saga inputs', () => {
  it('values an amount in USD micro-units from a Pyth price, rounding down', () => {
    // 2.5 SOL at $150.12345678 (expo −8) = $375.30864195 → 375_308_641 micros
    expect(usdMicros(2_500_000_000n, 9, { price: 15_012_345_678n, expo: -8 })).toBe(375_308_641n);
    // 100 USDC at $0.99990000
    expect(usdMicros(100_000_000n, 6, { price: 99_990_000n, expo: -8 })).toBe(99_990_000n);
    // a positive exponent multiplies
    expect(usdMicros(1n, 0, { price: 3n, expo: 2 })).toBe(300_000_000n);
  });

  it('derives the USD price of A implied by a quote leg A → B', () => {
    // 1 SOL → 150.5 USDC at USDC = $1.00000000 → SOL = $150.50000000
    const p = impliedPrice({ inAmount: 1_000_000_000n, outAmount: 150_500_000n }, 9, 6, { price: 100_000_000n, expo: -8 });
    expect(p).toEqual({ price: 15_050_000_000n, expo: -8 });
    // 100 USDC → 0.66 SOL at SOL = $150 (expo −6) → USDC = $0.99
    const q = impliedPrice({ inAmount: 100_000_000n, outAmount: 660_000_000n }, 6, 9, { price: 150_000_000n, expo: -6 });
    expect(q).toEqual({ price: 99_000_000n, expo: -8 });
  });

  it('converts lamport fees into another token, rounding up', () => {
    // 5200 lamports at SOL $150 = $0.00078 = 780 USDC base units at $1
    expect(lamportsIn(5_200n, { price: 15_000_000_000n, expo: -8 }, { decimals: 6, price: { price: 100_000_000n, expo: -8 } })).toBe(780n);
    // rounding up: 1 lamport is a fraction of a USDC base unit
    expect(lamportsIn(1n, { price: 15_000_000_000n, expo: -8 }, { decimals: 6, price: { price: 100_000_000n, expo: -8 } })).toBe(1n);
    expect(() => lamportsIn(1n, { price: 1n, expo: 0 }, { decimals: 6, price: { price: 0n, expo: -8 } })).toThrow(/positive/);
  });

  it('prices the priority fee from micro-lamports per compute unit, rounding up', () => {
    expect(priorityFeeLamports(1_000n, 200_000n)).toBe(200n);
    expect(priorityFeeLamports(1n, 1n)).toBe(1n);
    expect(priorityFeeLamports(0n, 200_000n)).toBe(0n);
  });
});
