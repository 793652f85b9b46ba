// The event store contract on EventStoreDB. With EVENTSTORE_URL unset (every CI run: no
// EventStoreDB server can be installed on the project's machines) it runs against the
// EventStoreDB protocol stand-in (test/stand-ins/eventstoredb-server.ts), once with BatchAppend
// (what real servers offer) and once with plain Append; with EVENTSTORE_URL set it runs against
// that server instead. Plus how the adapter fails when no server answers, which needs no server.
import { describe, expect, it } from 'vitest';
import { EventStoreUnavailableError } from '../../src/ledger/errors.js';
import type { EventStore } from '../../src/ledger/event-store.port.js';
import { EventStoreDbEventStore } from '../../src/ledger/eventstoredb/eventstoredb-event-store.js';
import { openEventStoreDb } from '../../src/ledger/eventstoredb/open.js';
import { ev, testRegistry } from '../support/events.js';
import { startEventStoreDbStandIn } from '../stand-ins/eventstoredb-server.js';
import { eventStoreContract } from './event-store.contract.js';

const realServer = process.env.EVENTSTORE_URL;

if (realServer) {
  eventStoreContract(
    `EventStoreDB at EVENTSTORE_URL`,
    async () => {
      const store = await EventStoreDbEventStore.connect(realServer, testRegistry());
      return { store, cleanup: () => store.close() };
    },
    { uniqueIdsAcrossStreams: false },
  );
} else {
  for (const appendMode of ['batch', 'append'] as const) {
    eventStoreContract(
      `EventStoreDB protocol stand-in (${appendMode === 'batch' ? 'Streams/BatchAppend' : 'Streams/Append'})`,
      async () => {
        const server = await startEventStoreDbStandIn({ appendMode });
        const store = await EventStoreDbEventStore.connect(server.url, testRegistry());
        return {
          store,
          cleanup: async () => {
            await store.close();
            await server.close();
          },
        };
      },
      { uniqueIdsAcrossStreams: false },
    );
  }
}

describe('EventStoreDB adapter without a server', () => {
  // Nothing listens on port 1: connections are refused at once. The short deadline bounds any
  // call that would otherwise wait.
  const url = 'esdb://admin:s3cret-pw@127.0.0.1:1?tls=false&defaultDeadline=2000';

  const expectUnavailable = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EventStoreUnavailableError);
    const message = (err as Error).message;
    expect(message).toContain('127.0.0.1:1');
    expect(message).not.toContain('s3cret-pw');
  };

  it('rejects append, reads and headPosition with EventStoreUnavailableError naming the server', { timeout: 10_000 }, async () => {
    const store: EventStore = await openEventStoreDb(url, testRegistry());
    try {
      expect(store.name).toBe('eventstoredb');
      await expectUnavailable(store.append('s-unavailable', [ev()], 'any'));
      await expectUnavailable(store.append('s-unavailable', [ev()], 0n));
      await expectUnavailable(store.readStream('s-unavailable'));
      await expectUnavailable(store.readAll({ maxCount: 10 }));
      await expectUnavailable(store.headPosition());
    } finally {
      await store.close();
    }
  });

  it('still refuses bad input before touching the network', async () => {
    const store = await EventStoreDbEventStore.connect(url, testRegistry());
    try {
      await expect(store.append('bad stream id!', [ev()], 'any')).rejects.toThrow(/stream id/);
      await expect(store.append('s-1', [ev('T', { price: 1.5 })], 'any')).rejects.toThrow(/write amounts as strings/);
    } finally {
      await store.close();
    }
  });

  it('reports a lost connection to the subscriber and stops cleanly', { timeout: 10_000 }, async () => {
    const store = await EventStoreDbEventStore.connect(url, testRegistry(), { resubscribeDelayMs: 50 });
    const errors: Error[] = [];
    let delivered = 0;
    let sawError!: () => void;
    const first = new Promise<void>((r) => (sawError = r));
    const sub = store.subscribeToAll({
      onEvents: () => {
        delivered++;
      },
      onError: (err) => {
        errors.push(err);
        sawError();
      },
    });
    await first;
    await sub.stop();
    const after = errors.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(errors.length).toBe(after);
    expect(errors[0]).toBeInstanceOf(EventStoreUnavailableError);
    expect(delivered).toBe(0);
    expect(sub.position).toBe(0n);
    await store.close();
  });

  it('rejects a malformed connection string with a clear message and no password', async () => {
    await expect(EventStoreDbEventStore.connect('esdb://admin:s3cret-pw@', testRegistry())).rejects.toThrow(/connection string "esdb:\/\/admin:\*\*\*@" is invalid/);
    await expect(EventStoreDbEventStore.connect('esdb://admin:s3cret-pw@', testRegistry())).rejects.not.toThrow(/s3cret-pw/);
  });

  it('accepts the kurrentdb:// scheme of the renamed server', async () => {
    const store = await EventStoreDbEventStore.connect('kurrentdb://127.0.0.1:1?tls=false', testRegistry());
    await expect(store.readStream('s-1')).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await store.close();
  });
});
