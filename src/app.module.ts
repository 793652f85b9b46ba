// Wires the bounded contexts together; no logic here.
import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ConfigModule } from './config/config.module.js';
import { LedgerModule } from './ledger/ledger.module.js';
import { ProjectionsModule } from './projections/projections.module.js';
import { GraphqlApiModule } from './api/graphql/graphql-api.module.js';
import { SystemController } from './api/http/system.controller.js';
import { ApiModule } from './api/api.module.js';
import { ComplianceModule } from './compliance/compliance.module.js';
import { ExecutionModule } from './execution/execution.module.js';
import { MarketModule } from './market/market.module.js';
import { RiskModule } from './risk/risk.module.js';
import { SigningModule } from './signing/signing.module.js';
import { TradingModule } from './trading/trading.module.js';

@Module({
  imports: [
    ConfigModule,
    LedgerModule,
    CqrsModule.forRoot(),
    ProjectionsModule,
    MarketModule,
    RiskModule,
    ComplianceModule,
    SigningModule,
    ExecutionModule,
    TradingModule,
    GraphqlApiModule,
    ApiModule,
  ],
  controllers: [SystemController],
})
export class AppModule {}
