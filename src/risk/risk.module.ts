// The risk context's wiring: the trading state that follows the log (the EngineStateView port the
// saga reads) and the operator commands on the engine stream.
import { Module } from '@nestjs/common';
import { baseRiskLimitsProvider, engineCommandHandlers } from './commands/engine-commands.js';
import { ENGINE_STATE } from './engine-state.port.js';
import { EngineStateService } from './engine-state.service.js';

@Module({
  providers: [EngineStateService, { provide: ENGINE_STATE, useExisting: EngineStateService }, baseRiskLimitsProvider, ...engineCommandHandlers],
  exports: [ENGINE_STATE],
})
export class RiskModule {}
