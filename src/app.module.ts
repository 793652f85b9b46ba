// The composition root: wires the bounded contexts together and hands each the adapters that live
// elsewhere (the event catalog to the ledger, the open-saga index to trading); no logic here.
import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ConfigModule } from './config/config.module.js';
import { eventCatalog } from './event-catalog.js';
import { LedgerModule } from './ledger/ledger.module.js';
import { AuditModule } from './audit/audit.module.js';
import { ProjectionsModule } from './projections/projections.module.js';
import { ExecutionsOpenSagaIndex } from './projections/open-sagas.js';
import { GraphqlApiModule } from './api/graphql/graphql-api.module.js';
import { SystemController } from './api/http/system.controller.js';
import { ApiModule } from './api/api.module.js';
import { ComplianceModule } from './compliance/compliance.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { RiskModule } from './risk/risk.module.js';
import { SQL_CLIENT, type SqlClient } from './shared/sql/sql-client.js';
import { OPEN_SAGAS } from './trading/open-sagas.port.js';
import { TradingModule } from './trading/trading.module.js';

@Module({
  imports: [
    ConfigModule,
    LedgerModule.forRoot(eventCatalog),
    CqrsModule.forRoot(),
    ProjectionsModule,
    RiskModule,
    ComplianceModule,
    TradingModule.register({
      openSagas: { provide: OPEN_SAGAS, inject: [SQL_CLIENT], useFactory: (sql: SqlClient) => new ExecutionsOpenSagaIndex(sql) },
    }),
    AuditModule,
    NotificationsModule,
    GraphqlApiModule,
    ApiModule,
  ],
  controllers: [SystemController],
})
export class AppModule {}
