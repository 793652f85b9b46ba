// Takeover benchmark: two app processes (the built dist/src/main.js) on one PostgreSQL database
// with ENGINE_HA=on and the default lease (TTL 5 s, renew 1 s, acquire 1 s, margin 1 s). Each run
// kills the leader with SIGKILL and measures the time until a saga event written under a newer
// fencing token is in the log (the standby has taken the lease, recorded its leadership, caught
// up, and traded), then starts a fresh standby. Prints each run, the median and the maximum.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { tokenOfActor } from '../src/ledger/leadership/fencing.js';
import { SAGA_STREAM_PREFIX } from '../src/trading/events.js';

const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function haBench(databaseUrl: string, runs: number): Promise<{ rows: string[][]; medianMs: number; maxMs: number }> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-ha-bench-'));
  const nodes = new Map<string, ChildProcess>();
  let port = 3900 + Math.floor(Math.random() * 500);
  const start = async (id: string) => {
    const child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        ARBITER_DATA_DIR: dir,
        PORT: String(port++),
        HOST: '127.0.0.1',
        ENGINE_HA: 'on',
        ENGINE_NODE_ID: id,
        ENGINE_AUTOSTART: 'true',
        SIM_OPPORTUNITIES_PER_MINUTE: '600',
        RISK_MAX_ORDERS_PER_MINUTE: '100000',
        RISK_MIN_PROFIT_BASE_UNITS: '0',
        SEALING: 'off',
        LOG_LEVEL: 'error',
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'ignore', openSync(join(dir, `${id}.err`), 'w')],
    });
    nodes.set(id, child);
    // Up when it answers /health.
    for (let i = 0; i < 1800; i++) {
      const ok = await fetch(`http://127.0.0.1:${port - 1}/health`).then((r) => r.ok, () => false);
      if (ok) return;
      if (child.exitCode !== null) throw new Error(`node ${id} exited (${child.exitCode}): ${readFileSync(join(dir, `${id}.err`), 'utf8').slice(-1500)}`);
      await sleep(100);
    }
    throw new Error(`node ${id} did not answer /health within 180 s: ${readFileSync(join(dir, `${id}.err`), 'utf8').slice(-1500)}`);
  };
  const head = async () => BigInt((await db.query('SELECT position FROM event_log_head WHERE id = 1')).rows[0]?.position ?? 0);
  const token = async () => BigInt((await db.query(`SELECT coalesce(max(stream_revision), -1) AS r FROM events WHERE stream_id = 'engine-leader'`)).rows[0].r);
  const tradedUnder = async (after: bigint, from: bigint): Promise<boolean> => {
    const { rows } = await db.query<{ actor: string }>(`SELECT actor FROM events WHERE global_position > $1 AND stream_id LIKE $2 ORDER BY global_position DESC LIMIT 200`, [from.toString(), `${SAGA_STREAM_PREFIX}%`]);
    return rows.some((r) => (tokenOfActor(r.actor) ?? -1n) > after);
  };
  const times: number[] = [];
  const rows: string[][] = [];
  try {
    await start('bench-0');
    await start('bench-1');
    for (let i = 0; i < 300 && !(await tradedUnder(-1n, 0n)); i++) await sleep(100);
    for (let run = 0; run < runs; run++) {
      await sleep(1500);
      const holder = (await db.query('SELECT holder FROM engine_lease WHERE id = 1')).rows[0].holder as string;
      const victim = nodes.get(holder);
      if (!victim) throw new Error(`the lease holder ${holder} is not one of ours`);
      const before = await token();
      const from = await head();
      const killed = performance.now();
      victim.kill('SIGKILL');
      nodes.delete(holder);
      let ms = NaN;
      for (let i = 0; i < 600; i++) {
        if (await tradedUnder(before, from)) {
          ms = performance.now() - killed;
          break;
        }
        await sleep(20);
      }
      times.push(ms);
      rows.push([`takeover ${run + 1}`, ms.toFixed(0)]);
      await start(`bench-${run + 2}`);
    }
  } finally {
    for (const c of nodes.values()) c.kill('SIGKILL');
    await sleep(200);
    await db.end();
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { rows, medianMs: sorted[Math.floor(sorted.length / 2)], maxMs: sorted[sorted.length - 1] };
}
