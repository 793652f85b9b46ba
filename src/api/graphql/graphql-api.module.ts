// GraphQL (code-first, mercurius on Fastify) at /graphql: the ledger and the read models.
import { Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { LedgerResolver } from './ledger.resolver.js';

@Module({
  imports: [
    GraphQLModule.forRoot<MercuriusDriverConfig>({
      driver: MercuriusDriver,
      autoSchemaFile: true,
      sortSchema: true,
      graphiql: true,
      path: '/graphql',
    }),
  ],
  providers: [LedgerResolver],
})
export class GraphqlApiModule {}
