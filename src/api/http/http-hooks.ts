// Fastify hooks for every request, Nest routes and GraphQL alike: the correlation id header (and
// the log context that puts it on every line of the request), one log line per request,
// api_request_seconds by route pattern (never the raw URL, so label cardinality stays bounded),
// and a 401 for GraphQL requests without a valid key before any query runs (the guard checks each
// resolver too, but would answer 200 with an error).
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import { Metrics } from '../../shared/metrics/metrics.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { principalOf, UNAUTHENTICATED_MESSAGE } from '../auth/principal.js';
import { toErrorResponse } from './errors.js';
import { correlationIdOf } from './request-context.js';
import { withLogContext } from '../../shared/logging/log-context.js';

/** Routes of GraphQL itself (the GraphiQL page and its assets stay public: they hold no data). */
const GRAPHQL_ROUTES = new Set(['/graphql']);

export function routeLabel(req: FastifyRequest): string {
  const url = req.routeOptions?.url;
  return url ? url : 'unmatched';
}

@Injectable()
export class HttpHooks {
  private readonly logger = new Logger('API');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: Metrics,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {
    // In the constructor, not onModuleInit: Nest registers its routes before the init hooks run,
    // and Fastify binds a route's hooks from the context the route was registered in.
    this.install();
  }

  private install(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.addHook !== 'function') return;
    // Callback style, so the rest of the request runs inside the log context: every line logged
    // while it is handled carries its correlation id.
    fastify.addHook('onRequest', (req: FastifyRequest, _reply: FastifyReply, done: () => void) => {
      withLogContext({ correlationId: correlationIdOf(req) }, done);
    });
    fastify.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      reply.header('x-correlation-id', correlationIdOf(req));
      // A WebSocket upgrade (subscriptions) cannot carry headers from a browser: its key comes in
      // connection_init, and the guard checks it on every subscribe.
      const upgrade = String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
      if (GRAPHQL_ROUTES.has(routeLabel(req)) && !upgrade && !(await principalOf(this.sql, req))) {
        reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ errors: [{ message: UNAUTHENTICATED_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } }], data: null });
      }
    });
    // Errors Fastify raises itself (body parsing: malformed JSON, too large, unknown media type)
    // get the same error shape as the rest of the API. Per route (onRoute), not setErrorHandler:
    // Nest sets the instance's handler later, after its routes have taken the default one.
    const errorHandler = (err: Error, req: FastifyRequest, reply: FastifyReply) => {
      const correlationId = correlationIdOf(req);
      const { status, body, unknown } = toErrorResponse(err, correlationId);
      if (unknown) this.logger.error(`${req.method} ${req.url} failed [correlation id ${correlationId}]: ${err?.stack ?? String(err)}`);
      return reply.status(status).send(body);
    };
    fastify.addHook('onRoute', (route) => {
      // GraphQL (mercurius) answers its own errors in GraphQL's shape.
      if (route.url.startsWith('/graphql') || route.url.startsWith('/graphiql')) return;
      route.errorHandler ??= errorHandler;
    });
    fastify.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
      // One line per request: never the query string or a header (keys travel there).
      this.logger.log({ msg: 'request', method: req.method, route: routeLabel(req), path: req.url.split('?')[0]!.slice(0, 200), status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 10) / 10, correlationId: correlationIdOf(req) });
      this.metrics.httpRequestDurationSeconds.observe(
        { method: req.method, route: routeLabel(req), status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  }
}
