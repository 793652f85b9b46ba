import { Global, Module } from '@nestjs/common';
import { AdvanceArbitrageHandler, DetectOpportunityHandler } from './arbitrage.handlers.js';
import { ArbitrageSagaService } from './arbitrage-saga.service.js';
import { loadTradingConfig, TRADING_CONFIG } from './trading.config.js';

@Global()
@Module({
  providers: [
    { provide: TRADING_CONFIG, useFactory: () => loadTradingConfig() },
    DetectOpportunityHandler,
    AdvanceArbitrageHandler,
    ArbitrageSagaService,
  ],
  exports: [ArbitrageSagaService, TRADING_CONFIG],
})
export class TradingModule {}
