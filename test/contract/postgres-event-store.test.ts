import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { freshDatabase } from '../support/db.js';
import { testRegistry } from '../support/events.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('PostgreSQL', async () => {
  const db = await freshDatabase();
  return { store: new PostgresEventStore(db.sql, testRegistry(), { livePollMs: 200 }), cleanup: () => db.drop() };
});
