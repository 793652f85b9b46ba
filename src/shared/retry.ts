// The one retry helper: bounded attempts, exponential backoff with full jitter (the delay before
// retry n is uniform in [0, min(maxDelayMs, baseDelayMs · 2^(n-1))], so many callers that failed
// together do not come back together). Market data requests and saga steps retry through it; what
// counts as retryable is the caller's, since only the caller knows whether asking again can help.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Total attempts including the first (1 = no retry). */
  maxAttempts: number;
  /** Upper bound of the delay before the first retry; doubles each time. */
  baseDelayMs: number;
  /** Cap of every delay. */
  maxDelayMs: number;
}

/** Full jitter: uniform in [0, min(cap, base · 2^(retry-1))]; `random` in [0, 1). */
export function fullJitterDelayMs(retry: number, policy: RetryPolicy, random: number = Math.random()): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random * ceiling);
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Whether the error may go away when asked again (default: every error). */
  retryable?: (err: unknown) => boolean;
  /** A lower bound on the delay an answer asked for (a 429's Retry-After); still capped by maxDelayMs. */
  minDelayMs?: (err: unknown) => number | undefined;
  /** Before each wait: the error, the attempt that failed (1-based) and the delay chosen. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** When no more attempts are made: returns the error to throw (default: the error itself). */
  onGiveUp?: (err: unknown, attempts: number, exhausted: boolean) => unknown;
  /** Stops waiting: the last error is thrown at once. */
  signal?: AbortSignal;
  /** For tests: the source of jitter. */
  random?: () => number;
}

export async function retry<T>(attempt: (n: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const max = Math.max(1, Math.floor(o.policy.maxAttempts));
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const retryable = o.retryable ? o.retryable(err) : true;
      if (!retryable || n >= max || o.signal?.aborted) throw o.onGiveUp ? o.onGiveUp(err, n, retryable) : err;
      const jitter = fullJitterDelayMs(n, o.policy, (o.random ?? Math.random)());
      const delay = Math.min(o.policy.maxDelayMs, Math.max(jitter, o.minDelayMs?.(err) ?? 0));
      o.onRetry?.(err, n, delay);
      try {
        await sleep(delay, undefined, o.signal ? { signal: o.signal } : undefined);
      } catch {
        // Aborted while waiting: no further attempt.
        throw o.onGiveUp ? o.onGiveUp(err, n, retryable) : err;
      }
    }
  }
}

/** Waits `ms`, or less when `signal` aborts (never rejects). */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return;
  await sleep(ms, undefined, signal ? { signal } : undefined).catch((err: unknown) => {
    if ((err as { name?: string }).name !== 'AbortError') throw err;
  });
}
