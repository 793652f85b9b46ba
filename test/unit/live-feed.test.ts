// The bounded queue behind every GraphQL subscription: a consumer that falls too far behind is
// dropped with SLOW_CONSUMER (never an unbounded buffer), and unsubscribing releases it once.
import { describe, expect, it } from 'vitest';
import { BoundedQueue, SlowConsumerError } from '../../src/api/graphql/live-feed.js';

describe('BoundedQueue', () => {
  it('hands items to a waiting reader, then queues up to the bound', async () => {
    const q = new BoundedQueue<number>(2);
    const first = q.next();
    q.push(1);
    expect(await first).toEqual({ value: 1, done: false });
    q.push(2);
    q.push(3);
    expect(q.size).toBe(2);
    expect(await q.next()).toEqual({ value: 2, done: false });
    expect(await q.next()).toEqual({ value: 3, done: false });
  });

  it('drops a slow consumer one item past the bound', async () => {
    let closed = 0;
    const q = new BoundedQueue<number>(3, () => closed++);
    for (let i = 0; i < 4; i++) q.push(i);
    expect(q.closed).toBe(true);
    expect(q.size).toBe(0);
    await expect(q.next()).rejects.toBeInstanceOf(SlowConsumerError);
    await expect(q.next()).rejects.toMatchObject({ extensions: { code: 'SLOW_CONSUMER' } });
    q.push(9);
    expect(closed).toBe(1);
  });

  it('ends a pending read on return() and releases once', async () => {
    let closed = 0;
    const q = new BoundedQueue<number>(3, () => closed++);
    const pending = q.next();
    await q.return();
    await q.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(closed).toBe(1);
  });
});
