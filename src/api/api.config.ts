// Settings of the API's edges (declared and validated with every other setting in src/config): rate limits (and the
// Redis store that shares them between processes), the bearer token of /metrics, the bound on
// idempotency records per key, and GraphQL's per-request budgets. Every one is in README.
import type { ApiSettings, ArbiterConfig } from '../config/config.js';

/** The API's section of the one configuration (src/config/config.ts). */
export type ApiConfig = ApiSettings;

export const apiConfigOf = (c: ArbiterConfig): ApiConfig => c.api;

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
