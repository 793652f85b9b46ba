// Settings of the API's edges, from the environment, validated at start: rate limits (and the
// Redis store that shares them between processes), the bearer token of /metrics, the bound on
// idempotency records per key, and GraphQL's per-request budgets. Every one is in README.
import { ConfigError, integer, redact } from '../config/config.js';

export interface ApiConfig {
  /** redis:// URL of the shared rate-limit store; null = in-memory (per process). */
  redisUrl: string | null;
  /** Prefix of the rate-limit keys in Redis (several deployments may share one server). */
  redisKeyPrefix: string;
  /** Requests per minute per API key; 0 = no limit. */
  rateLimitPerKeyPerMinute: number;
  /** Requests per minute per client address for requests without a valid key; 0 = no limit. */
  rateLimitAnonymousPerMinute: number;
  /** Bearer token /metrics asks for; null = open (with a warning when bound to a public address). */
  metricsToken: string | null;
  /** Replayable Idempotency-Key answers kept per API key (older ones are dropped first). */
  idempotencyMaxRecordsPerKey: number;
  /** Wall-clock budget of one GraphQL request. */
  graphqlTimeBudgetMs: number;
  /** Largest GraphQL response body sent. */
  graphqlMaxResponseBytes: number;
}

type Env = Record<string, string | undefined>;

export const API_ENV_VARS = [
  'REDIS_URL',
  'REDIS_KEY_PREFIX',
  'RATE_LIMIT_PER_KEY_PER_MINUTE',
  'RATE_LIMIT_ANONYMOUS_PER_MINUTE',
  'METRICS_TOKEN',
  'IDEMPOTENCY_MAX_RECORDS_PER_KEY',
  'GRAPHQL_TIME_BUDGET_MS',
  'GRAPHQL_MAX_RESPONSE_BYTES',
] as const;

export function loadApiConfig(env: Env = process.env): ApiConfig {
  const problems: string[] = [];
  const text = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number) => integer(text(name) ?? String(def), name, min, max, problems);

  const redisUrl = text('REDIS_URL');
  if (redisUrl && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) problems.push(`REDIS_URL must be a redis:// or rediss:// URL (got "${redact(redisUrl)}")`);
  const redisKeyPrefix = text('REDIS_KEY_PREFIX') ?? 'arbiter:rate-limit:';
  if (!/^[\x21-\x7e]{1,100}$/.test(redisKeyPrefix)) problems.push('REDIS_KEY_PREFIX must be 1–100 visible ASCII characters');
  const metricsToken = env.METRICS_TOKEN === undefined || env.METRICS_TOKEN === '' ? null : env.METRICS_TOKEN;
  if (metricsToken !== null && !/^[\x21-\x7e]{16,512}$/.test(metricsToken)) {
    problems.push('METRICS_TOKEN must be 16–512 visible ASCII characters (e.g. `openssl rand -hex 32`)');
  }
  const config: ApiConfig = {
    redisUrl,
    redisKeyPrefix,
    rateLimitPerKeyPerMinute: int('RATE_LIMIT_PER_KEY_PER_MINUTE', 600, 0, 1_000_000),
    rateLimitAnonymousPerMinute: int('RATE_LIMIT_ANONYMOUS_PER_MINUTE', 120, 0, 1_000_000),
    metricsToken,
    idempotencyMaxRecordsPerKey: int('IDEMPOTENCY_MAX_RECORDS_PER_KEY', 1000, 1, 1_000_000),
    graphqlTimeBudgetMs: int('GRAPHQL_TIME_BUDGET_MS', 10_000, 10, 600_000),
    graphqlMaxResponseBytes: int('GRAPHQL_MAX_RESPONSE_BYTES', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** True when `host` accepts connections from other machines. */
export function isPublicBind(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return !(h === 'localhost' || h === '::1' || /^127\./.test(h) || h === '::ffff:127.0.0.1');
}

/** The start-up warning when /metrics is open to the network, or null. */
export function metricsExposureWarning(host: string, config: Pick<ApiConfig, 'metricsToken'>): string | null {
  if (config.metricsToken || !isPublicBind(host)) return null;
  return (
    `/metrics is open to anyone who can reach ${host} (it shows realised profit per token): ` +
    'set METRICS_TOKEN to ask for a bearer token, or bind HOST=127.0.0.1'
  );
}
