import { Global, Module } from '@nestjs/common';
import { EngineStateService } from './engine-state.service.js';

@Global()
@Module({ providers: [EngineStateService], exports: [EngineStateService] })
export class RiskModule {}
