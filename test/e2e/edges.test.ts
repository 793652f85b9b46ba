// The API's edges end to end: rate limits per API key and per address (429 with Retry-After,
// /health exempt), in memory and shared through the local Redis server; failed authentications
// logged with the key id and address (never the secret) and counted; /metrics behind
// METRICS_TOKEN; /ready's detail only with a key; idempotency records bounded per key.
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { metricsExposureWarning } from '../../src/api/api.config.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { gql, startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { startServerChild } from '../support/server-child.js';
import { loadConfig } from '../../src/config/config.js';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const dataDir = () => mkdtempSync(join(tmpdir(), 'arbiter-edges-'));

describe('edges: rate limits, failed authentication, /metrics and /ready', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>>;

  beforeAll(async () => {
    db = await freshDatabase();
    app = await startApp({
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: dataDir(),
      RATE_LIMIT_PER_KEY_PER_MINUTE: '20',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '10',
      METRICS_TOKEN,
      REDIS_URL: undefined,
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });
  afterEach(() => vi.restoreAllMocks());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}`, { headers });

  it('limits each API key to its requests per minute: 429 with Retry-After, other keys unaffected', async () => {
    const a = await authHeaders(app.app, 'viewer');
    const b = await authHeaders(app.app, 'viewer');
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof gql>> | null = null;
    for (let i = 0; i < 21; i++) {
      last = await gql(app.url, '{ headPosition }', undefined, a);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(statuses[20]).toBe(429);
    expect(last!.body.errors![0].message).toMatch(/rate limit exceeded: 20 requests per minute for API key [a-z0-9]{12}; retry in \d+ s/);
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...a }, body: '{"query":"{ headPosition }"}' });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await gql(app.url, '{ headPosition }', undefined, b)).status).toBe(200);
  });

  it('logs a failed authentication with the key id and address, never the secret, and counts it', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const secret = randomBytes(32).toString('base64url');
    const res = await get('/keys', { authorization: `Bearer arb_zzzzzzzzzzzz_${secret}` });
    expect(res.status).toBe(401);
    const lines = warn.mock.calls.map((c) => String(c[0])).filter((l) => l.startsWith('authentication failed'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/API key id zzzzzzzzzzzz \(unknown or revoked\) from 127\.0\.0\.1 on GET \/keys/);
    expect(lines[0]).not.toContain(secret);
    const metrics = await (await get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` })).text();
    expect(metrics).toMatch(/^arbiter_auth_failures_total\{reason="unknown_or_revoked"\} 1$/m);
    expect(metrics).not.toContain(secret);
  });

  it('asks for METRICS_TOKEN on /metrics, and warns at start when it is open on a public address', async () => {
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    const ok = await get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/arbiter_auth_failures_total\{reason="bad_metrics_token"\} 2/);
    expect(metricsExposureWarning('0.0.0.0', { metricsToken: null })).toMatch(/\/metrics is open to anyone who can reach 0\.0\.0\.0.*set METRICS_TOKEN/);
    expect(metricsExposureWarning('::', { metricsToken: null })).not.toBeNull();
    expect(metricsExposureWarning('127.0.0.1', { metricsToken: null })).toBeNull();
    expect(metricsExposureWarning('0.0.0.0', { metricsToken: METRICS_TOKEN })).toBeNull();
  });

  it('shows /ready detail only to a caller with a key', async () => {
    const open = await (await get('/ready')).json();
    expect(open).toEqual({ status: 'ready' });
    const detailed: any = await (await get('/ready', await authHeaders(app.app, 'viewer'))).json();
    expect(detailed.status).toBe('ready');
    expect(detailed.checks.postgres).toMatch(/^ok/);
  });

  it('limits requests without a valid key per address, and never /health', async () => {
    let refused: Response | null = null;
    for (let i = 0; i < 12 && !refused; i++) {
      const r = await get('/docs/openapi.json');
      if (r.status === 429) refused = r;
      else expect(r.status).toBe(200);
    }
    expect(refused, 'an anonymous request was refused within 12 tries (limit 10 per minute)').not.toBeNull();
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused!.json()) as any).message).toMatch(/rate limit exceeded: 10 requests per minute for address 127\.0\.0\.1/);
    // Without TRUST_PROXY a forwarded-for header is not believed: it cannot buy a fresh limit.
    expect((await get('/docs/openapi.json', { 'x-forwarded-for': '198.51.100.7' })).status).toBe(429);
    for (let i = 0; i < 5; i++) expect((await get('/health')).status).toBe(200);
  });
});

describe('edges: behind a trusted reverse proxy (TRUST_PROXY)', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof startApp>>;

  beforeAll(async () => {
    db = await freshDatabase();
    app = await startApp({
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: dataDir(),
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3',
      TRUST_PROXY: '127.0.0.1,10.0.0.0/8',
      REDIS_URL: undefined,
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const from = (client: string) => fetch(`${app.url}/docs/openapi.json`, { headers: { 'x-forwarded-for': client } });

  it('limits each client address the proxy forwards for, not the proxy as one client', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await from('203.0.113.1')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await from('203.0.113.1');
    expect(((await refused.json()) as any).message).toMatch(/for address 203\.0\.113\.1/);
    // Another client behind the same proxy has its own limit.
    expect((await from('203.0.113.2')).status).toBe(200);
  });

  it('refuses a TRUST_PROXY that is neither addresses nor a hop count, naming the bad part', () => {
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.1,proxy.local' })).toThrow(/TRUST_PROXY must be .*not an address or range: "proxy\.local"/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ TRUST_PROXY: '0' })).toThrow(/number of proxy hops must be 1–10/);
    expect(loadConfig({ TRUST_PROXY: '2' }).api.trustProxy).toBe(2);
    expect(loadConfig({}).api.trustProxy).toBe(false);
  });
});

describe('edges: limits shared through Redis, idempotency records bounded', () => {
  let db: TestDatabase;
  let a: Awaited<ReturnType<typeof startApp>>;
  let b: Awaited<ReturnType<typeof startApp>>;
  const prefix = `arbiter-test-${randomBytes(4).toString('hex')}:`;
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });

  beforeAll(async () => {
    db = await freshDatabase();
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: prefix,
      RATE_LIMIT_PER_KEY_PER_MINUTE: '6',
      IDEMPOTENCY_MAX_RECORDS_PER_KEY: '3',
      METRICS_TOKEN: undefined,
    };
    a = await startApp({ ...env, ARBITER_DATA_DIR: dataDir() });
    b = await startApp({ ...env, ARBITER_DATA_DIR: dataDir() });
    await redis.connect();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`).catch(() => []);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('two servers on one Redis share a key’s limit', async () => {
    const key = await authHeaders(a.app, 'viewer');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await gql(a.url, '{ headPosition }', undefined, key)).status);
    for (let i = 0; i < 3; i++) statuses.push((await gql(b.url, '{ headPosition }', undefined, key)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await gql(b.url, '{ headPosition }', undefined, key)).status).toBe(429);
    expect((await gql(a.url, '{ headPosition }', undefined, key)).status).toBe(429);
    const stored = await redis.keys(`${prefix}*`);
    expect(stored.some((k) => k.includes('key:'))).toBe(true);
  });

  it('keeps at most IDEMPOTENCY_MAX_RECORDS_PER_KEY answers per key; a dropped key’s retry writes nothing new', async () => {
    const op = await authHeaders(a.app, 'operator');
    const send = (path: string, idem: string) =>
      fetch(`${a.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': idem, ...op }, body: JSON.stringify({ reason: 'bound test' }) });
    for (let i = 0; i < 5; i++) expect((await send(i % 2 ? '/engine/resume' : '/engine/pause', `bound-${i}`)).status).toBe(200);
    const keyId = /^Bearer arb_([a-z0-9]{12})_/.exec(op.authorization)![1];
    const rows = await db.sql.query<{ idempotency_key: string }>('SELECT idempotency_key FROM api_idempotency WHERE key_id = $1 ORDER BY idempotency_key', [keyId]);
    expect(rows.rows.map((r) => r.idempotency_key)).toEqual(['bound-2', 'bound-3', 'bound-4']);
    const events = async () => Number((await db.sql.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0].n);
    const before = await events();
    expect((await send('/engine/pause', 'bound-0')).status).toBeLessThan(500);
    expect(await events()).toBe(before);
  });
});

describe('edges: the start-up warning for an open /metrics', () => {
  it('is logged when the server binds a public address without METRICS_TOKEN, not with one', async () => {
    const db = await freshDatabase();
    try {
      // LOG_LEVEL info: the warning comes before the "listening on" line, so that line means it was written.
      const started = async (s: Awaited<ReturnType<typeof startServerChild>>) => {
        for (let i = 0; i < 100 && !s.output().includes('listening on'); i++) await new Promise((r) => setTimeout(r, 100));
        await s.stop();
        expect(s.output()).toContain('listening on');
      };
      const open = await startServerChild({ DATABASE_URL: db.url, HOST: '0.0.0.0', METRICS_TOKEN: '', ARBITER_DATA_DIR: dataDir(), LOG_LEVEL: 'info' });
      await started(open);
      expect(open.output()).toMatch(/\/metrics is open to anyone who can reach 0\.0\.0\.0 .*set METRICS_TOKEN/);
      const closed = await startServerChild({ DATABASE_URL: db.url, HOST: '0.0.0.0', METRICS_TOKEN, ARBITER_DATA_DIR: dataDir(), LOG_LEVEL: 'info' });
      await started(closed);
      expect(closed.output()).not.toMatch(/\/metrics is open/);
    } finally {
      await db.drop();
    }
  }, 420_000); // two real server starts: slow on a loaded machine
});
