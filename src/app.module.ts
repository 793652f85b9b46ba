// Wires the bounded contexts together; no logic here.
import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ConfigModule } from './config/config.module.js';
import { LedgerModule } from './ledger/ledger.module.js';
import { ProjectionsModule } from './projections/projections.module.js';
import { GraphqlApiModule } from './api/graphql/graphql-api.module.js';
import { SystemController } from './api/http/system.controller.js';

@Module({
  imports: [
    ConfigModule,
    LedgerModule,
    CqrsModule.forRoot(),
    ProjectionsModule,
    GraphqlApiModule,
  ],
  controllers: [SystemController],
})
export class AppModule {}
