// The wallet-balances port: what the chain says the trading wallet holds, for reconciling the
// ledger's balances with it (trading's ReconciliationService; the decision is ./decisions.ts).
// Adapters: solana/ (getBalance + getTokenAccountsByOwner over SPL Token and Token-2022 through
// @solana/web3.js 1.x) and paper/ (the offline default: the paper venue moves no balance on any
// chain, so it answers "no chain" and nothing is reconciled; docs/decisions/0018).

export const WALLET_BALANCES = Symbol('WALLET_BALANCES');

/** The chain's figures for one owner, read at (or after) `slot`. Amounts are base units. */
export interface ChainBalances {
  kind: 'balances';
  /** The slot of the first read; the later reads asked for at least this slot (minContextSlot). */
  slot: bigint;
  /** The owner's own lamports (getBalance). */
  lamports: bigint;
  /** Per mint, the amounts summed over every token account the owner holds of it (wrapped SOL included). */
  tokens: ReadonlyMap<string, bigint>;
  /** How many token accounts were summed. */
  tokenAccounts: number;
}

/** This venue has no chain to read (paper): there is nothing to reconcile, and the reason says why. */
export interface NoChain {
  kind: 'no_chain';
  reason: string;
}

export interface WalletBalances {
  /** Reads the balances of `owner` (base58). Rejects with VenueError when the node cannot be asked or answers nonsense. */
  read(owner: string): Promise<ChainBalances | NoChain>;
}
