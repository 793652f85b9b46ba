// Runs the real server (src/main.ts) in a child process, for tests that must see whether the
// server stays responsive: a blocked event loop in the child cannot block the test's own timers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerChild {
  url: string;
  child: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts src/main.ts with `env` over the process environment and waits until /health answers. */
export async function startServerChild(env: Record<string, string>): Promise<ServerChild> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', './test/support/ts-loader.mjs', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, ENGINE_AUTOSTART: 'false', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not answer /health within 180 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Sends `bad` and, while it is in flight, GET /health. Returns both answers; `health` is null when
 * /health did not answer within `healthWithinMs` (the server was not responsive).
 */
export async function whileInFlight<T>(url: string, bad: () => Promise<T>, healthWithinMs = 1000): Promise<{ bad: T; health: number | null }> {
  const badRun = bad();
  await new Promise((r) => setTimeout(r, 50)); // let the bad request reach the server first
  const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(healthWithinMs) }).then(
    (r) => r.status,
    () => null,
  );
  return { bad: await badRun, health };
}
