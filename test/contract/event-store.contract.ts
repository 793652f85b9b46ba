// One contract for the event store port, run against every adapter (PostgreSQL, PGlite, and
// EventStoreDB: the protocol stand-in, or the server EVENTSTORE_URL points at). Streams get
// random names so tests share one log.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import type { RecordedEvent } from '../../src/ledger/envelope.js';
import { FencedError, IdempotencyConflictError, InvalidEventError, WrongExpectedRevisionError } from '../../src/ledger/errors.js';
import type { EventStore } from '../../src/ledger/event-store.port.js';
import { ev } from '../support/events.js';
import { GENESIS_HASH, logChainHash } from '../../src/ledger/hash-chain.js';
import { verifyLog } from '../../src/ledger/verify.js';

export interface ContractTarget {
  store: EventStore;
  cleanup(): Promise<void>;
}

const sid = (p = 's') => `${p}-${randomUUID().slice(0, 8)}`;

export interface ContractOptions {
  /**
   * Whether the store refuses an event id already used in another stream. PostgreSQL does (ids
   * are unique in the log); EventStoreDB has no index by event id (docs/decisions/0003).
   */
  uniqueIdsAcrossStreams?: boolean;
  /**
   * Registers each case instead of vitest's `it` (the stand-in's mutation tests register the
   * cases a mutation must break as `it.fails`, and leave the others out).
   */
  register?: (name: string, fn: () => Promise<void>) => void;
}

export function eventStoreContract(name: string, open: () => Promise<ContractTarget>, opts: ContractOptions = {}) {
  describe(`event store contract: ${name}`, () => {
    const it = (caseName: string, fn: () => Promise<void>) => (opts.register ? opts.register(caseName, fn) : vitestIt(caseName, fn, 120_000)); // room for a loaded CI machine
    let target: ContractTarget;
    let store: EventStore;
    beforeAll(async () => {
      target = await open();
      store = target.store;
    });
    afterAll(async () => {
      await target?.cleanup();
    });

    it('honours a fence (stream still at a revision) inside the append, or refuses one it cannot check', async () => {
      const fenceStream = sid('leader');
      const s = sid();
      await store.append(fenceStream, [ev('Led', { n: 0 })], 'no_stream');
      if (!store.supportsFence) {
        // EventStoreDB: no cross-stream condition; a fenced append is refused, never written unfenced.
        await expect(store.append(s, [ev('A', {})], 'any', { fence: { stream: fenceStream, revision: 0n } })).rejects.toBeInstanceOf(InvalidEventError);
        expect(await store.readStream(s)).toEqual([]);
        return;
      }
      const ok = await store.append(s, [ev('A', {})], 'no_stream', { fence: { stream: fenceStream, revision: 0n } });
      expect(ok.nextRevision).toBe(0n);
      await store.append(fenceStream, [ev('Led', { n: 1 })], 0n); // a new leader
      const late = store.append(s, [ev('B', {})], 0n, { fence: { stream: fenceStream, revision: 0n } });
      await expect(late).rejects.toBeInstanceOf(FencedError);
      await expect(late).rejects.toMatchObject({ code: 'FENCED', actual: 1n, fence: { stream: fenceStream, revision: 0n } });
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A']);
      // A fence on a stream that does not exist holds at -1 only.
      await expect(store.append(s, [ev('C', {})], 0n, { fence: { stream: sid('none'), revision: 0n } })).rejects.toMatchObject({ actual: -1n });
      // Several appends in flight at once: the fenced one fails alone, the others are written.
      const results = await Promise.allSettled([
        store.append(sid(), [ev('D', {})], 'no_stream', { fence: { stream: fenceStream, revision: 1n } }),
        store.append(sid(), [ev('E', {})], 'no_stream', { fence: { stream: fenceStream, revision: 0n } }),
        store.append(sid(), [ev('F', {})], 'no_stream'),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      // A takeover and the old leader's append in flight together (one group where the store
      // groups appends): the append after the takeover sees it and is fenced.
      const taken = await Promise.allSettled([
        store.append(sid(), [ev('Filler', {})], 'no_stream'), // in flight while the next two queue together
        store.append(fenceStream, [ev('Led', { n: 2 })], 1n),
        store.append(sid(), [ev('G', {})], 'no_stream', { fence: { stream: fenceStream, revision: 1n } }),
      ]);
      expect(taken.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
      expect((taken[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'FENCED', actual: 2n });
    });

    it('appends and reads a stream forward and backward with revisions', async () => {
      const s = sid();
      const r1 = await store.append(s, [ev('A', { i: 0 }), ev('B', { i: 1 })], 'no_stream');
      expect(r1.nextRevision).toBe(1n);
      const r2 = await store.append(s, [ev('C', { i: 2 })], 1n);
      expect(r2.nextRevision).toBe(2n);
      expect(r2.position).toBeGreaterThan(r1.position);
      const fwd = await store.readStream(s);
      expect(fwd.map((e) => e.type)).toEqual(['A', 'B', 'C']);
      expect(fwd.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
      const back = await store.readStream(s, { direction: 'backward', maxCount: 2 });
      expect(back.map((e) => e.type)).toEqual(['C', 'B']);
      const from1 = await store.readStream(s, { fromRevision: 1n });
      expect(from1.map((e) => e.type)).toEqual(['B', 'C']);
      expect(await store.readStream(sid('missing'))).toEqual([]);
    });

    it('keeps the envelope: ids, metadata, times and payload round-trip', async () => {
      const s = sid();
      const e = ev('Enveloped', { amount: '123456789012345678901234567890', nested: { ok: true, list: [1, 2, 3] } });
      e.metadata = { correlationId: 'corr-x', causationId: 'cause-y', actor: 'operator:alice', tenant: 'desk-1' };
      await store.append(s, [e], 'any');
      const [got] = await store.readStream(s);
      expect(got.id).toBe(e.id);
      expect(got.metadata).toEqual(e.metadata);
      expect(got.recordedAt).toBe(e.recordedAt);
      expect(got.payload).toEqual(e.payload);
      expect(got.version).toBe(1);
      expect(got.streamId).toBe(s);
      expect(got.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(got.prevHash).toBe('0'.repeat(64));
    });

    it('rejects a wrong expected revision with a typed error and writes nothing', async () => {
      const s = sid();
      await store.append(s, [ev()], 'no_stream');
      await expect(store.append(s, [ev()], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await expect(store.append(s, [ev(), ev()], 5n)).rejects.toMatchObject({ actual: 0n, streamId: s });
      await expect(store.append(sid('new'), [ev()], 'exists')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await expect(store.append(sid('new'), [ev()], 0n)).rejects.toMatchObject({ actual: -1n });
      expect(await store.readStream(s)).toHaveLength(1);
      await store.append(s, [ev()], 'exists');
      await store.append(s, [ev()], 'any');
      expect(await store.readStream(s)).toHaveLength(3);
    });

    it('lets exactly one of many concurrent writers win the same expected revision', async () => {
      const s = sid();
      await store.append(s, [ev()], 'no_stream');
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => store.append(s, [ev('Race'), ev('Race')], 0n)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(WrongExpectedRevisionError);
      expect(await store.readStream(s)).toHaveLength(3);
    });

    it('is idempotent: re-appending the same event ids succeeds without duplicating', async () => {
      const s = sid();
      const batch = [ev('I1'), ev('I2')];
      const first = await store.append(s, batch, 'no_stream');
      const again = await store.append(s, batch, 'no_stream');
      expect(again.nextRevision).toBe(first.nextRevision);
      expect(again.position).toBe(first.position);
      expect(again.duplicate).toBe(true);
      const concurrent = await Promise.all([store.append(s, [batch[0], batch[1]], 'any'), store.append(s, batch, 'any')]);
      expect(concurrent.every((r) => r.nextRevision === 1n)).toBe(true);
      expect(await store.readStream(s)).toHaveLength(2);
    });

    it("answers with each event's own position, as a reader sees it, for a write and for a re-append", async () => {
      const s = sid();
      await store.append(sid('other'), [ev('P0')], 'no_stream'); // positions need not start anywhere in particular
      const batch = [ev('P1'), ev('P2'), ev('P3')];
      const written = await store.append(s, batch, 'no_stream');
      await store.append(sid('other'), [ev('P4')], 'no_stream'); // another write between: the found ones are not the head
      const again = await store.append(s, batch, 'no_stream');
      const read = (await store.readStream(s)).map((e) => e.position);
      expect(written.positions).toEqual(read);
      expect(written.position).toBe(read[2]);
      expect(again.duplicate).toBe(true);
      expect(again.positions).toEqual(read);
    });

    it('refuses to reuse some event ids of another append', async () => {
      const s = sid();
      const a = ev('X');
      await store.append(s, [a], 'any');
      await expect(store.append(s, [a, ev('Y')], 'any')).rejects.toBeInstanceOf(IdempotencyConflictError);
      if (opts.uniqueIdsAcrossStreams ?? true) {
        await expect(store.append(sid(), [a], 'any')).rejects.toBeInstanceOf(IdempotencyConflictError);
      }
      expect(await store.readStream(s)).toHaveLength(1);
    });

    it('refuses bad input with clear errors and writes nothing', async () => {
      const s = sid();
      await expect(store.append(s, [], 'any')).rejects.toBeInstanceOf(InvalidEventError);
      await expect(store.append('bad stream id!', [ev()], 'any')).rejects.toThrow(/stream id/);
      await expect(store.append(s, [ev('T', { price: 1.5 })], 'any')).rejects.toThrow(/write amounts as strings/);
      await expect(store.append(s, [ev('T', { n: 1n })], 'any')).rejects.toThrow(/bigint/);
      await expect(store.append(s, [{ ...ev(), id: 'nope' }], 'any')).rejects.toThrow(/not a UUID/);
      const dup = ev();
      await expect(store.append(s, [dup, dup], 'any')).rejects.toThrow(/appears twice/);
      await expect(store.append(s, [ev('TestAmountRecorded', { mint: 'SOL', amount: 12 })], 'any')).rejects.toThrow(
        /payload.amount must be an integer amount/,
      );
      await expect(store.append(s, [ev('T', { s: 'a\u0000b' })], 'any')).rejects.toThrow(/NUL/);
      expect(await store.readStream(s)).toEqual([]);
    });

    it('stores large payloads and unicode exactly', async () => {
      const s = sid();
      const big = 'x'.repeat(1_000_000);
      const text = 'Zürich — 東京 — עברית — 🚀🌕 — \u2028 — "quoted" \\ back';
      await store.append(s, [ev('Big', { big }), ev('Uni', { text, [text]: text })], 'no_stream');
      const [a, b] = await store.readStream(s);
      expect((a.payload as { big: string }).big.length).toBe(1_000_000);
      expect(b.payload).toEqual({ text, [text]: text });
    });

    it('reads the global log in position order, filtered by type and stream prefix, from mid-log', async () => {
      const prefix = `flt${randomUUID().slice(0, 6)}`;
      const type = `Only${randomUUID().slice(0, 6)}`;
      await store.append(`${prefix}-1`, [ev(type), ev('Other')], 'any');
      await store.append(sid('elsewhere'), [ev(type)], 'any');
      await store.append(`${prefix}-2`, [ev('Other'), ev(type)], 'any');
      const byPrefix = await readEverything(store, { streamPrefix: prefix });
      expect(byPrefix.map((e) => e.type)).toEqual([type, 'Other', 'Other', type]);
      const byType = await readEverything(store, { eventTypes: [type] });
      expect(byType).toHaveLength(3);
      const both = await readEverything(store, { eventTypes: [type], streamPrefix: prefix });
      expect(both).toHaveLength(2);
      // A reader that starts mid-log sees exactly what follows its checkpoint.
      const mid = byPrefix[1].position;
      const rest = (await readEverything(store, { streamPrefix: prefix }, mid)).map((e) => e.id);
      expect(rest).toEqual(byPrefix.slice(2).map((e) => e.id));
      expect(await store.headPosition()).toBeGreaterThanOrEqual(byPrefix[3].position);
    });

    it('under many concurrent writers a subscriber sees every event once, in increasing positions', async () => {
      const prefix = `ord${randomUUID().slice(0, 6)}`;
      const start = await store.headPosition();
      const seen: RecordedEvent[] = [];
      const writers = 8;
      const perWriter = 40;
      const total = writers * perWriter * 2;
      let resolveAll!: () => void;
      const all = new Promise<void>((r) => (resolveAll = r));
      const sub = store.subscribeToAll({
        after: start,
        filter: { streamPrefix: prefix },
        batchSize: 37,
        onEvents: async (events) => {
          seen.push(...events);
          if (seen.length >= total) resolveAll();
        },
      });
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) {
            await store.append(`${prefix}-${w}-${i % 5}`, [ev('W', { w, i }), ev('W', { w, i })], 'any');
          }
        }),
      );
      await Promise.race([all, new Promise((_, rej) => setTimeout(() => rej(new Error(`saw ${seen.length}/${total}`)), 20_000))]);
      await new Promise((r) => setTimeout(r, 200));
      await sub.stop();
      expect(seen).toHaveLength(total);
      expect(new Set(seen.map((e) => e.id)).size).toBe(total);
      for (let i = 1; i < seen.length; i++) expect(seen[i].position > seen[i - 1].position).toBe(true);
      // Per stream, revisions arrive in order too.
      const lastRev = new Map<string, bigint>();
      for (const e of seen) {
        const prev = lastRev.get(e.streamId) ?? -1n;
        expect(e.revision).toBe(prev + 1n);
        lastRev.set(e.streamId, e.revision);
      }
    });

    it('chains hashes per stream', async () => {
      const s = sid();
      await store.append(s, [ev(), ev()], 'any');
      await store.append(s, [ev()], 'any');
      const events = await store.readStream(s);
      expect(events[1].prevHash).toBe(events[0].hash);
      expect(events[2].prevHash).toBe(events[1].hash);
    });

    it('chains the whole log: logHead is the global chain over readAll in order, and verify passes', async () => {
      const s = sid();
      await store.append(s, [ev(), ev()], 'no_stream');
      const before = await store.logHead();
      let hash = GENESIS_HASH;
      let position = 0n;
      for (const e of await readEverything(store, {})) {
        hash = logChainHash(hash, e.position, e.hash);
        position = e.position;
        // Where the store keeps the global chain, each event carries its link.
        if (e.logHash !== undefined) expect(e.logHash).toBe(hash);
      }
      expect(before).toEqual({ position, hash });
      const r = await store.append(sid(), [ev()], 'no_stream');
      const after = await store.logHead();
      expect(after.position).toBe(r.position);
      const [last] = await store.readAll({ after: position, maxCount: 10 });
      expect(after.hash).toBe(logChainHash(hash, last.position, last.hash));
      const verified = await verifyLog(store);
      expect(verified.failures).toEqual([]);
      expect(verified.logHead).toEqual(after);
    });

    it("keeps stream heads verify can hold the events to (where the store keeps any)", async () => {
      const s = sid();
      await store.append(s, [ev(), ev()], 'no_stream');
      const events = await store.readStream(s);
      const book = store.bookkeeping;
      if (book === null) {
        // EventStoreDB: nothing beside the events; verify says which checks it ran.
        expect((await verifyLog(store, { streamId: s })).checks).not.toContain('stream head');
        return;
      }
      expect(await book.streamHead(s)).toEqual({ streamId: s, revision: 1n, hash: events[1].hash, position: events[1].position });
      expect(await book.streamHead(sid('none'))).toBeNull();
      expect(await verifyLog(store, { streamId: sid('none') })).toMatchObject({ ok: false, failure: { kind: 'no-such-stream' } });
    });
  });
}

async function readEverything(store: EventStore, filter: { eventTypes?: string[]; streamPrefix?: string }, after = 0n) {
  const out: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readAll({ after, maxCount: 2, filter });
    if (!page.length) return out;
    out.push(...page);
    after = page[page.length - 1].position;
  }
}
