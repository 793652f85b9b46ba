// A command decided on a state the caller already has (decideAndAppend's `known`): no read of the
// stream, and a stale one is caught by the append's expected revision, never written over. The
// saga's shell keeps the state its own last append left (KnownSagas), per fencing token.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConcurrentCommandError, decideAndAppend } from '../../../src/ledger/decide-and-append.js';
import { engineFence, type EngineFenceContext } from '../../../src/ledger/leadership/fencing.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import type { RecordedEvent } from '../../../src/ledger/envelope.js';
import { KnownSagas } from '../../../src/trading/known-sagas.js';
import { initialSagaState, type SagaState } from '../../../src/trading/saga.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { ev, testRegistry } from '../../support/events.js';

let db: TestDatabase;
let store: PostgresEventStore;
beforeAll(async () => {
  db = await freshDatabase();
  store = new PostgresEventStore(db.sql, testRegistry());
});
afterAll(() => db.drop());

const count = (events: RecordedEvent[]) => events.length;

describe('decideAndAppend with a known state', () => {
  it('decides on the known state and appends at its revision without reading the stream', async () => {
    await store.append('known-1', [ev(), ev()], 'no_stream');
    const read = vi.spyOn(store, 'readStream');
    const seen: number[] = [];
    const r = await decideAndAppend(store, {
      streamId: 'known-1',
      known: { state: 2, revision: 1n },
      fold: count,
      decide: (n) => (seen.push(n), [ev()]),
    });
    expect(read).not.toHaveBeenCalled();
    read.mockRestore();
    expect(seen).toEqual([2]);
    expect(r.receipts.map((x) => x.revision)).toEqual(['2']);
    expect((await store.readStream('known-1')).length).toBe(3);
  });

  it('a stale known state is refused at the append: nothing is written over, and with a retry the stream is read and decided again', async () => {
    await store.append('known-2', [ev()], 'no_stream');
    await store.append('known-2', [ev()], 0n); // someone else's write after we last saw the stream
    await expect(
      decideAndAppend(store, { streamId: 'known-2', known: { state: 1, revision: 0n }, retries: 0, fold: count, decide: () => [ev()] }),
    ).rejects.toBeInstanceOf(ConcurrentCommandError);
    expect((await store.readStream('known-2')).length).toBe(2);
    const seen: number[] = [];
    await decideAndAppend(store, { streamId: 'known-2', known: { state: 1, revision: 0n }, retries: 1, fold: count, decide: (n) => (seen.push(n), [ev()]) });
    expect(seen).toEqual([1, 2]);
    expect((await store.readStream('known-2')).map((e) => e.revision)).toEqual([0n, 1n, 2n]);
  });

  it('an idempotent command (eventId) takes no known state: its check needs the stream', async () => {
    await expect(
      decideAndAppend(store, { streamId: 'known-3', eventId: '00000000-0000-4000-8000-000000000001', known: { state: 0, revision: -1n }, fold: count, decide: () => [ev()] }),
    ).rejects.toThrow(/takes no known state/);
  });
});

describe('KnownSagas', () => {
  const open = (id: string): SagaState => ({ ...initialSagaState(id), revision: 0n }) as SagaState;
  const underToken = <T>(revision: bigint, fn: () => T): T =>
    engineFence.run({ fence: { stream: 'engine-leader', revision }, mayAct: () => true, checkInStore: true, onFenced: () => undefined } as EngineFenceContext, fn);

  it('gives back the state written under the same fencing token only', () => {
    const known = new KnownSagas();
    underToken(7n, () => known.set('saga-a', open('a')));
    expect(underToken(7n, () => known.get('saga-a'))?.opportunityId).toBe('a');
    expect(underToken(8n, () => known.get('saga-a'))).toBeNull(); // another leadership may have written since
    expect(known.get('saga-a')).toBeNull(); // outside any engine context (HA off is its own token: none)
    known.set('saga-b', open('b'));
    expect(known.get('saga-b')?.opportunityId).toBe('b');
  });

  it('keeps no finished saga, and forgets on request', () => {
    const known = new KnownSagas();
    known.set('saga-c', open('c'));
    known.set('saga-c', { ...open('c'), phase: 'finished' } as SagaState);
    expect(known.get('saga-c')).toBeNull();
    known.set('saga-d', open('d'));
    known.forget('saga-d');
    expect(known.get('saga-d')).toBeNull();
  });
});
