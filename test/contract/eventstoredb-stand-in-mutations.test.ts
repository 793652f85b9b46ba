// Proof that the event store contract is sensitive to the EventStoreDB rules the stand-in
// mirrors: for each mutation switch of the EventStoreDB protocol stand-in, the contract cases it
// must break are run against a mutated stand-in as `it.fails` (vitest reports the test as failed
// if the case passes). A stand-in that drifted from the server on one of these points would
// therefore not go unnoticed by the contract suite.
import { describe, expect, it } from 'vitest';
import { EventStoreDbEventStore } from '../../src/ledger/eventstoredb/eventstoredb-event-store.js';
import { testRegistry } from '../support/events.js';
import { startEventStoreDbStandIn, type Mutations } from '../stand-ins/eventstoredb-server.js';
import { eventStoreContract } from './event-store.contract.js';

/** Which contract cases each mutation must make fail (names as in event-store.contract.ts). */
const SENSITIVE: Record<keyof Mutations, string[]> = {
  // One commit position per append: the adapter's position cursor then drops the append's
  // later events from $all reads (and subscriptions; that case is left out here only because it
  // fails by waiting out its 20 s deadline).
  sharedCommitPosition: ['reads the global log in position order, filtered by type and stream prefix, from mid-log'],
  // No optimistic concurrency: several writers win the same expected revision.
  noConcurrencyCheck: ['lets exactly one of many concurrent writers win the same expected revision'],
  // Backward reads in the wrong order: the read comes back wrong, and the adapter chains from
  // the wrong head.
  backwardReadsForward: ['appends and reads a stream forward and backward with revisions', 'chains hashes per stream'],
};

for (const [mutation, cases] of Object.entries(SENSITIVE) as [keyof Mutations, string[]][]) {
  const registered: string[] = [];
  eventStoreContract(
    `EventStoreDB protocol stand-in with the ${mutation} mutation`,
    async () => {
      const server = await startEventStoreDbStandIn({ mutations: { [mutation]: true } });
      const store = await EventStoreDbEventStore.connect(server.url, testRegistry());
      return {
        store,
        cleanup: async () => {
          await store.close();
          await server.close();
        },
      };
    },
    {
      uniqueIdsAcrossStreams: false,
      register: (name, fn) => {
        if (!cases.includes(name)) return;
        registered.push(name);
        it.fails(`${name} — fails under ${mutation}`, fn);
      },
    },
  );
  describe(`mutation ${mutation}`, () => {
    it('names contract cases that exist', () => {
      expect(registered.sort()).toEqual([...cases].sort());
    });
  });
}
