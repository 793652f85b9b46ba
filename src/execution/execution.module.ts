// Nest wiring of the execution context: provides the configured venue under VENUE (paper by
// default; VENUE=solana with SOLANA_RPC_URL for a real node). Bad settings fail at start.
import { Module } from '@nestjs/common';
import { createVenue } from './execution.config.js';
import { VENUE } from './venue.port.js';

@Module({
  providers: [{ provide: VENUE, useFactory: () => createVenue(process.env) }],
  exports: [VENUE],
})
export class ExecutionModule {}
