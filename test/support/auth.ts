// API keys for end-to-end tests: issue a key of a role straight into the app's database.
import type { INestApplication } from '@nestjs/common';
import { issueApiKey, type Role } from '../../src/api/auth/api-keys.js';
import { SQL_CLIENT } from '../../src/ledger/ledger.module.js';
import type { SqlClient } from '../../src/shared/sql/sql-client.js';

/** Issues a key of `role` and returns the headers that present it. */
export async function authHeaders(app: INestApplication, role: Role): Promise<Record<string, string>> {
  const sql = app.get<SqlClient>(SQL_CLIENT);
  const { key } = await issueApiKey(sql, role, `test ${role}`);
  return { authorization: `Bearer ${key}` };
}
