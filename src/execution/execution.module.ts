// Nest wiring of the execution context: provides the configured venue under VENUE (paper by
// default; VENUE=solana with SOLANA_RPC_URL for a real node), built from its section of the one
// configuration (checked at start); and the wallet-balances reader reconciliation compares the
// ledger with (WALLET_BALANCES: the Solana node, or paper's "no chain").
import { Module } from '@nestjs/common';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import { venueFromConfig, walletBalancesFor } from './execution.config.js';
import { WALLET_BALANCES } from './wallet-balances.port.js';
import { VENUE, type Venue } from './venue.port.js';

@Module({
  providers: [
    { provide: VENUE, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig) => venueFromConfig(c.execution) },
    { provide: WALLET_BALANCES, inject: [VENUE], useFactory: (venue: Venue) => walletBalancesFor(venue) },
  ],
  exports: [VENUE, WALLET_BALANCES],
})
export class ExecutionModule {}
