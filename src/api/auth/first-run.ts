// First run on the embedded database: with no DATABASE_URL and no API key at all, issue an admin
// key and write it to a file only the owner can read (<ARBITER_DATA_DIR>/admin-api-key, or
// ARBITER_ADMIN_KEY_FILE). The log says where it is, never the key itself.
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ARBITER_CONFIG } from '../../config/config.module.js';
import type { ArbiterConfig } from '../../config/config.js';
import { EVENT_STORE, type EventStore } from '../../ledger/event-store.port.js';
import { SQL_CLIENT } from '../../ledger/ledger.module.js';
import type { SqlClient } from '../../shared/sql/sql-client.js';
import { issueRecordedApiKey } from './api-keys.js';

export const FIRST_RUN_ACTOR = 'system:first-run';

/** Issues and writes the first admin key when needed; returns the file written, or null. */
export async function ensureFirstRunAdminKey(
  config: ArbiterConfig,
  sql: SqlClient,
  store: EventStore,
  logger: Pick<Logger, 'log' | 'warn'> = new Logger('Auth'),
): Promise<string | null> {
  const { rows } = await sql.query<{ n: string | number }>('SELECT count(*) AS n FROM api_keys');
  if (Number(rows[0].n) > 0) return null;
  if (config.databaseUrl) {
    logger.warn('no API key exists yet: every request except /health, /ready, /metrics and /docs will get 401 until an admin key is issued');
    return null;
  }
  const file = config.adminKeyFile;
  const label = 'first-run admin';
  const { key, keyId } = await issueRecordedApiKey(sql, store, {
    role: 'admin',
    label,
    actor: FIRST_RUN_ACTOR,
    metadata: { correlationId: `first-run-${label.replace(/\W+/g, '-')}`, causationId: null, actor: FIRST_RUN_ACTOR, tenant: 'default' },
  });
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // mode applies only when the file is created
  logger.log(`first run: issued an admin API key (id ${keyId}); it is in ${file} (readable by you only). Send it as 'Authorization: Bearer <key>'.`);
  return file;
}

@Injectable()
export class FirstRunAdminKey implements OnApplicationBootstrap {
  constructor(
    @Inject(ARBITER_CONFIG) private readonly config: ArbiterConfig,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await ensureFirstRunAdminKey(this.config, this.sql, this.store);
  }
}
