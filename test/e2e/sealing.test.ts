// The app seals its own log: with SEAL_EVERY_EVENTS=3 it appends one LedgerSealed after three
// events, signed by a development seal key of its own (not the trading key), and no more while
// nothing new arrives. A seal key equal to the trading key stops the start.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { newEvent } from '../../src/ledger/event-types.js';
import { SEAL_STREAM, type LedgerSealedPayload } from '../../src/ledger/sealing/seal.js';
import { verifyLog } from '../../src/ledger/verify.js';
import { ApiKeyRevoked, apiKeyStreamId } from '../../src/api/auth/events.js';
import { SIGNER, type Signer } from '../../src/signing/signer.port.js';
import { createKeystore } from '../../src/signing/keystore/keystore-signer.js';
import { startApp } from '../support/app.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sealing in the running app', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(() => db.drop());

  it('seals after SEAL_EVERY_EVENTS events with a key of its own, and not again while nothing is new', { timeout: 60_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbiter-seal-e2e-'));
    const app = await startApp({ DATABASE_URL: db.url, ARBITER_DATA_DIR: dataDir, SEAL_EVERY_EVENTS: '3', SEAL_EVERY_SECONDS: '3600', SEAL_CHECK_MS: '50' });
    try {
      const store = app.app.get<EventStore>(EVENT_STORE);
      const trading = app.app.get<Signer>(SIGNER);
      const meta = { correlationId: 'c', causationId: null, actor: 'test', tenant: 'default' };
      for (let i = 0; i < 3; i++) {
        await store.append(apiKeyStreamId(`key00000000${i}`), [newEvent(ApiKeyRevoked, { keyId: `key00000000${i}`, actor: 'test', reason: 'test' }, meta)], 'any');
      }
      let seals = await store.readStream(SEAL_STREAM);
      for (let i = 0; i < 200 && seals.length === 0; i++) {
        await sleep(50);
        seals = await store.readStream(SEAL_STREAM);
      }
      expect(seals).toHaveLength(1);
      const p = seals[0].payload as LedgerSealedPayload;
      expect(p.position).toBe('3');
      expect(p.publicKey).not.toBe(await trading.publicKeyBase58());
      expect(p.keyId).not.toBe(trading.keyId);
      await sleep(500); // ten more looks with only the seal new
      expect(await store.readStream(SEAL_STREAM)).toHaveLength(1);
      expect(await verifyLog(store)).toMatchObject({ ok: true, sealsChecked: 1 });
    } finally {
      await app.close();
    }
  });

  it('refuses to start when the seal key is the trading key', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-seal-same-'));
    const path = join(dir, 'keystore.json');
    await createKeystore(path, 'pass phrase', { scryptN: 1024 });
    // Through `npm start`'s entry point: Nest ends the process on a failed start.
    const r = spawnSync(process.execPath, ['--import', './test/support/ts-loader.mjs', 'src/main.ts'], {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { ...process.env, DATABASE_URL: db.url, ARBITER_DATA_DIR: dir, PORT: '0', KEYSTORE_PATH: path, KEYSTORE_PASSPHRASE: 'pass phrase', SEAL_KEYSTORE_PATH: path, SEAL_KEYSTORE_PASSPHRASE: 'pass phrase', ENGINE_AUTOSTART: 'false' },
      encoding: 'utf8',
      timeout: 50_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/the seal key is the trading key/);
  });
});
