// A PostgreSQL cluster of the test's own (initdb + pg_ctl from the machine's PostgreSQL 15, in a
// temporary directory, on a free port), so a test can stop it (-m immediate), terminate its
// backends and freeze it with SIGSTOP without touching the shared server on 5432. PostgreSQL
// refuses to run as root: as root, the cluster runs as the `postgres` user (runuser).
import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PgCluster {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** pg_terminate_backend on every backend of the database but the caller's own. Returns how many. */
  terminateBackends(): Promise<number>;
  /** How many backends of the database are LISTENing right now. */
  listeners(): Promise<number>;
  /** SIGSTOP / SIGCONT on the postmaster and every process it started. */
  freeze(): void;
  thaw(): void;
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function createPgCluster(database = 'arbiter'): Promise<PgCluster> {
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-pgcluster-'));
  const data = join(dir, 'data');
  const postgresUid = asRoot ? Number((await run('id', ['-u', 'postgres'])).stdout.trim()) : -1;
  const postgresGid = asRoot ? Number((await run('id', ['-g', 'postgres'])).stdout.trim()) : -1;
  if (asRoot) chownSync(dir, postgresUid, postgresGid);
  const as = (cmd: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args));
  await as(join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const pgctl = (args: string[]) => as(join(BIN, 'pg_ctl'), ['-D', data, ...args]);
  const start = async () => {
    await pgctl([
      '-w',
      '-l',
      join(dir, 'log'),
      '-o',
      // fsync off is safe here (the OS never crashes under the test); synchronous_commit stays on,
      // or an immediate stop would lose commits the app was told had happened.
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c shared_buffers=32MB`,
      'start',
    ]);
  };
  await start();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: adminUrl });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  await admin((c) => c.query(`CREATE DATABASE ${database}`));
  const pids = (): number[] => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after ')'.
          const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
        } catch {
          return false;
        }
      })
      .map(Number);
    return [postmaster, ...children];
  };
  const signal = (sig: NodeJS.Signals, list: number[]) => {
    for (const pid of list) {
      try {
        process.kill(pid, sig);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // a backend that just ended
      }
    }
  };
  const thaw = () => signal('SIGCONT', pids().reverse());
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    start,
    async stop(mode = 'immediate') {
      await pgctl(['-w', '-m', mode, 'stop']);
    },
    terminateBackends: () =>
      admin(async (c) => {
        const r = await c.query(
          `SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
          [database],
        );
        return r.rows.filter((x) => x.t).length;
      }),
    listeners: () =>
      admin(async (c) => {
        const r = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN%'`, [database]);
        return r.rows[0].n as number;
      }),
    freeze() {
      signal('SIGSTOP', pids());
    },
    thaw,
    async destroy() {
      try {
        thaw();
      } catch {
        /* not running */
      }
      await pgctl(['-w', '-m', 'immediate', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
