// Bounded retries for market data requests. Only errors marked retryable (5xx, 429, timeouts,
// unreachable) are retried; malformed bodies and 4xx are not, because asking again gives the
// same answer. Backoff is exponential and capped; a 429's Retry-After is honoured up to the cap.
import { MarketDataError } from './errors.js';

export interface RetryPolicy {
  /** Total attempts including the first (1 = no retry). */
  maxAttempts: number;
  /** Delay before the first retry; doubles each time. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  onRetry?: (err: MarketDataError, attempt: number, delayMs: number) => void,
): Promise<T> {
  const max = Math.max(1, Math.floor(policy.maxAttempts));
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (!(e instanceof MarketDataError)) throw e;
      if (!e.retryable || n >= max) throw e.withAttempts(n);
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
      const delay = Math.min(policy.maxDelayMs, Math.max(backoff, e.details.retryAfterMs ?? 0));
      onRetry?.(e, n, delay);
      await sleep(delay);
    }
  }
}
