// One typed configuration object, read from the environment and validated at start.
// Every setting is listed in README's configuration table.
import { resolve } from 'node:path';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface ArbiterConfig {
  /** PostgreSQL for the event store (unless EVENTSTORE_URL) and the read models; absent = embedded PGlite. */
  databaseUrl: string | null;
  /** esdb:// connection string; when set, events go to EventStoreDB, read models stay in PostgreSQL. */
  eventStoreUrl: string | null;
  /** Where the embedded PostgreSQL (PGlite) keeps its files. */
  dataDir: string;
  port: number;
  host: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** How the PostgreSQL client bounds its waits (README: Configuration, Database loss). */
  database: {
    /** Opening a connection, or waiting for a free one (DATABASE_CONNECT_TIMEOUT_MS). */
    connectTimeoutMs: number;
    /** One query, client-side: a frozen server answers nothing (DATABASE_QUERY_TIMEOUT_MS). */
    queryTimeoutMs: number;
    /** One health check: /ready's checks and the availability probe (DATABASE_HEALTH_TIMEOUT_MS). */
    healthTimeoutMs: number;
    /** How long start-up waits for the database to answer (DATABASE_STARTUP_TIMEOUT_MS; 0 = not at all). */
    startupTimeoutMs: number;
  };
  /** After SIGTERM the process exits within this, whatever is still running (SHUTDOWN_TIMEOUT_MS). */
  shutdownTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): ArbiterConfig {
  const problems: string[] = [];
  const text = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? null : v.trim();
  };

  const databaseUrl = text('DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`DATABASE_URL must be a postgres:// or postgresql:// URL (got "${redact(databaseUrl)}")`);
  }
  const eventStoreUrl = text('EVENTSTORE_URL');
  if (eventStoreUrl && !/^(esdb|esdb\+discover|kurrentdb|kdb):\/\//.test(eventStoreUrl)) {
    problems.push(`EVENTSTORE_URL must be an esdb:// connection string (got "${redact(eventStoreUrl)}")`);
  }
  if (eventStoreUrl && !databaseUrl) {
    problems.push('EVENTSTORE_URL is set but DATABASE_URL is not: read models need PostgreSQL (set DATABASE_URL)');
  }
  const port = integer(text('PORT') ?? '3000', 'PORT', 0, 65535, problems);
  const logLevel = (text('LOG_LEVEL') ?? 'info') as ArbiterConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of debug, info, warn, error (got "${logLevel}")`);
  }
  const database = {
    connectTimeoutMs: integer(text('DATABASE_CONNECT_TIMEOUT_MS') ?? '5000', 'DATABASE_CONNECT_TIMEOUT_MS', 100, 600_000, problems),
    queryTimeoutMs: integer(text('DATABASE_QUERY_TIMEOUT_MS') ?? '30000', 'DATABASE_QUERY_TIMEOUT_MS', 100, 3_600_000, problems),
    healthTimeoutMs: integer(text('DATABASE_HEALTH_TIMEOUT_MS') ?? '2000', 'DATABASE_HEALTH_TIMEOUT_MS', 50, 60_000, problems),
    startupTimeoutMs: integer(text('DATABASE_STARTUP_TIMEOUT_MS') ?? '60000', 'DATABASE_STARTUP_TIMEOUT_MS', 0, 3_600_000, problems),
  };
  const shutdownTimeoutMs = integer(text('SHUTDOWN_TIMEOUT_MS') ?? '30000', 'SHUTDOWN_TIMEOUT_MS', 100, 3_600_000, problems);
  if (problems.length) throw new ConfigError(problems);
  return {
    database,
    shutdownTimeoutMs,
    databaseUrl,
    eventStoreUrl,
    dataDir: resolve(text('ARBITER_DATA_DIR') ?? './data'),
    port,
    host: text('HOST') ?? '0.0.0.0',
    logLevel,
  };
}

export function integer(raw: string, name: string, min: number, max: number, problems: string[]): number {
  if (!/^-?\d+$/.test(raw)) {
    problems.push(`${name} must be an integer (got "${raw}")`);
    return min;
  }
  const n = Number(raw);
  if (n < min || n > max) problems.push(`${name} must be between ${min} and ${max} (got ${n})`);
  return n;
}

/** Hide passwords in URLs before they reach a message. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}
