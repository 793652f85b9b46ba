// The first thing every request meets, before any route: the rate limit (@fastify/rate-limit;
// per API key for requests with a valid key, per client address for the rest; a shared Redis
// store when REDIS_URL is set, in memory otherwise), 429 with Retry-After past it; a log line and
// a metric for every presented key that fails authentication (its key id and the address, never
// the secret); and the bearer token of /metrics when METRICS_TOKEN is set. /health is exempt so
// liveness probes never see a 429.
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { createHash, timingSafeEqual } from 'node:crypto';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import { Metrics } from '../../shared/metrics/metrics.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import type { ApiConfig } from '../api.config.js';
import { API_CONFIG } from '../api.tokens.js';
import { keyIdOf } from '../auth/api-keys.js';
import { presentedKey, principalOf } from '../auth/principal.js';
import { correlationIdOf } from './request-context.js';
import { routeLabel } from './http-hooks.js';

const RATE_KEY = Symbol('arbiter.rateLimitKey');
const WINDOW_MS = 60_000;
const UNLIMITED_ROUTES = new Set(['/health']);

type LimitResult = { isAllowed: boolean; isExceeded?: boolean; ttlInSeconds?: number; max?: number };
type Limiter = (req: FastifyRequest) => Promise<LimitResult>;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Whether the Authorization header carries exactly `Bearer <token>` (compared in constant time). */
export function bearerMatches(header: unknown, token: string): boolean {
  if (typeof header !== 'string') return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return !!m && timingSafeEqual(sha256(m[1]), sha256(token));
}

@Injectable()
export class EdgeGuard implements OnApplicationShutdown {
  private readonly logger = new Logger('Auth');
  private readonly redis: Redis | null;
  private limiter: Limiter | null = null;

  constructor(
    adapterHost: HttpAdapterHost,
    private readonly metrics: Metrics,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {
    this.redis = config.redisUrl
      ? new Redis(config.redisUrl, { connectTimeout: 2000, maxRetriesPerRequest: 1, lazyConnect: false })
      : null;
    this.redis?.on('error', (err) => this.logger.warn(`rate-limit store (Redis) error: ${err.message}; requests are let through meanwhile`));
    const fastify = adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (fastify && typeof fastify.addHook === 'function') this.install(fastify);
  }

  private install(fastify: FastifyInstance): void {
    void fastify.register(rateLimit, {
      global: false,
      timeWindow: WINDOW_MS,
      // A store that cannot answer lets requests through (logged above) rather than take the API down.
      skipOnError: true,
      ...(this.redis ? { redis: this.redis, nameSpace: this.config.redisKeyPrefix } : {}),
    });
    fastify.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const route = routeLabel(req);
      if (UNLIMITED_ROUTES.has(route)) return;
      if (route === '/metrics') {
        const limitedNow = await this.limited(fastify, req, reply, `addr:${req.ip}`, this.config.rateLimitAnonymousPerMinute);
        if (this.config.metricsToken && !bearerMatches(req.headers.authorization, this.config.metricsToken)) {
          this.authFailed(req, 'bad_metrics_token', 'a request for /metrics without the METRICS_TOKEN bearer token', !limitedNow);
          if (limitedNow) return reply;
          return reply
            .code(401)
            .header('www-authenticate', 'Bearer')
            .send({ statusCode: 401, error: 'Unauthorized', message: "/metrics needs 'Authorization: Bearer <METRICS_TOKEN>'", correlationId: correlationIdOf(req) });
        }
        if (limitedNow) return reply;
        return;
      }
      const presented = presentedKey(req.headers);
      const principal = presented ? await principalOf(this.sql, req) : null;
      const limitedNow = principal
        ? await this.limited(fastify, req, reply, `key:${principal.keyId}`, this.config.rateLimitPerKeyPerMinute)
        : await this.limited(fastify, req, reply, `addr:${req.ip}`, this.config.rateLimitAnonymousPerMinute);
      if (presented && !principal) {
        const keyId = keyIdOf(presented);
        this.authFailed(req, keyId ? 'unknown_or_revoked' : 'malformed', keyId ? `API key id ${keyId} (unknown or revoked)` : 'a malformed API key', !limitedNow);
      }
      if (limitedNow) return reply;
    });
  }

  private authFailed(req: FastifyRequest, reason: string, what: string, log = true): void {
    this.metrics.authFailuresTotal.inc({ reason });
    if (log) this.logger.warn(`authentication failed: ${what} from ${req.ip} on ${req.method} ${routeLabel(req)} [correlation id ${correlationIdOf(req)}]`);
  }

  /** Counts the request against `key`; answers 429 and returns true when it is over `max`. */
  private async limited(fastify: FastifyInstance, req: FastifyRequest, reply: FastifyReply, key: string, max: number): Promise<boolean> {
    if (max <= 0) return false;
    (req as unknown as Record<symbol, unknown>)[RATE_KEY] = key;
    this.limiter ??= (fastify as unknown as { createRateLimit(o: object): Limiter }).createRateLimit({
      keyGenerator: (r: FastifyRequest) => (r as unknown as Record<symbol, string>)[RATE_KEY],
      max: async (r: FastifyRequest, k: string) => (k.startsWith('key:') ? this.config.rateLimitPerKeyPerMinute : this.config.rateLimitAnonymousPerMinute),
      timeWindow: WINDOW_MS,
    });
    const r = await this.limiter(req);
    if (r.isAllowed || !r.isExceeded) return false;
    const retryAfter = Math.max(1, r.ttlInSeconds ?? 60);
    const who = key.startsWith('key:') ? `API key ${key.slice(4)}` : `address ${req.ip} (requests without a valid API key)`;
    const message = `rate limit exceeded: ${max} requests per minute for ${who}; retry in ${retryAfter} s`;
    this.metrics.rateLimitedTotal.inc({ limit: key.startsWith('key:') ? 'api_key' : 'address' });
    reply.code(429).header('retry-after', String(retryAfter));
    if (routeLabel(req) === '/graphql') reply.send({ data: null, errors: [{ message, extensions: { code: 'RATE_LIMITED', retryAfterSeconds: retryAfter } }] });
    else reply.send({ statusCode: 429, error: 'Too Many Requests', message, correlationId: correlationIdOf(req) });
    return true;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}
