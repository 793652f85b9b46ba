// Revoking an API key on the real PostgreSQL: the key row goes first (the key stops working at
// once), then its ApiKeyRevoked. When the append fails in between, the key stays revoked and a
// second revocation appends the missing event, exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueRecordedApiKey, authenticate, revokeRecordedApiKey } from '../../../src/api/auth/api-keys.js';
import { apiKeyStreamId } from '../../../src/api/auth/events.js';
import { buildEventRegistry } from '../../../src/event-catalog.js';
import type { EventStore } from '../../../src/ledger/event-store.port.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';

const meta = { correlationId: 'revocation-test', causationId: null, actor: 'test', tenant: 'default' };

describe('API key revocation', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;

  beforeAll(async () => {
    db = await freshDatabase();
    store = new PostgresEventStore(db.sql, buildEventRegistry());
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('revokes the row, then records the event; a second revocation finds nothing to do', async () => {
    const { key, keyId } = await issueRecordedApiKey(db.sql, store, { role: 'operator', label: 'desk', actor: 'test', metadata: meta });
    expect(await authenticate(db.sql, key)).toMatchObject({ keyId });
    const receipt = await revokeRecordedApiKey(db.sql, store, { keyId, actor: 'test', reason: 'left the desk', metadata: meta });
    expect(receipt).not.toBeNull();
    expect(await authenticate(db.sql, key)).toBeNull();
    expect((await store.readStream(apiKeyStreamId(keyId))).map((e) => e.type)).toEqual(['ApiKeyIssued', 'ApiKeyRevoked']);
    expect(await revokeRecordedApiKey(db.sql, store, { keyId, actor: 'test', reason: 'again', metadata: meta })).toBeNull();
    expect(await revokeRecordedApiKey(db.sql, store, { keyId: 'nosuchkey000', actor: 'test', reason: 'x', metadata: meta })).toBeNull();
  });

  it('fails closed when the event cannot be appended, and the next revocation records it once', async () => {
    const { key, keyId } = await issueRecordedApiKey(db.sql, store, { role: 'viewer', label: 'auditor', actor: 'test', metadata: meta });
    // The event store refuses the append (the database lost between the two steps, say).
    const failing: EventStore = Object.create(store, {
      append: { value: async () => Promise.reject(new Error('connection terminated unexpectedly')) },
    });
    await expect(revokeRecordedApiKey(db.sql, failing, { keyId, actor: 'test', reason: 'compromised', metadata: meta })).rejects.toThrow(/connection terminated/);
    expect(await authenticate(db.sql, key), 'the key no longer works although its event is missing').toBeNull();
    expect((await store.readStream(apiKeyStreamId(keyId))).map((e) => e.type)).toEqual(['ApiKeyIssued']);
    // Revoking again completes the record.
    const receipt = await revokeRecordedApiKey(db.sql, store, { keyId, actor: 'test', reason: 'compromised', metadata: meta });
    expect(receipt).not.toBeNull();
    expect(await revokeRecordedApiKey(db.sql, store, { keyId, actor: 'test', reason: 'compromised', metadata: meta })).toBeNull();
    const events = await store.readStream(apiKeyStreamId(keyId));
    expect(events.map((e) => e.type)).toEqual(['ApiKeyIssued', 'ApiKeyRevoked']);
    expect(events[1].payload).toMatchObject({ keyId, reason: 'compromised' });
  });
});
