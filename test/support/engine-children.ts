// Engine child processes for the kill tests (test/support/engine-child.ts, the whole application
// configured from the environment): started, SIGKILLed, and every one still running killed in
// afterAll, so a failed wait never leaves an engine trading after its test.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface EngineChildren {
  /** Starts a child with `env` plus `extra`; resolves once it printed "started". */
  start(extra?: Record<string, string>): Promise<ChildProcess>;
  /** SIGKILL; resolves once it exited. */
  kill(child: ChildProcess): Promise<void>;
  /** SIGKILL to every child still running (afterAll). */
  killAll(): void;
}

export function engineChildren(env: () => Record<string, string>, label = 'engine child'): EngineChildren {
  const running = new Set<ChildProcess>();
  return {
    start(extra = {}) {
      const child = spawn(process.execPath, ['--import', './test/support/ts-loader.mjs', 'test/support/engine-child.ts'], {
        cwd: root,
        env: { ...env(), ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.add(child);
      child.once('exit', () => running.delete(child));
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      return new Promise((resolve, reject) => {
        child.stdout!.on('data', (d) => String(d).includes('started') && resolve(child));
        child.on('exit', (code, signal) => reject(new Error(`${label} exited early (${code ?? signal}): ${err.slice(-2000)}`)));
      });
    },
    kill(child) {
      return new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.on('exit', () => {
          running.delete(child);
          resolve();
        });
        child.kill('SIGKILL');
      });
    },
    killAll() {
      for (const c of running) c.kill('SIGKILL');
      running.clear();
    },
  };
}
