// Bounded retries for market data requests, through the one retry helper (src/shared/retry.ts:
// exponential backoff, full jitter). Only errors marked retryable (5xx, 429, timeouts,
// unreachable) are retried; malformed bodies and 4xx are not, because asking again gives the
// same answer. A 429's Retry-After is honoured up to the cap.
import { retry, type RetryPolicy } from '../shared/retry.js';
import { MarketDataError } from './errors.js';

export type { RetryPolicy } from '../shared/retry.js';

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 };

export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  onRetry?: (err: MarketDataError, attempt: number, delayMs: number) => void,
): Promise<T> {
  return retry(attempt, {
    policy,
    retryable: (e) => e instanceof MarketDataError && e.retryable,
    minDelayMs: (e) => (e instanceof MarketDataError ? e.details.retryAfterMs : undefined),
    onRetry: (e, n, delay) => onRetry?.(e as MarketDataError, n, delay),
    onGiveUp: (e, n) => (e instanceof MarketDataError ? e.withAttempts(n) : e),
  });
}
