// Settings of the API's edges, from the environment, validated at start: rate limits (and the
// Redis store that shares them between processes), the bearer token of /metrics, the bound on
// idempotency records per key, and GraphQL's per-request budgets. Every one is in README.
import { isIP } from 'node:net';
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
  /**
   * Reverse proxies whose X-Forwarded-For is believed (Fastify's trustProxy): their addresses or
   * CIDR ranges, or a number of hops; false = the peer's address is the client's.
   */
  trustProxy: false | string[] | number;
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
  'TRUST_PROXY',
] as const;

/** TRUST_PROXY: empty = none; "1".."10" = hops; else addresses or CIDR ranges, comma-separated. */
function trustProxySetting(raw: string | null, problems: string[]): false | string[] | number {
  if (raw === null) return false;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops < 1 || hops > 10) problems.push(`TRUST_PROXY as a number of proxy hops must be 1–10 (got ${raw})`);
    return hops;
  }
  const parts = raw.split(',').map((p) => p.trim()).filter(Boolean);
  const bad = parts.filter((p) => {
    const [addr, bits, extra] = p.split('/');
    const family = isIP(addr);
    if (!family || extra !== undefined) return true;
    if (bits === undefined) return false;
    return !/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128);
  });
  if (!parts.length || bad.length) {
    problems.push(
      `TRUST_PROXY must be the proxies' addresses or CIDR ranges, comma-separated (e.g. 10.0.0.5,10.1.0.0/16), or a number of hops 1–10${bad.length ? `; not an address or range: ${bad.slice(0, 5).map((b) => `"${b.slice(0, 60)}"`).join(', ')}` : ''}`,
    );
  }
  return parts;
}

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
    trustProxy: trustProxySetting(text('TRUST_PROXY'), problems),
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

/** Fastify's options for the app's HTTP server: body limit and the proxies it believes. */
export function fastifyServerOptions(config: Pick<ApiConfig, 'trustProxy'>): { bodyLimit: number; trustProxy: boolean | string[] | ((address: string, hop: number) => boolean) } {
  const tp = config.trustProxy;
  // A hop count: believe the nearest `tp` hops (what Fastify does with a number, which its types omit).
  return { bodyLimit: 256 * 1024, trustProxy: typeof tp === 'number' ? (_address: string, hop: number) => hop < tp : tp };
}
