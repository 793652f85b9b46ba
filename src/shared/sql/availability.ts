// Whether the database answers right now. The SQL client marks it down when a connection fails
// (refused, terminated, timed out) and up again when a probe succeeds, so the parts that must not
// act while the database is away (the engine taking a step, /ready) can ask, or wait, instead of
// each finding out through its own failures.

export interface DatabaseAvailability {
  readonly available: boolean;
  /** Why it is down (the last connection error), null while up. */
  readonly reason: string | null;
  /** When it went down (ms since the epoch), null while up. */
  readonly downSinceMs: number | null;
  /** Resolves as soon as the database is available (at once when it is); rejects when `signal` aborts. */
  whenAvailable(signal?: AbortSignal): Promise<void>;
  /** Calls `listener` on every change; returns a function that stops it. */
  onChange(listener: (available: boolean) => void): () => void;
}

/** The state behind DatabaseAvailability; the SQL client that observes the connection drives it. */
export class AvailabilityState implements DatabaseAvailability {
  private up = true;
  private why: string | null = null;
  private since: number | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<(available: boolean) => void>();

  get available(): boolean {
    return this.up;
  }
  get reason(): string | null {
    return this.why;
  }
  get downSinceMs(): number | null {
    return this.since;
  }

  markDown(reason: string): boolean {
    this.why = reason;
    if (!this.up) return false;
    this.up = false;
    this.since = Date.now();
    for (const l of [...this.listeners]) l(false);
    return true;
  }

  markUp(): boolean {
    if (this.up) return false;
    this.up = true;
    this.why = null;
    this.since = null;
    for (const w of [...this.waiters]) w();
    for (const l of [...this.listeners]) l(true);
    return true;
  }

  whenAvailable(signal?: AbortSignal): Promise<void> {
    if (this.up) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        this.waiters.delete(done);
        reject(signal!.reason ?? new Error('aborted'));
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      this.waiters.add(done);
    });
  }

  onChange(listener: (available: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** An embedded database (PGlite) lives in the process: it is there as long as the process is. */
export const ALWAYS_AVAILABLE: DatabaseAvailability = {
  available: true,
  reason: null,
  downSinceMs: null,
  whenAvailable: () => Promise.resolve(),
  onChange: () => () => undefined,
};

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  '57P01', // admin_shutdown (pg_terminate_backend, fast/immediate stop)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovering)
]);

/** True for errors that say the connection (not the statement) failed: the database is away. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (CONNECTION_CODES.has(code) || code.startsWith('08')) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|Query read timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection refused|the database system is (starting up|shutting down|in recovery mode)|terminating connection/i.test(
    message,
  );
}
