// What a confirmed transaction actually did to the signer, read from the balances the chain
// recorded around it (meta.pre/postBalances, meta.pre/postTokenBalances). A pure function so
// the rules are tested without a chain.
//
// Rules:
// - A mint's change for the signer is the sum, over every token account the signer OWNS of that
//   mint, of post − pre (an account missing on one side counts 0: created or closed in the
//   transaction). Token balances without an owner cannot be attributed and are ignored.
// - For wrapped SOL (NATIVE_MINT) the signer's lamport change is added, with the network fee
//   added back: routes wrap and unwrap SOL inside the transaction, and the fee is reported on
//   its own, never mixed into the trade amounts.
// - Round trip (inputMint = outputMint, the arbitrage case A → … → A): the chain only shows the
//   net change d. We take amountIn = the intent's inAmount and amountOut = inAmount + d, so
//   realisedPnl = amountOut − amountIn = d, gross of the network fee. (If d < −inAmount the
//   signer lost more than it put in: amountOut = 0 and amountIn = −d.)
// - Different mints: amountIn = what the input mint went down by, amountOut = what the output
//   mint went up by (each floored at 0), and there is no PnL in one unit (null).
import { NATIVE_MINT } from './transaction.js';

export interface TokenBalance {
  accountIndex: number;
  mint: string;
  owner?: string;
  /** Base units. */
  amount: bigint;
}

export interface BalanceRecord {
  /** Every account of the transaction in order: static keys, then loaded writable, then loaded readonly. */
  accountKeys: string[];
  preBalances: bigint[];
  postBalances: bigint[];
  preTokenBalances: TokenBalance[];
  postTokenBalances: TokenBalance[];
  fee: bigint;
}

export interface FillAmounts {
  amountIn: bigint;
  amountOut: bigint;
  realisedPnl: bigint | null;
}

/** Net change of `mint` for `owner` in base units (lamports for NATIVE_MINT, fee excluded). */
export function ownerDelta(record: BalanceRecord, owner: string, mint: string): bigint {
  const sum = (list: TokenBalance[]) =>
    list.filter((b) => b.owner === owner && b.mint === mint).reduce((acc, b) => acc + b.amount, 0n);
  let delta = sum(record.postTokenBalances) - sum(record.preTokenBalances);
  if (mint === NATIVE_MINT) {
    const i = record.accountKeys.indexOf(owner);
    if (i >= 0) {
      const pre = record.preBalances[i] ?? 0n;
      const post = record.postBalances[i] ?? 0n;
      // The fee payer (index 0) paid the fee; put it back so the trade shows the trade only.
      delta += post - pre + (i === 0 ? record.fee : 0n);
    }
  }
  return delta;
}

export function fillAmounts(
  record: BalanceRecord,
  trade: { signer: string; inputMint: string; outputMint: string; inAmount: bigint },
): FillAmounts {
  const dIn = ownerDelta(record, trade.signer, trade.inputMint);
  if (trade.inputMint === trade.outputMint) {
    const amountOut = trade.inAmount + dIn > 0n ? trade.inAmount + dIn : 0n;
    return { amountIn: amountOut - dIn, amountOut, realisedPnl: dIn };
  }
  const dOut = ownerDelta(record, trade.signer, trade.outputMint);
  return { amountIn: dIn < 0n ? -dIn : 0n, amountOut: dOut > 0n ? dOut : 0n, realisedPnl: null };
}
