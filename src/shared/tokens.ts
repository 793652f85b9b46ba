// Foundation data: tokens the engine knows by default: real mainnet mint addresses, decimals and the Pyth feed
// that prices each in USD. The simulated market and the live opportunity scanner both use them.

export interface TokenInfo {
  symbol: string;
  mint: string;
  decimals: number;
  /** Pyth price feed id (64 hex digits, no 0x) of TOKEN/USD. */
  pythFeedId: string;
}

export const SOL: TokenInfo = {
  symbol: 'SOL',
  mint: 'So11111111111111111111111111111111111111112',
  decimals: 9,
  pythFeedId: 'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d',
};

export const USDC: TokenInfo = {
  symbol: 'USDC',
  mint: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v',
  decimals: 6,
  pythFeedId: 'eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a',
};

export const USDT: TokenInfo = {
  symbol: 'USDT',
  mint: 'Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB',
  decimals: 6,
  pythFeedId: '2b89b9dc8fdf9f34709a5b106b472f0f39bb6ca9ce04b0fd7f2e971688e2e53b',
};

export const KNOWN_TOKENS: readonly TokenInfo[] = [SOL, USDC, USDT];

/** A round trip starts and ends in `a`; `amountIn` bounds are base units of `a`. */
export interface TradingPair {
  a: TokenInfo;
  b: TokenInfo;
  minAmountIn: bigint;
  maxAmountIn: bigint;
}

export const DEFAULT_PAIRS: readonly TradingPair[] = [
  { a: SOL, b: USDC, minAmountIn: 500_000_000n, maxAmountIn: 5_000_000_000n }, // 0.5–5 SOL
  { a: USDC, b: SOL, minAmountIn: 100_000_000n, maxAmountIn: 1_000_000_000n }, // 100–1000 USDC
  { a: SOL, b: USDT, minAmountIn: 500_000_000n, maxAmountIn: 5_000_000_000n },
];

export function tokenByMint(mint: string, tokens: readonly TokenInfo[] = KNOWN_TOKENS): TokenInfo | undefined {
  return tokens.find((t) => t.mint === mint);
}

/** Feed ids are compared without 0x and in lower case: Hermes answers with bare hex. */
export function normaliseFeedId(id: string): string {
  return id.trim().toLowerCase().replace(/^0x/, '');
}

export const FEED_ID_RE = /^(0x)?[0-9a-fA-F]{64}$/;
