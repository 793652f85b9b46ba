// Settings of webhook delivery (README: Configuration, Notifications). Checked at start with
// every other context's settings.
import { ConfigError, integer } from '../config/config.js';
import type { RetryPolicy } from './delivery.js';

export const NOTIFICATIONS_CONFIG = Symbol('NOTIFICATIONS_CONFIG');

export interface NotificationsConfig {
  /** Run the delivery worker in this process (WEBHOOK_DELIVERY, default true). */
  delivery: boolean;
  /** Hosts subscriptions may point at (WEBHOOK_ALLOWED_HOSTS); null = any host, refused when production. */
  allowedHosts: string[] | null;
  /** NODE_ENV=production: an allow-list is required before a subscription is accepted. */
  production: boolean;
  /** Per request (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  retry: RetryPolicy;
}

export function loadNotificationsConfig(env: Record<string, string | undefined> = process.env): NotificationsConfig {
  const problems: string[] = [];
  const on = (env.WEBHOOK_DELIVERY ?? 'true').trim().toLowerCase();
  if (!['true', 'false', '1', '0'].includes(on)) problems.push(`WEBHOOK_DELIVERY must be true or false (got "${env.WEBHOOK_DELIVERY}")`);
  let allowedHosts: string[] | null = null;
  if (env.WEBHOOK_ALLOWED_HOSTS !== undefined && env.WEBHOOK_ALLOWED_HOSTS.trim() !== '') {
    allowedHosts = env.WEBHOOK_ALLOWED_HOSTS.split(',').map((h) => h.trim()).filter(Boolean);
    for (const h of allowedHosts) {
      if (!/^(\*\.)?[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:]+\]$/.test(h)) {
        problems.push(`WEBHOOK_ALLOWED_HOSTS: "${h}" is not a host name, *.domain pattern, IPv4 address or [IPv6] address`);
      }
    }
  }
  const config: NotificationsConfig = {
    delivery: on === 'true' || on === '1',
    allowedHosts,
    production: (env.NODE_ENV ?? '').trim() === 'production',
    timeoutMs: integer(env.WEBHOOK_TIMEOUT_MS ?? '5000', 'WEBHOOK_TIMEOUT_MS', 100, 60_000, problems),
    retry: {
      maxAttempts: integer(env.WEBHOOK_MAX_ATTEMPTS ?? '8', 'WEBHOOK_MAX_ATTEMPTS', 1, 1000, problems),
      baseDelayMs: integer(env.WEBHOOK_RETRY_BASE_MS ?? '1000', 'WEBHOOK_RETRY_BASE_MS', 1, 3_600_000, problems),
      maxDelayMs: integer(env.WEBHOOK_RETRY_MAX_MS ?? '300000', 'WEBHOOK_RETRY_MAX_MS', 1, 86_400_000, problems),
    },
  };
  if (config.retry.maxDelayMs < config.retry.baseDelayMs) problems.push('WEBHOOK_RETRY_MAX_MS must be at least WEBHOOK_RETRY_BASE_MS');
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** The allow-list in force for new subscriptions, or the reason none may be created. */
export function effectiveAllowList(c: NotificationsConfig): { hosts: string[] | null } | { refused: string } {
  if (c.allowedHosts) return { hosts: c.allowedHosts };
  if (c.production) return { refused: 'webhook subscriptions need WEBHOOK_ALLOWED_HOSTS when NODE_ENV=production: set it to the hosts receivers may run on' };
  return { hosts: null };
}
