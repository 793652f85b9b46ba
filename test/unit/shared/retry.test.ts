// The one retry helper: bounded attempts, full-jitter exponential backoff, the caller's idea of
// retryable, a lower bound from the answer (Retry-After), and abort.
import { describe, expect, it } from 'vitest';
import { fullJitterDelayMs, pause, retry } from '../../../src/shared/retry.js';

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 };

describe('fullJitterDelayMs', () => {
  it('is uniform below min(cap, base·2^(n-1))', () => {
    expect(fullJitterDelayMs(1, policy, 0)).toBe(0);
    expect(fullJitterDelayMs(1, policy, 0.999)).toBe(99);
    expect(fullJitterDelayMs(2, policy, 0.5)).toBe(100);
    expect(fullJitterDelayMs(3, policy, 0.999)).toBe(249); // capped: 400 > 250
    expect(fullJitterDelayMs(30, policy, 0.999)).toBe(249);
  });
});

describe('retry', () => {
  it('retries up to maxAttempts with the jittered delays, then gives up with what onGiveUp makes', async () => {
    const delays: number[] = [];
    let n = 0;
    const err = await retry(async () => {
      n++;
      throw new Error(`try ${n}`);
    }, { policy: { ...policy, baseDelayMs: 4, maxDelayMs: 10 }, random: () => 0.5, onRetry: (_e, _n, d) => delays.push(d), onGiveUp: (e, attempts, exhausted) => ({ e, attempts, exhausted }) }).catch((x) => x);
    expect(n).toBe(4);
    expect(delays).toEqual([2, 4, 5]);
    expect(err).toMatchObject({ attempts: 4, exhausted: true, e: { message: 'try 4' } });
  });

  it('returns the first success and does not retry what the caller calls permanent', async () => {
    let n = 0;
    expect(await retry(async () => (++n < 3 ? Promise.reject(new Error('flaky')) : 'ok'), { policy: { ...policy, baseDelayMs: 1 } })).toBe('ok');
    expect(n).toBe(3);
    n = 0;
    const e = await retry(async () => {
      n++;
      throw new Error('bad input');
    }, { policy, retryable: () => false, onGiveUp: (x, attempts, exhausted) => ({ attempts, exhausted }) }).catch((x) => x);
    expect(n).toBe(1);
    expect(e).toEqual({ attempts: 1, exhausted: false });
  });

  it('waits at least what the answer asked for, within the cap', async () => {
    const delays: number[] = [];
    await retry(async (n) => (n === 1 ? Promise.reject(new Error('429')) : 1), { policy: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 30 }, minDelayMs: () => 1_000, onRetry: (_e, _n, d) => delays.push(d) });
    expect(delays).toEqual([30]);
  });

  it('stops at once when the signal aborts during a wait', async () => {
    const ac = new AbortController();
    let n = 0;
    setTimeout(() => ac.abort(), 20);
    const e = await retry(async () => {
      n++;
      throw new Error('down');
    }, { policy: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 }, random: () => 0.99, signal: ac.signal }).catch((x) => x);
    expect(n).toBe(1);
    expect(e.message).toBe('down');
  });
});

describe('pause', () => {
  it('resolves early, without rejecting, when the signal aborts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    await expect(pause(60_000, ac.signal)).resolves.toBeUndefined();
  });
});
