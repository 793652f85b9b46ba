// Configuration is validated at start: every problem is named at once, secrets never echoed.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

describe('loadConfig', () => {
  it('defaults to the embedded database under ./data on port 3000', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ databaseUrl: null, eventStoreUrl: null, port: 3000, logLevel: 'info' });
    expect(c.dataDir).toMatch(/data$/);
  });

  it('lists every problem in one error and hides passwords', () => {
    let err: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x', EVENTSTORE_URL: 'http://es', PORT: '70000', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/DATABASE_URL must be a postgres/);
    expect(problems.join('\n')).toMatch(/EVENTSTORE_URL must be an esdb/);
    expect(problems.join('\n')).toMatch(/PORT must be between 0 and 65535/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL must be one of/);
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('needs PostgreSQL for read models when events go to EventStoreDB', () => {
    expect(() => loadConfig({ EVENTSTORE_URL: 'esdb://localhost:2113?tls=false' })).toThrow(/read models need PostgreSQL/);
    expect(loadConfig({ EVENTSTORE_URL: 'esdb://localhost:2113?tls=false', DATABASE_URL: 'postgres://x@y/z' }).eventStoreUrl).toMatch(/^esdb:/);
  });
});
