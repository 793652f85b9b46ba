// On the embedded default (PGlite, one connection), `POST /projections/:name/rebuild` used to
// deadlock that connection: GraphQL, /ready and the engine hung and SIGTERM did not end the
// process (issue 9, finding 2). The app runs as its own process (src/main.ts) here, trading on
// the simulated market: a rebuild completes while GraphQL keeps answering, and SIGTERM in the
// middle of another rebuild still ends the process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${(last as Error).message})` : ''}`);
}

describe('rebuilds on the embedded default', () => {
  let app: ChildProcess | null = null;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  afterAll(() => {
    if (app && !exited) app.kill('SIGKILL');
  });

  it('rebuild completes while GraphQL answers; SIGTERM during a rebuild ends the process', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'arbiter-pglite-rebuild-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let output = '';
    app = spawn(process.execPath, ['--import', './test/support/ts-loader.mjs', 'src/main.ts'], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: '',
        EVENTSTORE_URL: '',
        ARBITER_DATA_DIR: dataDir,
        ARBITER_ADMIN_KEY_FILE: '',
        PORT: String(port),
        HOST: '127.0.0.1',
        ENGINE_AUTOSTART: 'true',
        SIM_OPPORTUNITIES_PER_MINUTE: '600',
        RISK_MIN_PROFIT_BASE_UNITS: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.stdout!.on('data', (d) => (output += d));
    app.stderr!.on('data', (d) => (output += d));
    app.on('exit', (code, signal) => (exited = { code, signal }));
    await until('the app answers /ready', async () => (await fetch(`${url}/ready`)).status === 200, 300_000);
    const key = readFileSync(join(dataDir, 'admin-api-key'), 'utf8').trim();
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const count = async () => {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ query: '{ headPosition engine { mode } }' }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(200);
      return BigInt(((await res.json()) as { data: { headPosition: string } }).data.headPosition);
    };
    await until('some sagas in the log', async () => (await count()) > 50n, 60_000);

    const post = await fetch(`${url}/projections/executions/rebuild`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: 'test on PGlite' }) });
    expect(post.status).toBe(202);
    const done = await until(
      'the rebuild completes',
      async () => {
        await count(); // GraphQL keeps answering (within its timeout) while the rebuild runs
        const s = (await (await fetch(`${url}/projections/executions/rebuild`, { headers: auth, signal: AbortSignal.timeout(10_000) })).json()) as {
          state: string;
          error: string | null;
        };
        expect(s.state).not.toBe('failed');
        return s.state === 'completed' ? s : null;
      },
      60_000,
    );
    expect(done.error).toBeNull();
    expect((await fetch(`${url}/ready`, { signal: AbortSignal.timeout(10_000) })).status).toBe(200);

    const again = await fetch(`${url}/projections/audit_index/rebuild`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: 'interrupted by SIGTERM' }) });
    expect(again.status).toBe(202);
    app.kill('SIGTERM');
    await until('the process ends after SIGTERM', async () => exited, 40_000);
    expect(output).not.toMatch(/did not finish within/); // it ended gracefully, not by the deadline
  }, 480_000);
});
