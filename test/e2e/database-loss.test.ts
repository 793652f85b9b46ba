// The database goes away under a running app (issue 9, finding 1): the app runs as its own
// process (src/main.ts) against a PostgreSQL cluster this test starts on another port, trading on
// the simulated market and the paper venue. Start-up while the server is down, every backend
// terminated (the LISTEN one too), an immediate stop, a freeze with SIGSTOP: the process stays
// up, /ready answers 503 within its bound while the database is away, and everything resumes by
// itself when it is back, with nothing lost or doubled.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgCluster, type PgCluster } from '../support/pg-cluster.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const HEALTH_TIMEOUT_MS = 1000;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
}

describe('the database goes away and comes back', () => {
  let cluster: PgCluster;
  let app: ChildProcess;
  let url: string;
  let output = '';
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  beforeAll(async () => {
    cluster = await createPgCluster();
  });
  afterAll(async () => {
    if (app && !exited) app.kill('SIGKILL');
    await cluster?.destroy();
  });

  const ready = async (timeoutMs: number) => {
    const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: (await res.json()) as { status: string; checks?: Record<string, string> } };
  };
  const alive = () => {
    expect(exited, `the app exited: ${output.slice(-3000)}`).toBeNull();
  };
  const query = async <T>(text: string): Promise<T[]> => {
    const c = new pg.Client({ connectionString: cluster.url });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return (await c.query(text)).rows as T[];
    } finally {
      await c.end();
    }
  };
  const sagaCount = async () => Number((await query<{ n: string }>(`SELECT count(*) AS n FROM events WHERE event_type = 'OpportunityDetected'`))[0].n);

  it('stays up, says 503 while it is away, and resumes by itself', async () => {
    // 1. Start-up while the server is down: the app waits (with a log line), it does not exit.
    await cluster.stop('immediate');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    app = spawn(process.execPath, ['--import', './test/support/ts-loader.mjs', 'src/main.ts'], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: cluster.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-dbloss-')),
        ENGINE_AUTOSTART: 'true',
        SIM_SEED: '9',
        SIM_OPPORTUNITIES_PER_MINUTE: '600',
        RISK_MIN_PROFIT_BASE_UNITS: '0',
        RISK_MAX_ORDERS_PER_MINUTE: '100000',
        ENGINE_MAX_SAGA_AGE_MS: '600000',
        // After the outages a step may wait for the engine views to catch up: give the drain room to finish every saga.
        ENGINE_DRAIN_TIMEOUT_MS: '25000',
        SHUTDOWN_TIMEOUT_MS: '45000',
        DATABASE_HEALTH_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS),
        DATABASE_QUERY_TIMEOUT_MS: '5000',
        DATABASE_CONNECT_TIMEOUT_MS: '2000',
        DATABASE_STARTUP_TIMEOUT_MS: '120000',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.stdout!.on('data', (d) => (output += d));
    app.stderr!.on('data', (d) => (output += d));
    app.on('exit', (code, signal) => (exited = { code, signal }));
    await until('the start-up says it waits for PostgreSQL', async () => /waiting up to 120 s for it/.test(output), 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    alive();
    await cluster.start();
    await until('ready after the server started', async () => (await ready(5000)).status === 200, 90_000);
    await until('sagas recorded', async () => (await sagaCount()) >= 3, 60_000);

    // 2. Every backend terminated, the LISTEN connections too: no crash, LISTEN comes back.
    expect(await cluster.terminateBackends()).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 2000));
    alive();
    await until('LISTEN re-established', async () => (await cluster.listeners()) >= 1, 30_000);
    await until('ready after the backends were terminated', async () => (await ready(5000)).status === 200, 30_000);
    const beforeStop = await sagaCount();
    await until('trading goes on', async () => (await sagaCount()) > beforeStop, 30_000);

    // 3. Immediate stop: 503 within the bound of its checks, /health still answers.
    await cluster.stop('immediate');
    const down = await until('503 while stopped', async () => {
      const r = await ready(HEALTH_TIMEOUT_MS * 3);
      return r.status === 503 ? r : null;
    }, 20_000);
    // Without a key /ready says only whether it is ready; why is in the log.
    expect(down.body).toEqual({ status: 'not ready' });
    expect(output).toMatch(/PostgreSQL at .* is unreachable/);
    expect((await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3000));
    alive();
    await cluster.start();
    await until('ready after the restart', async () => (await ready(5000)).status === 200, 60_000);
    const afterRestart = await sagaCount();
    await until('trading resumes after the restart', async () => (await sagaCount()) > afterRestart, 30_000);

    // 4. Frozen (SIGSTOP): connections stay open and answer nothing. /ready still answers, 503.
    const outputBeforeFreeze = output.length;
    cluster.freeze();
    try {
      const frozen = await until('503 while frozen', async () => {
        const r = await ready(HEALTH_TIMEOUT_MS * 3);
        return r.status === 503 ? r : null;
      }, 20_000);
      expect(frozen.body).toEqual({ status: 'not ready' });
      expect(output.slice(outputBeforeFreeze)).toMatch(/unreachable|did not answer/);
      expect((await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 3000));
      alive();
    } finally {
      cluster.thaw();
    }
    await until('ready after the thaw', async () => (await ready(5000)).status === 200, 60_000);
    const afterThaw = await sagaCount();
    await until('trading resumes after the thaw', async () => (await sagaCount()) > afterThaw, 30_000);

    // 5. SIGTERM: the engine drains and the process exits by itself.
    app.kill('SIGTERM');
    await until('the app exits after SIGTERM', async () => exited, 50_000);
    expect(output).toMatch(/is unreachable/);
    expect(output).toMatch(/answers again/);
    // No saga gave up because the database was away.
    expect(output).not.toMatch(/could not resume saga|step failed \(5\/5\)/);

    // Nothing lost or doubled: contiguous positions and revisions, one event of each step per
    // saga, every saga finished, and the read model has every saga.
    const gaps = await query<{ n: string; max: string }>(`SELECT count(*) AS n, max(global_position) AS max FROM events`);
    expect(gaps[0].n).toBe(gaps[0].max);
    const doubled = await query(
      `SELECT stream_id, event_type, count(*) FROM events WHERE stream_id LIKE 'arbitrage-%' GROUP BY 1, 2 HAVING count(*) > 1`,
    );
    expect(doubled).toEqual([]);
    const revisions = await query(
      `SELECT stream_id FROM events GROUP BY stream_id HAVING max(stream_revision) + 1 <> count(*) OR min(stream_revision) <> 0`,
    );
    expect(revisions).toEqual([]);
    const unfinished = await query(
      `SELECT stream_id, string_agg(event_type, ' ' ORDER BY stream_revision) AS trail FROM events WHERE stream_id LIKE 'arbitrage-%' GROUP BY stream_id
        HAVING bool_and(event_type NOT IN ('QuoteFailed','FillConfirmed','FillFailed','TransactionExpired','OpportunityAbandoned'))
           AND NOT bool_or(event_type = 'RiskAssessed' AND payload->>'approved' = 'false')
           AND NOT bool_or(event_type = 'ComplianceScreened' AND payload->>'decision' = 'blocked')`,
    );
    expect(unfinished).toEqual([]);
    const sagas = await sagaCount();
    const rows = Number((await query<{ n: string }>(`SELECT count(*) AS n FROM executions`))[0].n);
    expect(rows).toBe(sagas);
  }, 360_000);
});
