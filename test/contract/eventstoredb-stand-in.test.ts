// The EventStoreDB protocol stand-in's own tests, driven by the real client
// (@eventstore/db-client) without the adapter: the server rules it claims to mirror (see the
// header of test/stand-ins/eventstoredb-server.ts), its failure answers and its fault switches.
import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  EventStoreDBClient,
  MaxAppendSizeExceededError,
  NotLeaderError,
  StreamDeletedError,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  BACKWARDS,
  END,
  FORWARDS,
  START,
  eventTypeFilter,
  jsonEvent,
  type AllStreamResolvedEvent,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEventStoreDbStandIn, type EventStoreDbStandIn, type EventStoreDbStandInOptions } from '../stand-ins/eventstoredb-server.js';

const e = (type = 'T', id: string = randomUUID()) => jsonEvent({ id, type, data: { n: 1 } });
/** The first call after a restart may see the dropped connection (as with a real server); the client reconnects on the next. */
const afterRestart = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof UnavailableError || err instanceof CancelledError)) throw err;
    return fn();
  }
};
const collect = async <T>(it: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describe('EventStoreDB protocol stand-in', () => {
  let server: EventStoreDbStandIn | null = null;
  const clients: EventStoreDBClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await server?.close();
    server = null;
  });
  async function boot(options: EventStoreDbStandInOptions = {}, url?: (s: EventStoreDbStandIn) => string) {
    server = await startEventStoreDbStandIn(options);
    const client = EventStoreDBClient.connectionString(url ? url(server) : server.url);
    clients.push(client);
    return { server, client };
  }

  for (const appendMode of ['batch', 'append'] as const) {
    it(`appends over ${appendMode === 'batch' ? 'BatchAppend (listed by ServerFeatures)' : 'Append (BatchAppend not listed)'}`, async () => {
      const { server, client } = await boot({ appendMode });
      await client.appendToStream('s-mode', [e()]);
      const calls = server.nodes[0].calls;
      expect(calls.get('GetSupportedMethods')).toBe(1);
      expect(calls.get(appendMode === 'batch' ? 'BatchAppend' : 'Append')).toBe(1);
      expect(calls.get(appendMode === 'batch' ? 'Append' : 'BatchAppend')).toBeUndefined();
    });

    it(`with an exact revision, a retry is idempotent by the ids at the expected slots, in order, also after a restart (${appendMode})`, async () => {
      const { server, client } = await boot({ appendMode });
      const [a, b] = [e('A'), e('B')];
      const first = await client.appendToStream('s-idem', [a, b], { expectedRevision: 'no_stream' });
      await server.restart();
      const again = await afterRestart(() => client.appendToStream('s-idem', [a, b], { expectedRevision: 'no_stream' }));
      expect(again.nextExpectedRevision).toBe(first.nextExpectedRevision);
      const swapped = await client.appendToStream('s-idem', [b, a], { expectedRevision: 'no_stream' }).catch((err: unknown) => err);
      expect(swapped).toBeInstanceOf(WrongExpectedVersionError);
      expect((swapped as Error).message).toBe('');
      expect(server.stream('s-idem')).toHaveLength(2);
    });

    it(`with any, the check uses the bounded cache and ignores order; after a restart the retry writes duplicates (${appendMode})`, async () => {
      const { server, client } = await boot({ appendMode });
      const [a, b] = [e('A'), e('B')];
      await client.appendToStream('s-any', [a, b]);
      await client.appendToStream('s-any', [b, a]);
      expect(server.stream('s-any')).toHaveLength(2);
      await server.restart();
      await afterRestart(() => client.appendToStream('s-any', [a, b]));
      expect(server.stream('s-any').map((x) => x.id)).toEqual([a.id, b.id, a.id, b.id]);
    });

    it(`refuses an append over MaxAppendSize with its size (${appendMode})`, async () => {
      const { client } = await boot({ appendMode, maxAppendSizeBytes: 1000 });
      const err = await client.appendToStream('s-big', [jsonEvent({ type: 'Big', data: { x: 'y'.repeat(2000) } })]).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(MaxAppendSizeExceededError);
      expect((err as MaxAppendSizeExceededError).maxAppendSize).toBe(1000);
    });

    it(`answers tombstoned and soft-deleted streams as the server does (${appendMode})`, async () => {
      const { client } = await boot({ appendMode });
      await client.appendToStream('s-soft', [e(), e()]);
      await client.deleteStream('s-soft');
      await expect(collect(client.readStream('s-soft'))).rejects.toBeInstanceOf(StreamNotFoundError);
      const re = await client.appendToStream('s-soft', [e()], { expectedRevision: 'no_stream' });
      expect(re.nextExpectedRevision).toBe(2n);
      expect((await collect(client.readStream('s-soft'))).map((r) => r.event!.revision)).toEqual([2n]);
      await client.appendToStream('s-hard', [e()]);
      await client.tombstoneStream('s-hard');
      await expect(collect(client.readStream('s-hard'))).rejects.toBeInstanceOf(StreamDeletedError);
      await expect(client.appendToStream('s-hard', [e()])).rejects.toBeInstanceOf(StreamDeletedError);
    });
  }

  it('falls back to Append when ServerFeatures is unimplemented (servers before 21.10)', async () => {
    const { server, client } = await boot({ serverFeatures: false });
    await client.appendToStream('s-old', [e()]);
    expect(server.nodes[0].calls.get('Append')).toBe(1);
  });

  it('gives every event of an append its own commit position, equal to its prepare position', async () => {
    const { client } = await boot();
    await client.appendToStream('s-pos', [e(), e(), e()]);
    const events = (await collect(client.readStream('s-pos'))).map((r) => r.event!);
    const commits = events.map((x) => x.position!.commit);
    expect(events.every((x) => x.position!.commit === x.position!.prepare)).toBe(true);
    expect(new Set(commits).size).toBe(3);
    expect(commits[1] > commits[0] && commits[2] > commits[1]).toBe(true);
    expect(commits[1] - commits[0]).toBeGreaterThan(1n);
  });

  it('includes the start position in forward $all reads, excludes it backward and in subscriptions, and lists $ system events', async () => {
    const { client } = await boot();
    await client.appendToStream('s-all', [e('A'), e('B'), e('C')]);
    const all = (await collect(client.readAll())).map((r) => r.event!);
    expect(all[0].streamId.startsWith('$')).toBe(true);
    const mine = all.filter((x) => x.streamId === 's-all');
    const p = mine[1].position!;
    const fwd = (await collect(client.readAll({ fromPosition: p, maxCount: 1 }))).map((r) => r.event!.type);
    expect(fwd).toEqual(['B']);
    const back = (await collect(client.readAll({ fromPosition: p, direction: BACKWARDS, maxCount: 1 }))).map((r) => r.event!.type);
    expect(back).toEqual(['A']);
    expect((await collect(client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 })))[0].event!.type).toBe('C');
    const sub = client.subscribeToAll({ fromPosition: p });
    const [first] = await firstEvents(sub, 1);
    expect(first.event!.type).toBe('C');
    await sub.unsubscribe();
  });

  it('reads streams both directions from a revision', async () => {
    const { client } = await boot();
    await client.appendToStream('s-dir', [e('A'), e('B'), e('C')]);
    const types = async (opts: Parameters<EventStoreDBClient['readStream']>[1]) =>
      (await collect(client.readStream('s-dir', opts))).map((r: ResolvedEvent) => r.event!.type);
    expect(await types({ direction: BACKWARDS, fromRevision: END })).toEqual(['C', 'B', 'A']);
    expect(await types({ direction: BACKWARDS, fromRevision: 1n })).toEqual(['B', 'A']);
    expect(await types({ direction: FORWARDS, fromRevision: 1n, maxCount: 1 })).toEqual(['B']);
    expect(await types({ direction: FORWARDS, fromRevision: START })).toEqual(['A', 'B', 'C']);
  });

  it('filters subscriptions on the server, sends checkpoints, caught-up, and pushes live events', async () => {
    const { client } = await boot();
    for (let i = 0; i < 10; i++) await client.appendToStream(`noise-${i}`, [e('Noise')]);
    await client.appendToStream('s-f', [e('Wanted')]);
    const checkpoints: bigint[] = [];
    const sub = client.subscribeToAll({
      filter: eventTypeFilter({ prefixes: ['Wanted'], maxSearchWindow: 2, checkpointInterval: 1, checkpointReached: (_s, pos) => void checkpoints.push(pos.commit) }),
    });
    const caughtUp = new Promise<boolean>((r) => sub.once('caughtUp', () => r(true)));
    const got = firstEvents(sub, 2);
    expect(await caughtUp).toBe(true);
    await client.appendToStream('s-f', [e('Wanted')]);
    const events = await got;
    expect(events.map((x) => x.event!.type)).toEqual(['Wanted', 'Wanted']);
    expect(checkpoints.length).toBeGreaterThanOrEqual(5);
    await sub.unsubscribe();
  });

  it('answers deadlines, unavailability and a cut read with the errors the client knows', async () => {
    const { server, client } = await boot();
    await client.appendToStream('s-slow', [e(), e(), e()]);
    server.faults.delayMs = 300;
    await expect(client.appendToStream('s-slow', [e()], { deadline: 100 })).rejects.toBeInstanceOf(DeadlineExceededError);
    server.faults.delayMs = 0;
    server.cutNext('read', 1);
    await expect(collect(client.readStream('s-slow'))).rejects.toBeInstanceOf(UnavailableError);
    server.faults.unavailable = true;
    await expect(client.appendToStream('s-slow', [e()])).rejects.toBeInstanceOf(UnavailableError);
    server.faults.unavailable = false;
    expect(await collect(client.readStream('s-slow'))).toHaveLength(3);
  });

  it('appends over Append with a deadline the server misses: DeadlineExceeded', async () => {
    const { server, client } = await boot({ appendMode: 'append' });
    server.faults.delayMs = 300;
    await expect(client.appendToStream('s-slow', [e()], { deadline: 100 })).rejects.toBeInstanceOf(DeadlineExceededError);
  });

  it('refuses calls without credentials (AccessDenied) and serves them with credentials over TLS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esdb-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    const tls = { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
    const { server, client: anonymous } = await boot({ users: { admin: 'changeit' }, tls }, (s) => `${s.url}&tlsCAFile=${join(dir, 'cert.pem')}`);
    await expect(anonymous.appendToStream('s-auth', [e()])).rejects.toBeInstanceOf(AccessDeniedError);
    const port = server.nodes[0].port;
    const admin = EventStoreDBClient.connectionString(`esdb://admin:changeit@127.0.0.1:${port}?tls=true&tlsCAFile=${join(dir, 'cert.pem')}`);
    const wrong = EventStoreDBClient.connectionString(`esdb://admin:nope@127.0.0.1:${port}?tls=true&tlsCAFile=${join(dir, 'cert.pem')}`);
    clients.push(admin, wrong);
    await admin.appendToStream('s-auth', [e()]);
    expect(await collect(admin.readStream('s-auth'))).toHaveLength(1);
    await expect(collect(wrong.readStream('s-auth'))).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('answers requires-leader on a follower with NotLeader naming the leader, and gossip leads discovery to the leader', async () => {
    const { server, client: follower } = await boot({ nodes: 3 }, (s) => s.urlOf(1));
    const err = await follower.appendToStream('s-lead', [e()], { requiresLeader: true }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect((err as NotLeaderError).leader).toEqual({ address: '127.0.0.1', port: server.nodes[0].port });
    const discovered = EventStoreDBClient.connectionString(server.discoverUrl(2));
    clients.push(discovered);
    await discovered.appendToStream('s-lead', [e()]);
    expect(server.nodes[2].calls.get('Gossip')).toBeGreaterThanOrEqual(1);
    expect(server.nodes[0].calls.get('BatchAppend')).toBe(1);
    expect(server.nodes[2].calls.get('BatchAppend')).toBeUndefined();
  });
});

/** The first `n` events of a subscription. */
function firstEvents(sub: AsyncIterable<AllStreamResolvedEvent>, n: number): Promise<AllStreamResolvedEvent[]> {
  return (async () => {
    const out: AllStreamResolvedEvent[] = [];
    for await (const x of sub) {
      out.push(x);
      if (out.length >= n) break;
    }
    return out;
  })();
}
