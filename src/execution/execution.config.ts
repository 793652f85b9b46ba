// Configuration of the execution context (its section of the one configuration,
// src/config/config.ts: VENUE, SOLANA_*, PAPER_* in README), and the factory that builds the
// configured venue.
import { PublicKey } from '@solana/web3.js';
import type { ExecutionSettings } from '../config/config.js';
import { PaperVenue } from './paper/paper-venue.js';
import { SolanaVenue } from './solana/solana-venue.js';
import type { Venue } from './venue.port.js';

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
