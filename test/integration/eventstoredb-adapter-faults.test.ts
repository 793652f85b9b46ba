// The EventStoreDB adapter under the EventStoreDB protocol stand-in's fault switches: answers
// lost after the write, a server that is unavailable or restarts, reads and subscriptions cut
// mid-way. What must hold: nothing is written twice, no event reaches a subscriber twice or out
// of order, and a server that stays away surfaces as one typed error that names it without its
// password.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/ledger/envelope.js';
import { EventStoreUnavailableError } from '../../src/ledger/errors.js';
import { EventStoreDbEventStore } from '../../src/ledger/eventstoredb/eventstoredb-event-store.js';
import { ev, testRegistry } from '../support/events.js';
import { startEventStoreDbStandIn, type EventStoreDbStandIn } from '../stand-ins/eventstoredb-server.js';

describe('EventStoreDB adapter on the EventStoreDB protocol stand-in, under faults', () => {
  let server: EventStoreDbStandIn | null = null;
  let store: EventStoreDbEventStore | null = null;
  afterEach(async () => {
    await store?.close();
    await server?.close();
    store = null;
    server = null;
  });
  async function boot(appendMode: 'batch' | 'append' = 'batch', options: ConstructorParameters<typeof EventStoreDbEventStore>[3] = {}) {
    server = await startEventStoreDbStandIn({ appendMode });
    const url = server.url.replace('esdb://', 'esdb://admin:s3cret-pw@');
    store = await EventStoreDbEventStore.connect(url, testRegistry(), { resubscribeDelayMs: 20, ...options });
    return { server, store };
  }

  for (const appendMode of ['batch', 'append'] as const) {
    it(`retries an append whose answer was lost with the same ids and reports it as a duplicate (${appendMode})`, async () => {
      const { server, store } = await boot(appendMode);
      const s = `lost-${randomUUID().slice(0, 8)}`;
      await store.append(s, [ev('A')], 'no_stream');
      server.loseNextAppendReplies(1);
      const batch = [ev('B'), ev('C')];
      const result = await store.append(s, batch, 0n);
      expect(result).toMatchObject({ nextRevision: 2n, duplicate: true });
      expect(server.stream(s).map((e) => e.id)).toEqual([expect.any(String), batch[0].id, batch[1].id]);
      // The position reported is the one readers see for the last event.
      const [, , last] = await store.readStream(s);
      expect(result.position).toBe(last.position);
    });
  }

  it('after a lost answer and a server restart (empty idempotency cache), a retry by the caller still writes nothing twice', async () => {
    const { server, store } = await boot('batch', { unavailableRetries: 0 });
    const s = `restart-${randomUUID().slice(0, 8)}`;
    server.loseNextAppendReplies(1);
    const batch = [ev('A'), ev('B')];
    await expect(store.append(s, batch, 'any')).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await server.restart();
    // The caller's own retry (same ids); the first call after the restart may meet the dropped connection.
    const again = await store.append(s, batch, 'any').catch(() => store.append(s, batch, 'any'));
    expect(again).toMatchObject({ nextRevision: 1n, duplicate: true });
    expect(server.stream(s)).toHaveLength(2);
  });

  it('surfaces a server that stays unavailable as one EventStoreUnavailableError naming it without the password', async () => {
    const { server, store } = await boot();
    server.faults.unavailable = true;
    for (const call of [() => store.append('s-x', [ev()], 0n), () => store.readStream('s-x'), () => store.readAll(), () => store.headPosition()]) {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EventStoreUnavailableError);
      expect((err as Error).message).toContain(`127.0.0.1:${server.nodes[0].port}`);
      expect((err as Error).message).not.toContain('s3cret-pw');
    }
    server.faults.unavailable = false;
    expect((await store.append('s-x', [ev()], 'no_stream')).nextRevision).toBe(0n);
  });

  it('tries a read cut mid-way again from its start', async () => {
    const { server, store } = await boot();
    const s = `cut-${randomUUID().slice(0, 8)}`;
    await store.append(s, Array.from({ length: 20 }, () => ev()), 'no_stream');
    server.cutNext('read', 5);
    expect(await store.readStream(s)).toHaveLength(20);
    server.cutNext('read', 3);
    const page = await store.readAll({ maxCount: 10, filter: { streamPrefix: s } });
    expect(page.map((e) => e.revision)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
  });

  it('resumes a subscription cut mid-way, and one dropped by a restart, from its last position: every event once, in order', async () => {
    const { server, store } = await boot();
    const prefix = `sub${randomUUID().slice(0, 6)}`;
    for (let i = 0; i < 30; i++) await store.append(`${prefix}-${i % 3}`, [ev('W', { i }), ev('W', { i })], 'any');
    const seen: RecordedEvent[] = [];
    const errors: Error[] = [];
    let want = 60;
    let reached!: () => void;
    let done = new Promise<void>((r) => (reached = r));
    server.cutNext('subscription', 25);
    const sub = store.subscribeToAll({
      filter: { streamPrefix: prefix },
      batchSize: 7,
      onEvents: (events) => {
        seen.push(...events);
        if (seen.length >= want) reached();
      },
      onError: (err) => errors.push(err),
    });
    await done;
    expect(errors.some((e) => e instanceof EventStoreUnavailableError)).toBe(true);

    // Live now; the server restarts while more is written.
    want = 100;
    done = new Promise<void>((r) => (reached = r));
    for (let i = 0; i < 10; i++) await store.append(`${prefix}-live`, [ev('W'), ev('W')], 'any');
    await server.restart();
    for (let i = 0; i < 10; i++) await store.append(`${prefix}-live`, [ev('W'), ev('W')], 'any');
    await done;
    await new Promise((r) => setTimeout(r, 200));
    await sub.stop();
    expect(seen).toHaveLength(100);
    expect(new Set(seen.map((e) => e.id)).size).toBe(100);
    for (let i = 1; i < seen.length; i++) expect(seen[i].position > seen[i - 1].position).toBe(true);
    expect(sub.position).toBe(seen[seen.length - 1].position);
  });
});

describe('EventStoreDB adapter on a 3-node EventStoreDB protocol stand-in (gossip)', () => {
  it('finds the leader through esdb+discover:// and follows a re-election when the leader goes away', async () => {
    const server = await startEventStoreDbStandIn({ nodes: 3 });
    const store = await EventStoreDbEventStore.connect(server.discoverUrl(2), testRegistry());
    try {
      const s = `gossip-${randomUUID().slice(0, 8)}`;
      await store.append(s, [ev()], 'no_stream');
      expect(server.nodes[2].calls.get('Gossip')).toBeGreaterThanOrEqual(1);
      expect(server.nodes[0].calls.get('BatchAppend')).toBe(1);
      await server.stopNode(0);
      server.electLeader(1);
      const r = await store.append(s, [ev()], 0n);
      expect(r).toMatchObject({ nextRevision: 1n, duplicate: false });
      expect(server.nodes[1].calls.get('BatchAppend')).toBe(1);
      expect((await store.readStream(s)).map((e) => e.revision)).toEqual([0n, 1n]);
    } finally {
      await store.close();
      await server.close();
    }
  });
});
