// The market a round-trip test trades in, on the stand-ins: two mints (A 9 decimals at 150 USD,
// B 6 decimals at 1 USD) in the RPC stand-in (litesvm), the trader's standing token accounts of
// both, and one pool vault per mint delegated to the trader, registered with the Jupiter
// stand-in (whose "swap" is the DISTORTION described in test/stand-ins/jupiter-server.ts).
import { Keypair, type PublicKey } from '@solana/web3.js';
import type { JupiterStandIn } from '../stand-ins/jupiter-server.js';
import type { SolanaRpcStandIn } from '../stand-ins/solana-rpc-server.js';

export interface RoundTripPools {
  /** Owner of the vaults (the pool). */
  pool: PublicKey;
  mintA: PublicKey;
  mintB: PublicKey;
  traderA: PublicKey;
  traderB: PublicKey;
  vaultA: PublicKey;
  vaultB: PublicKey;
}

export const POOL_VAULT_BASE_UNITS = 1_000_000_000_000n;

export function setUpRoundTripPools(rpc: SolanaRpcStandIn, jup: JupiterStandIn, trader: PublicKey, traderABaseUnits = 10_000_000_000n): RoundTripPools {
  const pool = Keypair.generate().publicKey;
  rpc.airdrop(trader, 10_000_000_000n);
  const mintA = rpc.createMint(9);
  const mintB = rpc.createMint(6);
  const traderA = rpc.setTokenAccount({ mint: mintA, owner: trader, amount: traderABaseUnits });
  const traderB = rpc.setTokenAccount({ mint: mintB, owner: trader, amount: 0n });
  const vaultA = rpc.setTokenAccount({ mint: mintA, owner: pool, amount: POOL_VAULT_BASE_UNITS, delegate: trader });
  const vaultB = rpc.setTokenAccount({ mint: mintB, owner: pool, amount: POOL_VAULT_BASE_UNITS, delegate: trader });
  jup.setToken(mintA.toBase58(), { decimals: 9, usd8: 15_000_000_000n });
  jup.setToken(mintB.toBase58(), { decimals: 6, usd8: 100_000_000n });
  jup.setPool(mintA.toBase58(), vaultA.toBase58());
  jup.setPool(mintB.toBase58(), vaultB.toBase58());
  return { pool, mintA, mintB, traderA, traderB, vaultA, vaultB };
}
