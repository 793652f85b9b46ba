// GraphQL subscriptions across a database outage: the live feed follows the log through the
// PostgreSQL store on a cluster of the test's own, which the test stops with -m immediate and
// starts again. An open subscription must stay open, and once the database is back it must get
// every event appended since, in order, exactly once (no gap, no second follower).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveFeed } from '../../../src/api/graphql/live-feed.js';
import type { RecordedEvent } from '../../../src/ledger/envelope.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { migrate } from '../../../src/shared/sql/migrator.js';
import { PgSqlClient } from '../../../src/shared/sql/pg-client.js';
import { ev, testRegistry } from '../../support/events.js';
import { createPgCluster, type PgCluster } from '../../support/pg-cluster.js';

async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      if (await ok()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
}

describe('the live feed across a database outage', () => {
  let cluster: PgCluster;
  let sql: PgSqlClient;
  let store: PostgresEventStore;
  let feed: LiveFeed;
  beforeAll(async () => {
    cluster = await createPgCluster();
    sql = new PgSqlClient(cluster.url, { max: 4 });
    await migrate(sql);
    store = new PostgresEventStore(sql, testRegistry(), { livePollMs: 100 });
  }, 60_000);
  afterAll(async () => {
    await feed?.onApplicationShutdown();
    await sql?.close();
    await cluster?.destroy();
  });

  it('keeps subscriptions open and delivers what was appended meanwhile, in order, once', async () => {
    feed = new LiveFeed(store);
    let follows = 0;
    const subscribe = store.subscribeToAll.bind(store);
    store.subscribeToAll = (o) => {
      follows++;
      return subscribe(o);
    };
    const queue = await feed.follow<RecordedEvent>(null, (e) => (e.streamId.startsWith('feed-') ? e : null));
    await store.append('feed-1', [ev('TestHappened', { n: 1 })], 'no_stream');
    expect((await queue.next()).value?.streamId).toBe('feed-1');

    await cluster.stop('immediate');
    // Long enough for the feed to fail several polls while the server is away.
    await new Promise((r) => setTimeout(r, 1500));
    expect(queue.closed).toBe(false);
    await cluster.start();

    // Appended after the outage; the feed reads them from where it was.
    await until('an append after the restart', async () => {
      await store.append('feed-2', [ev('TestHappened', { n: 2 })], 'any');
      return true;
    });
    await store.append('feed-3', [ev('TestHappened', { n: 3 })], 'no_stream');
    const got: string[] = [];
    for (let i = 0; i < 2; i++) got.push((await queue.next()).value!.streamId);
    expect(got).toEqual(['feed-2', 'feed-3']);
    expect(queue.size).toBe(0);
    expect(follows).toBe(1);

    // A subscriber that arrives after the outage shares the same follower.
    const late = await feed.follow<RecordedEvent>(null, (e) => (e.streamId.startsWith('feed-') ? e : null));
    await store.append('feed-4', [ev('TestHappened', { n: 4 })], 'no_stream');
    expect((await late.next()).value?.streamId).toBe('feed-4');
    expect((await queue.next()).value?.streamId).toBe('feed-4');
    expect(follows).toBe(1);
  }, 90_000);
});
