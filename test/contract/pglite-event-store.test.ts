import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { freshPglite } from '../support/db.js';
import { testRegistry } from '../support/events.js';
import { eventStoreContract } from './event-store.contract.js';

eventStoreContract('PGlite (embedded)', async () => {
  const sql = await freshPglite();
  return { store: new PostgresEventStore(sql, testRegistry(), { livePollMs: 200 }), cleanup: () => sql.close() };
});
