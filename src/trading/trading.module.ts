// The trading context's wiring: the saga's command handlers, the engine loop and the balance
// reconciliation that runs beside it (reconciliation.service.ts). It imports the
// contexts whose ports the saga drives (market, risk, compliance, signing, execution); the
// open-saga index (an adapter over a read model) is handed in by the composition root.
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ComplianceModule } from '../compliance/compliance.module.js';
import { ExecutionModule } from '../execution/execution.module.js';
import { MarketModule } from '../market/market.module.js';
import { RiskModule } from '../risk/risk.module.js';
import { SigningModule } from '../signing/signing.module.js';
import { AdvanceArbitrageHandler, DetectOpportunityHandler } from './arbitrage.handlers.js';
import { FlattenInventoryHandler } from './flatten.handler.js';
import { KnownSagas } from './known-sagas.js';
import { ArbitrageSagaService } from './arbitrage-saga.service.js';
import { ReconciliationService } from './reconciliation.service.js';
import { ARBITER_CONFIG } from '../config/config.module.js';
import type { ArbiterConfig } from '../config/config.js';
import { TRADING_CONFIG } from './trading.config.js';

@Module({})
export class TradingModule {
  /** `openSagas` provides OPEN_SAGAS (open-sagas.port.ts). */
  static register(adapters: { openSagas: Provider }): DynamicModule {
    return {
      module: TradingModule,
      imports: [MarketModule, RiskModule, ComplianceModule, SigningModule, ExecutionModule],
      providers: [
        { provide: TRADING_CONFIG, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig) => c.trading },
        adapters.openSagas,
        KnownSagas,
        DetectOpportunityHandler,
        AdvanceArbitrageHandler,
        FlattenInventoryHandler,
        ArbitrageSagaService,
        ReconciliationService,
      ],
      exports: [ArbitrageSagaService, ReconciliationService],
    };
  }
}
