// Configuration of the execution context (its section of the one configuration,
// src/config/config.ts: VENUE, SOLANA_*, PAPER_*, RECONCILE_* in README), and the factories that
// build the configured venue and the wallet-balances reader beside it.
import { PublicKey } from '@solana/web3.js';
import type { ExecutionSettings } from '../config/config.js';
import { PaperVenue } from './paper/paper-venue.js';
import { SolanaVenue } from './solana/solana-venue.js';
import type { Venue } from './venue.port.js';
import { PaperWalletBalances } from './paper/paper-wallet-balances.js';
import { SolanaWalletBalances } from './solana/solana-wallet-balances.js';
import type { WalletBalances } from './wallet-balances.port.js';

export type ExecutionConfig = ExecutionSettings;

export function venueFromConfig(config: ExecutionConfig): Venue {
  if (config.venue === 'solana') {
    return new SolanaVenue({
      rpcUrl: config.solana.rpcUrl!,
      priorityFeeMicroLamports: config.solana.priorityFeeMicroLamports,
      computeUnitLimit: config.solana.computeUnitLimit,
      settlementAddress: config.solana.settlementAddress ? new PublicKey(config.solana.settlementAddress) : undefined,
      rpcTimeoutMs: config.solana.rpcTimeoutMs,
      pollIntervalMs: config.solana.confirmPollMs,
      computeUnitMarginPct: config.solana.computeUnitMarginPct,
      lookupTableTtlMs: config.solana.lookupTableTtlMs,
    });
  }
  return new PaperVenue({
    seed: config.paper.seed,
    maxSlippageBps: config.paper.maxSlippageBps,
    leg1SurplusBps: config.paper.leg1SurplusBps,
    priorityFeeMicroLamports: config.solana.priorityFeeMicroLamports,
    computeUnitLimit: config.solana.computeUnitLimit,
  });
}

/** The chain's balances of the trading wallet, for reconciliation: read over the venue's own connection (paper has no chain). */
export function walletBalancesFor(venue: Venue): WalletBalances {
  return venue instanceof SolanaVenue ? new SolanaWalletBalances(venue.connection) : new PaperWalletBalances();
}
