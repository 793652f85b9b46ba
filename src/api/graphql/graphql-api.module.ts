// GraphQL (code-first, mercurius on Fastify) at /graphql: the ledger, the read models and the
// regulatory reports. Every operation is bounded before it runs: a document gate (query-limits.ts:
// size, tokens, depth, aliases, fragment spreads, expanded fields, introspection roots) ahead of
// mercurius, then a depth limit (mercurius `queryDepth`) and a cost limit (complexity.ts) in
// validation; while it runs, a time budget; when it answers, a size cap (graphql-edges.ts).
// Internal errors reach the client without their raw text. GraphiQL is served by the app itself
// (graphiql.controller.ts), so mercurius' CDN-loading page is off. Subscriptions run over
// WebSocket on the same path.
import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { NOTIFICATIONS_CONFIG } from '../../notifications/notifications.config.js';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { PointInTimeModule } from '../../audit/point-in-time.module.js';
import { AuditResolver } from './audit.resolver.js';
import mercurius from 'mercurius';
import { API_CONFIG, GRAPHQL_PATH, GRAPHQL_SQL } from '../api.tokens.js';
import type { ApiConfig } from '../api.config.js';
import type { ArbiterConfig } from '../../config/config.js';
import { ARBITER_CONFIG } from '../../config/config.module.js';
import { SQL_CLIENT, type SqlClient } from '../../shared/sql/sql-client.js';
import { PgSqlClient } from '../../shared/sql/pg-client.js';
import { complexityLimitRule, MAX_QUERY_COMPLEXITY, MAX_QUERY_DEPTH } from './complexity.js';
import { GraphiqlController } from './graphiql.controller.js';
import { GraphqlEdges, safeErrorFormatter } from './graphql-edges.js';
import { LedgerResolver } from './ledger.resolver.js';
import { EngineStatusResolver, ReadModelsResolver } from './read-models.resolver.js';
import { ReportsResolver } from './reports.resolver.js';
import { ProjectionsModule } from '../../projections/projections.module.js';
import { ConsoleResolver } from './console.resolver.js';
import { LiveFeed } from './live-feed.js';
import { SubscriptionsResolver } from './subscriptions.resolver.js';
import { WebhooksResolver } from './webhooks.resolver.js';

@Module({
  imports: [
    ProjectionsModule,
    PointInTimeModule,
    GraphQLModule.forRootAsync<MercuriusDriverConfig>({
      driver: MercuriusDriver,
      useFactory: () => ({
        autoSchemaFile: true,
        sortSchema: true,
        graphiql: false,
        path: GRAPHQL_PATH,
        queryDepth: MAX_QUERY_DEPTH,
        validationRules: [complexityLimitRule(MAX_QUERY_COMPLEXITY)],
        // WebSocket subscriptions (subscriptions.resolver.ts); the key rides in connection_init.
        subscription: { keepAlive: 15_000 },
        errorFormatter: safeErrorFormatter(mercurius.defaultErrorFormatter as never, new Logger('GraphQL')) as never,
      }),
    }),
  ],
  controllers: [GraphiqlController],
  providers: [
    AuditResolver,
    { provide: API_CONFIG, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig) => c.api },
    {
      provide: GRAPHQL_SQL,
      inject: [SQL_CLIENT, ARBITER_CONFIG, API_CONFIG],
      useFactory: (sql: SqlClient, config: ArbiterConfig, api: ApiConfig): SqlClient =>
        sql.kind === 'postgres' && config.databaseUrl
          ? new PgSqlClient(config.databaseUrl, {
              max: 4,
              applicationName: 'arbiter-graphql',
              connectTimeoutMs: config.database.connectTimeoutMs,
              queryTimeoutMs: api.graphqlTimeBudgetMs + 5000,
              statementTimeoutMs: api.graphqlTimeBudgetMs,
            })
          : sql,
    },
    GraphqlEdges,
    LedgerResolver,
    ReadModelsResolver,
    EngineStatusResolver,
    ReportsResolver,
    { provide: NOTIFICATIONS_CONFIG, inject: [ARBITER_CONFIG], useFactory: (c: ArbiterConfig) => c.notifications },
    WebhooksResolver,
    ConsoleResolver,
    SubscriptionsResolver,
    LiveFeed,
  ],
})
export class GraphqlApiModule implements OnApplicationShutdown {
  constructor(
    @Inject(GRAPHQL_SQL) private readonly readSql: SqlClient,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.readSql !== this.sql) await this.readSql.close();
  }
}
