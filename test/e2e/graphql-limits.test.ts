// GraphQL is bounded before it runs, and the server stays responsive while it refuses: each
// hostile query is sent to a real server in its own process while /health is asked at the same
// time; /health must answer within a second and the query must get a clear error. Covers the
// document gate (size, tokens, aliases, fragment spreads, expanded fields, introspection roots),
// the time budget, the response-size cap, storable strings, internal errors without raw database
// text, and GraphiQL served without a CDN.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueApiKey } from '../../src/api/auth/api-keys.js';
import { buildEventRegistry } from '../../src/event-catalog.js';
import { newEvent } from '../../src/ledger/event-types.js';
import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { ProjectionRebuildRequested, projectionStreamId } from '../../src/projections/events.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startServerChild, whileInFlight, type ServerChild } from '../support/server-child.js';

const BUDGET_MS = 1500;
const MAX_RESPONSE_BYTES = 200_000;

describe('GraphQL bounded before execution', () => {
  let db: TestDatabase;
  let server: ServerChild;
  let auth: Record<string, string>;

  beforeAll(async () => {
    db = await freshDatabase();
    const { key } = await issueApiKey(db.sql, 'viewer', 'limits test');
    auth = { authorization: `Bearer ${key}` };
    // A stream whose history is larger than the response cap.
    const store = new PostgresEventStore(db.sql, buildEventRegistry());
    const reason = 'r'.repeat(1500);
    const events = Array.from({ length: 300 }, () =>
      newEvent(ProjectionRebuildRequested, { projection: 'executions', actor: 'test', reason }, { correlationId: 'c', causationId: null, actor: 'test', tenant: 'default' }),
    );
    await store.append(projectionStreamId('big_history'), events, 'no_stream');
    server = await startServerChild({
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-gql-limits-')),
      GRAPHQL_TIME_BUDGET_MS: String(BUDGET_MS),
      GRAPHQL_MAX_RESPONSE_BYTES: String(MAX_RESPONSE_BYTES),
      RATE_LIMIT_PER_KEY_PER_MINUTE: '0',
    });
  }, 240_000);
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  const post = async (query: string, variables?: Record<string, unknown>) => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as { data?: any; errors?: { message: string; extensions?: any }[] } };
  };

  /** Sends the query with /health in flight; expects /health to answer and the query an error. */
  async function refusedWhileResponsive(query: string, message: RegExp, variables?: Record<string, unknown>) {
    const r = await whileInFlight(server.url, () => post(query, variables));
    expect(r.health, 'GET /health answered within a second while the bad query was in flight').toBe(200);
    expect(r.bad.body.errors?.[0]?.message).toMatch(message);
    expect(r.bad.body.data ?? null).toBeNull();
    return r.bad;
  }

  it('refuses nested fragments that expand to billions of fields without walking them', async () => {
    // F20 spreads F19 twice, ... F1 spreads F0 twice: 2^20 copies of one field in 1 KB of text
    // (41 spreads, under the spread limit: the expansion is what gets it refused).
    const frags = ['fragment F0 on Query { headPosition }'];
    for (let i = 1; i <= 20; i++) frags.push(`fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`);
    const r = await refusedWhileResponsive(`query { ...F20 } ${frags.join(' ')}`, /expands to \d+ fields once its fragments are spread, above the limit of 5000/);
    expect(r.status).toBe(400);
    expect(r.body.errors![0].extensions.code).toBe('QUERY_LIMIT');
  });

  it('refuses a document with too many tokens, too many aliases, too many spreads or too many bytes', async () => {
    const tokens = await refusedWhileResponsive(`{ engine { ${'mode '.repeat(6000)} } }`, /more than 5000 tokens/);
    expect(tokens.status).toBe(400);
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: headPosition`).join(' ');
    expect((await refusedWhileResponsive(`{ ${aliases} }`, /31 aliased fields, above the limit of 30/)).status).toBe(400);
    const spreads = Array.from({ length: 51 }, () => '...H').join(' ');
    expect((await refusedWhileResponsive(`{ ${spreads} } fragment H on Query { headPosition }`, /51 fragment spreads, above the limit of 50/)).status).toBe(400);
    const big = `# ${'x'.repeat(40_000)}\n{ headPosition }`;
    expect((await refusedWhileResponsive(big, /query is \d+ bytes, above the limit of 32768/)).status).toBe(400);
  });

  it('counts introspection like any field: one __schema per request, aliases do not make it free', async () => {
    const copies = Array.from({ length: 20 }, (_, i) => `s${i}: __schema { types { name fields { name type { name } } } }`).join(' ');
    const r = await refusedWhileResponsive(`{ ${copies} }`, /asks for __schema 20 times; at most 1 per request/);
    expect(r.status).toBe(400);
    const types = Array.from({ length: 11 }, (_, i) => `t${i}: __type(name: "Query") { name }`).join(' ');
    await refusedWhileResponsive(`{ ${types} }`, /asks for __type 11 times; at most 10/);
    // One full introspection, as GraphiQL sends it, is fine.
    const { getIntrospectionQuery } = await import('graphql');
    const intro = await post(getIntrospectionQuery());
    expect(intro.body.errors).toBeUndefined();
    expect(intro.body.data.__schema.types.length).toBeGreaterThan(10);
  });

  it('stops a request that runs past its time budget with a clear error, /health answering meanwhile', async () => {
    // A transaction holding an exclusive lock on the read model makes the query wait on it.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE executions IN ACCESS EXCLUSIVE MODE');
      const release = setTimeout(() => void locker.query('ROLLBACK').catch(() => undefined), BUDGET_MS + 5000);
      const r = await refusedWhileResponsive('{ executions(first: 1) { items { status } } }', new RegExp(`took longer than the ${BUDGET_MS} ms budget`));
      clearTimeout(release);
      expect(r.status).toBe(503);
      expect(r.body.errors![0].extensions.code).toBe('TIME_BUDGET_EXCEEDED');
      // The server itself gave the statement up (statement_timeout of GraphQL's own pool): while
      // the lock is still held, no GraphQL query is left waiting on it.
      const waiting = async () =>
        (await db.sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_stat_activity WHERE application_name = 'arbiter-graphql' AND state = 'active'`)).rows[0].n;
      let left = await waiting();
      for (let i = 0; i < 30 && left !== '0'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        left = await waiting();
      }
      expect(left, 'GraphQL statements still running on the server after the budget').toBe('0');
      const locks = await db.sql.query(`SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'arbiter-graphql' AND NOT l.granted`);
      expect(locks.rows).toEqual([]);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
    // After the lock is gone the same query answers.
    expect((await post('{ executions(first: 1) { items { status } } }')).body.errors).toBeUndefined();
  });

  it('refuses a response larger than the cap instead of sending it', async () => {
    const q = `{ history(streamId: "${projectionStreamId('big_history')}") { type payload } }`;
    const r = await refusedWhileResponsive(q, new RegExp(`above the limit of ${MAX_RESPONSE_BYTES}`));
    expect(r.status).toBe(413);
    expect(r.text.length).toBeLessThan(2000);
    expect(r.body.errors![0].extensions.code).toBe('RESPONSE_TOO_LARGE');
  });

  it('answers 400 naming the argument or variable for strings PostgreSQL cannot store', async () => {
    const nul = await post('{ executions(token: "a\\u0000b") { items { status } } }');
    expect(nul.status).toBe(400);
    expect(nul.body.errors![0].message).toMatch(/argument token must not contain the NUL character/);
    const lone = await post('query($t: String) { executions(token: $t) { items { status } } }', { t: 'x\ud800y' });
    expect(lone.status).toBe(400);
    expect(lone.body.errors![0].message).toMatch(/variable \$t must not contain an unpaired UTF-16 surrogate/);
  });

  it('says what failed without the raw database text', async () => {
    await db.sql.query('ALTER VIEW pnl_daily RENAME TO pnl_daily_gone');
    try {
      const r = await post('{ pnlDaily(first: 1) { items { day } } }');
      const msg = r.body.errors?.[0]?.message ?? '';
      expect(msg).toMatch(/an internal error happened while reading pnlDaily; it was logged with correlation id \S+/);
      expect(msg).not.toMatch(/relation "|does not exist|pnl_daily/);
      expect(r.body.errors![0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      await db.sql.query('ALTER VIEW pnl_daily_gone RENAME TO pnl_daily');
    }
  });

  it('serves GraphiQL and its scripts from the app itself, with no CDN', async () => {
    const page = await fetch(`${server.url}/graphiql`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await page.text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    for (const ref of refs) {
      expect(ref, `${ref} is served by the app`).toMatch(/^\//);
      const asset = await fetch(new URL(ref, server.url));
      expect(asset.status, ref).toBe(200);
      const text = await asset.text();
      expect(text, `${ref} loads nothing from a CDN`).not.toMatch(/unpkg\.com|esm\.sh|cdn\.jsdelivr/);
    }
  });
});
