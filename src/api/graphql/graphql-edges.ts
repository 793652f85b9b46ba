// Fastify hooks around the GraphQL route that GraphQL itself does not provide: the document gate
// (query-limits.ts) before mercurius parses or validates anything, a wall-clock budget per
// request (the client gets a clear error when it runs out instead of waiting on a slow read), and
// a cap on the size of the response body. Installed from the constructor, like HttpHooks, so the
// hooks bind to the mercurius routes registered later.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { GraphQLError } from 'graphql';
import { API_CONFIG } from '../api.tokens.js';
import type { ApiConfig } from '../api.config.js';
import { correlationIdOf } from '../http/request-context.js';
import { checkQueryDocument, QueryLimitError } from './query-limits.js';

const GRAPHQL_PATH = '/graphql';

function errorBody(message: string, code: string, extra: Record<string, unknown> = {}) {
  return { data: null, errors: [{ message, extensions: { code, ...extra } }] };
}

interface GraphqlBody {
  query?: unknown;
  variables?: unknown;
}

/** Every operation in the request (a batch is an array), as sent. */
function operationsOf(req: FastifyRequest): GraphqlBody[] {
  if (req.method === 'GET') {
    const q = (req.query ?? {}) as Record<string, unknown>;
    let variables: unknown = q.variables;
    if (typeof variables === 'string') {
      try {
        variables = JSON.parse(variables);
      } catch {
        variables = undefined; // mercurius reports malformed variables itself
      }
    }
    return [{ query: q.query, variables }];
  }
  const b = req.body as GraphqlBody | GraphqlBody[] | undefined;
  if (Array.isArray(b)) return b;
  return b && typeof b === 'object' ? [b] : [];
}

@Injectable()
export class GraphqlEdges {
  private readonly logger = new Logger('GraphQL');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {
    this.install();
  }

  private install(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || typeof fastify.addHook !== 'function') return;

    fastify.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
      if (req.routeOptions?.url !== GRAPHQL_PATH || reply.sent) return;
      for (const op of operationsOf(req).slice(0, 10)) {
        if (typeof op.query !== 'string') continue;
        try {
          checkQueryDocument(op.query, op.variables);
        } catch (err) {
          if (!(err instanceof QueryLimitError)) continue; // syntax errors: mercurius answers them
          return reply.code(400).send(errorBody(err.message, err.code, { limit: err.limit }));
        }
      }
    });

    const budgetMs = this.config.graphqlTimeBudgetMs;
    fastify.addHook('onRoute', (route) => {
      if (route.url !== GRAPHQL_PATH || typeof route.handler !== 'function') return;
      const original = route.handler as RouteHandlerMethod;
      const logger = this.logger;
      route.handler = function withTimeBudget(this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
        const running = Promise.resolve(original.call(this, req, reply));
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<unknown>((resolve) => {
          timer = setTimeout(() => {
            running.catch((err: unknown) => logger.debug(`GraphQL request [${correlationIdOf(req)}] failed after its budget ran out: ${String(err)}`));
            logger.warn(`GraphQL request [correlation id ${correlationIdOf(req)}] ran out of its ${budgetMs} ms budget`);
            reply.code(503).header('retry-after', '1');
            resolve(
              errorBody(
                `the query took longer than the ${budgetMs} ms budget of one request and was stopped: ask for less (a smaller first, a shorter time range) or retry later`,
                'TIME_BUDGET_EXCEEDED',
                { budgetMs },
              ),
            );
          }, budgetMs);
        });
        return Promise.race([running, timedOut]).finally(() => clearTimeout(timer));
      } as RouteHandlerMethod;
    });

    const maxBytes = this.config.graphqlMaxResponseBytes;
    fastify.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      if (req.routeOptions?.url !== GRAPHQL_PATH) return payload;
      const size = typeof payload === 'string' ? Buffer.byteLength(payload) : Buffer.isBuffer(payload) ? payload.length : 0;
      if (size <= maxBytes) return payload;
      this.logger.warn(`GraphQL response of ${size} bytes refused (limit ${maxBytes}) [correlation id ${correlationIdOf(req)}]`);
      reply.code(413);
      return JSON.stringify(
        errorBody(
          `the response would be ${size} bytes, above the limit of ${maxBytes}: ask for fewer items or fields (page with first/after, or a shorter report range)`,
          'RESPONSE_TOO_LARGE',
          { limit: maxBytes },
        ),
      );
    });
  }
}

/**
 * mercurius' errorFormatter, wrapped: errors GraphQL or a resolver raised on purpose (bad input,
 * limits, refused roles) keep their message; anything else (a database error, a bug) is logged
 * with the correlation id and answered with a message that says what failed without the raw text.
 */
export function safeErrorFormatter(
  defaultFormatter: (execution: { data?: unknown; errors: readonly GraphQLError[] }, ctx: unknown) => { statusCode: number; response: unknown },
  logger: Pick<Logger, 'error'> = new Logger('GraphQL'),
) {
  return (execution: { data?: unknown; errors: readonly GraphQLError[]; statusCode?: number }, ctx: { reply?: { request?: object } }) => {
    const correlationId = ctx?.reply?.request ? correlationIdOf(ctx.reply.request) : 'none';
    const errors = execution.errors.map((e) => {
      if (!isInternal(e)) return e;
      const where = e.path?.length ? `reading ${e.path.join('.')}` : 'running the query';
      logger.error(`GraphQL error ${where} [correlation id ${correlationId}]: ${(e.originalError as Error)?.stack ?? e.message}`);
      return new GraphQLError(`an internal error happened while ${where}; it was logged with correlation id ${correlationId}`, {
        path: e.path,
        nodes: e.nodes,
        extensions: { code: 'INTERNAL_SERVER_ERROR', correlationId },
      });
    });
    return defaultFormatter({ ...execution, errors }, ctx);
  };
}

function isInternal(e: GraphQLError): boolean {
  const orig = e.originalError as (Error & { statusCode?: unknown; status?: unknown; errors?: unknown; code?: unknown }) | undefined;
  if (!orig) return false; // syntax and validation errors
  if (orig instanceof GraphQLError) return false; // raised on purpose (bad input, limits)
  if (Array.isArray(orig.errors)) return false; // mercurius' validation errors
  if (typeof orig.code === 'string' && orig.code.startsWith('MER_ERR_')) return false;
  const status = typeof orig.statusCode === 'number' ? orig.statusCode : typeof (orig as { getStatus?: () => number }).getStatus === 'function' ? (orig as unknown as { getStatus(): number }).getStatus() : null;
  return !(status !== null && status < 500);
}
