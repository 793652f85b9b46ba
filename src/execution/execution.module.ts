// Nest wiring of the execution context: provides the configured venue under VENUE (paper by
// default; VENUE=solana with SOLANA_RPC_URL for a real node), built from its section of the one
// configuration (checked at start).
import { Module } from '@nestjs/common';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import { venueFromConfig } from './execution.config.js';
import { VENUE } from './venue.port.js';

@Module({
  providers: [{ provide: VENUE, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig) => venueFromConfig(c.execution) }],
  exports: [VENUE],
})
export class ExecutionModule {}
