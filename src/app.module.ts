// Wires the bounded contexts together; no logic here.
import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { ConfigModule } from './config/config.module.js';
import { LedgerModule } from './ledger/ledger.module.js';
import { ProjectionsModule } from './projections/projections.module.js';
import { LedgerResolver } from './api/graphql/ledger.resolver.js';
import { SystemController } from './api/http/system.controller.js';

@Module({
  imports: [
    ConfigModule,
    LedgerModule,
    CqrsModule.forRoot(),
    ProjectionsModule,
    GraphQLModule.forRoot<MercuriusDriverConfig>({
      driver: MercuriusDriver,
      autoSchemaFile: true,
      sortSchema: true,
      graphiql: true,
      path: '/graphql',
    }),
  ],
  controllers: [SystemController],
  providers: [LedgerResolver],
})
export class AppModule {}
