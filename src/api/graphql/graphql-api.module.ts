// GraphQL (code-first, mercurius on Fastify) at /graphql: the ledger, the read models and the
// regulatory reports. Every operation is bounded before it runs: a depth limit (mercurius
// `queryDepth`) and a cost limit (complexity.ts, a validation rule with list multipliers).
import { Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { AuditModule } from '../../audit/audit.module.js';
import { AuditResolver } from './audit.resolver.js';
import { complexityLimitRule, MAX_QUERY_COMPLEXITY, MAX_QUERY_DEPTH } from './complexity.js';
import { LedgerResolver } from './ledger.resolver.js';
import { EngineStatusResolver, ReadModelsResolver } from './read-models.resolver.js';
import { ReportsResolver } from './reports.resolver.js';
import { ProjectionsModule } from '../../projections/projections.module.js';

@Module({
  imports: [
    ProjectionsModule,
    AuditModule,
    GraphQLModule.forRoot<MercuriusDriverConfig>({
      driver: MercuriusDriver,
      autoSchemaFile: true,
      sortSchema: true,
      graphiql: true,
      path: '/graphql',
      queryDepth: MAX_QUERY_DEPTH,
      validationRules: [complexityLimitRule(MAX_QUERY_COMPLEXITY)],
    }),
  ],
  providers: [AuditResolver, LedgerResolver, ReadModelsResolver, EngineStatusResolver, ReportsResolver],
})
export class GraphqlApiModule {}
