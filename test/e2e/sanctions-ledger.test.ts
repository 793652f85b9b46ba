// The sanctions list lives in the ledger, so every node screens alike: the file feeds a
// SanctionsListActivated only when its content changed; a node started without the file screens
// with the list in force; the compliance role replaces it over REST. Also /ready and GraphQL
// show this node's engine role, holder and epoch (HA on, one node: it leads).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANCTIONS_LIST_STREAM } from '../../src/compliance/events.js';
import { SCREENING, type Screening } from '../../src/compliance/screening.port.js';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { startApp, gql } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

const A = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
const B = 'So11111111111111111111111111111111111111112';

describe('sanctions list in the ledger', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'arbiter-sanctions-'));
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('activates the file once, serves it to a node without the file, and takes a REST upload', async () => {
    const file = join(dir, 'sanctions.txt');
    writeFileSync(file, `# list\n${A}\n`);
    const env = { DATABASE_URL: db.url, ARBITER_DATA_DIR: dir, COMPLIANCE_SANCTIONS_FILE: file };
    let app = await startApp(env);
    const stream = async () => (await app.app.get<EventStore>(EVENT_STORE).readStream(SANCTIONS_LIST_STREAM)).map((e) => e.payload as { entries: string[]; source: string });
    expect((await stream()).map((p) => p.entries)).toEqual([[A]]);
    await app.close();

    // The same content again (other comments, a duplicate line): nothing new.
    writeFileSync(file, `# same list, reformatted\n${A}\n${A}\n`);
    app = await startApp(env);
    expect(await stream()).toHaveLength(1);
    await app.close();

    // A node without the file screens with the list in force.
    app = await startApp({ DATABASE_URL: db.url, ARBITER_DATA_DIR: dir, COMPLIANCE_SANCTIONS_FILE: undefined, ENGINE_HA: 'on' });
    try {
      const screening = app.app.get<Screening>(SCREENING);
      expect(screening.context().sanctions.has(A)).toBe(true);
      expect(screening.context().sanctions.has(B)).toBe(false);

      // The compliance role replaces it; the same list again changes nothing; a viewer may not.
      const put = (headers: Record<string, string>, entries: string[]) =>
        fetch(`${app.url}/compliance/sanctions-list`, {
          method: 'PUT',
          headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
          body: JSON.stringify({ reason: 'new list from the regulator', entries }),
        });
      const compliance = await authHeaders(app.app, 'compliance');
      const first = await put(compliance, [B, A]);
      expect(first.status).toBe(200);
      const body = (await first.json()) as { changed: boolean; size: number; event: { type: string } };
      expect(body).toMatchObject({ changed: true, size: 2, event: { type: 'SanctionsListActivated' } });
      const again = (await (await put(compliance, [A, B, B])).json()) as { changed: boolean; event: unknown };
      expect(again).toMatchObject({ changed: false, event: null });
      expect((await put(await authHeaders(app.app, 'viewer'), [])).status).toBe(403);
      expect((await put(compliance, ['has space'])).status).toBe(400);
      const entries = await stream();
      expect(entries.map((p) => p.entries)).toEqual([[A], [B, A].sort()]);
      expect(entries[1].source).toMatch(/^api:/);
      for (let i = 0; i < 100 && !screening.context().sanctions.has(B); i++) await new Promise((r) => setTimeout(r, 20));
      expect(screening.context().sanctions.has(B)).toBe(true);

      // Who runs the engine: this lone node leads, under the first lease epoch of this database.
      const viewer = await authHeaders(app.app, 'viewer');
      const ready = (await (await fetch(`${app.url}/ready`, { headers: viewer })).json()) as { engine: { role: string; epoch: string } };
      expect(ready.engine).toMatchObject({ role: 'leader' });
      const q = await gql(app.url, '{ engine { leadership { role holder epoch token fenced } } }', undefined, viewer);
      expect(q.body.errors).toBeUndefined();
      expect(q.body.data.engine.leadership).toMatchObject({ role: 'leader', fenced: true, epoch: ready.engine.epoch });
      expect(Number(q.body.data.engine.leadership.token)).toBeGreaterThanOrEqual(0);
    } finally {
      await app.close();
    }
  }, 120_000);
});
