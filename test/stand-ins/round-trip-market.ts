// A two-token market on the stand-ins for round trips A → B → A: mints A (9 decimals, 150 USD) and
// B (6 decimals, 1 USD) on the Solana RPC stand-in, the trader's standing token accounts, one pool
// vault per mint delegated to the trader (the Jupiter stand-in's pay-in/payout distortion, see
// jupiter-server.ts), and the Jupiter stand-in told about tokens and pools. Used by the round-trip
// bench and tests; never by src/.
import { Keypair, type PublicKey } from '@solana/web3.js';
import type { JupiterStandIn } from './jupiter-server.js';
import type { SolanaRpcStandIn } from './solana-rpc-server.js';

export interface RoundTripMarket {
  pool: PublicKey;
  mintA: PublicKey;
  mintB: PublicKey;
  traderA: PublicKey;
  traderB: PublicKey;
  vaultA: PublicKey;
  vaultB: PublicKey;
}

export function setUpRoundTripMarket(
  jup: JupiterStandIn,
  rpc: SolanaRpcStandIn,
  trader: PublicKey,
  opts: { lamports?: bigint; traderA?: bigint; vault?: bigint; edgeBps?: number } = {},
): RoundTripMarket {
  const pool = Keypair.generate().publicKey;
  rpc.airdrop(trader, opts.lamports ?? 10_000_000_000n);
  const mintA = rpc.createMint(9);
  const mintB = rpc.createMint(6);
  const traderA = rpc.setTokenAccount({ mint: mintA, owner: trader, amount: opts.traderA ?? 10_000_000_000n });
  const traderB = rpc.setTokenAccount({ mint: mintB, owner: trader, amount: 0n });
  const vaultA = rpc.setTokenAccount({ mint: mintA, owner: pool, amount: opts.vault ?? 1_000_000_000_000n, delegate: trader });
  const vaultB = rpc.setTokenAccount({ mint: mintB, owner: pool, amount: opts.vault ?? 1_000_000_000_000n, delegate: trader });
  jup.setToken(mintA.toBase58(), { decimals: 9, usd8: 15_000_000_000n });
  jup.setToken(mintB.toBase58(), { decimals: 6, usd8: 100_000_000n });
  jup.setPool(mintA.toBase58(), vaultA.toBase58());
  jup.setPool(mintB.toBase58(), vaultB.toBase58());
  jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), opts.edgeBps ?? 100);
  return { pool, mintA, mintB, traderA, traderB, vaultA, vaultB };
}
