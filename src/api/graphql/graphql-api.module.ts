// GraphQL (code-first, mercurius on Fastify) at /graphql: the ledger, the read models and the
// regulatory reports. Every operation is bounded before it runs: a depth limit (mercurius
// `queryDepth`) and a cost limit (complexity.ts, a validation rule with list multipliers).
// Subscriptions run over WebSocket on the same path.
import { Module } from '@nestjs/common';
import { loadNotificationsConfig, NOTIFICATIONS_CONFIG } from '../../notifications/notifications.config.js';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { complexityLimitRule, MAX_QUERY_COMPLEXITY, MAX_QUERY_DEPTH } from './complexity.js';
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
    GraphQLModule.forRoot<MercuriusDriverConfig>({
      driver: MercuriusDriver,
      autoSchemaFile: true,
      sortSchema: true,
      graphiql: true,
      path: '/graphql',
      queryDepth: MAX_QUERY_DEPTH,
      validationRules: [complexityLimitRule(MAX_QUERY_COMPLEXITY)],
      // WebSocket subscriptions (subscriptions.resolver.ts); the key rides in connection_init.
      subscription: { keepAlive: 15_000 },
    }),
  ],
  providers: [{ provide: NOTIFICATIONS_CONFIG, useFactory: () => loadNotificationsConfig() }, LedgerResolver, ReadModelsResolver, EngineStatusResolver, ReportsResolver, WebhooksResolver, ConsoleResolver, SubscriptionsResolver, LiveFeed],
})
export class GraphqlApiModule {}
