// The sandbox: Arbiter's live path (MARKET=live VENUE=solana) against local STAND-INS, never
// mainnet. It starts the Pyth Hermes, Jupiter and Solana RPC stand-ins of test/stand-ins on
// 127.0.0.1 and sets up a small world in litesvm, the in-process Solana VM behind the RPC
// stand-in:
// - SPL Token mints at the mainnet addresses of SOL, USDC and USDT (SOL as a plain SPL mint at the
//   wrapped-SOL address: the trader holds a standing token account of it, as
//   `wrapAndUnwrapSol=false` needs; the native-mint lamport semantics are not modelled);
// - a trader whose key lives in an encrypted keystore, with lamports for fees and a token account
//   of each mint;
// - one pool vault per mint, delegated to the trader, which the Jupiter stand-in's "swaps" move
//   tokens out of (see the distortion in test/stand-ins/jupiter-server.ts);
// - prices: Hermes publishes SOL $150, USDC and USDT $1 every second; the Jupiter stand-in quotes
//   at those prices with a dislocation, SOL sells `edgeBps` rich for USDC, so SOL → USDC → SOL and
//   USDC → SOL → USDC round trips pay and SOL → USDT → SOL does not (risk or the guard refuses it).
// The engine is then a real Arbiter process pointed at these URLs (test/sandbox/main.ts), or an
// app in a test (test/e2e/sandbox.test.ts). Every transaction is a real signed v0 transaction
// that litesvm executes; what only mainnet can show is listed in README ("The sandbox").
import { Keypair, PublicKey } from '@solana/web3.js';
import { join } from 'node:path';
import { SOL, USDC, USDT, type TokenInfo } from '../../src/shared/tokens.js';
import { createKeystore } from '../../src/signing/keystore/keystore-signer.js';
import { startHermesStandIn, type HermesStandIn } from '../stand-ins/hermes-server.js';
import { startJupiterStandIn, type JupiterStandIn } from '../stand-ins/jupiter-server.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../stand-ins/solana-rpc-server.js';

/** USD prices, 8 decimals. */
const PRICES_USD8: ReadonlyMap<TokenInfo, bigint> = new Map([
  [SOL, 15_000_000_000n],
  [USDC, 100_000_000n],
  [USDT, 100_000_000n],
]);

export interface SandboxOptions {
  /** Where the keystore goes (the engine's ARBITER_DATA_DIR is the caller's). */
  dir: string;
  /** How rich SOL sells for USDC at the Jupiter stand-in, in bps. Default 60. */
  edgeBps?: number;
  /** Token balances the trader starts with, in base units. */
  startingBalances?: Partial<Record<'SOL' | 'USDC' | 'USDT', bigint>>;
}

export interface SandboxHolding {
  symbol: string;
  mint: string;
  account: string;
  amount: bigint;
}

export interface Sandbox {
  hermes: HermesStandIn;
  jupiter: JupiterStandIn;
  rpc: SolanaRpcStandIn;
  trader: PublicKey;
  /** The settings that point an engine at the stand-ins (merge with the caller's own). */
  env: Record<string, string>;
  /** The trader's token accounts as litesvm holds them now. */
  holdings(): SandboxHolding[];
  /** The trader's lamports (what fees are paid from). */
  lamports(): bigint;
  close(): Promise<void>;
}

export const SANDBOX_PASSPHRASE = 'sandbox passphrase (stand-ins only)';

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const [hermes, jupiter, rpc] = await Promise.all([startHermesStandIn(), startJupiterStandIn(), startSolanaRpcStandIn()]);
  const keystorePath = join(opts.dir, 'sandbox-keystore.json');
  const { publicKey } = await createKeystore(keystorePath, SANDBOX_PASSPHRASE, { scryptN: 1024 });
  const trader = new PublicKey(publicKey);
  const pool = Keypair.generate().publicKey;
  const starting = { SOL: 100_000_000_000n, USDC: 100_000_000_000n, USDT: 100_000_000_000n, ...opts.startingBalances };

  rpc.airdrop(trader, 1_000_000_000_000n);
  const accounts: { token: TokenInfo; account: PublicKey }[] = [];
  for (const [token, usd8] of PRICES_USD8) {
    const mint = rpc.createMint(token.decimals, new PublicKey(token.mint));
    accounts.push({ token, account: rpc.setTokenAccount({ mint, owner: trader, amount: starting[token.symbol as keyof typeof starting] }) });
    const vault = rpc.setTokenAccount({ mint, owner: pool, amount: 10n ** BigInt(token.decimals + 9), delegate: trader });
    jupiter.setToken(token.mint, { decimals: token.decimals, usd8 });
    jupiter.setPool(token.mint, vault.toBase58());
  }
  jupiter.setEdgeBps(SOL.mint, USDC.mint, opts.edgeBps ?? 60);

  // Hermes publishes fresh prices every second, as Pyth does (the risk check refuses stale ones).
  const publish = () => {
    const publishTime = Math.floor(Date.now() / 1000);
    for (const [token, usd8] of PRICES_USD8) {
      hermes.setPrice(token.pythFeedId, { price: usd8.toString(), conf: (usd8 / 10_000n).toString(), expo: -8, publishTime });
    }
    hermes.push();
  };
  publish();
  const ticker = setInterval(publish, 1_000);
  ticker.unref();

  return {
    hermes,
    jupiter,
    rpc,
    trader,
    env: {
      MARKET: 'live',
      VENUE: 'solana',
      HERMES_URL: hermes.url,
      JUPITER_URL: jupiter.url,
      SOLANA_RPC_URL: rpc.url,
      SIGNER: 'keystore',
      KEYSTORE_PATH: keystorePath,
      KEYSTORE_PASSPHRASE: SANDBOX_PASSPHRASE,
    },
    holdings: () => accounts.map(({ token, account }) => ({ symbol: token.symbol, mint: token.mint, account: account.toBase58(), amount: rpc.tokenAmount(account) })),
    lamports: () => rpc.lamports(trader),
    async close() {
      clearInterval(ticker);
      await Promise.all([hermes.close(), jupiter.close(), rpc.close()]);
    },
  };
}
