// Webhook signing secrets: generated here, kept in webhook_secrets (migration 015), never in the
// event log (events carry the fingerprint only). HMAC needs the secret itself, so unlike API keys
// it cannot be stored as a hash. A secret is never rotated in place (revoke the subscription and
// create a new one), so the fingerprint in the log always matches the secret in force.
import { createHash, randomBytes } from 'node:crypto';
import type { SqlExecutor } from '../shared/sql/sql-client.js';

export const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
export const fingerprintOf = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 16);

/**
 * Stores a secret for a new subscription unless one is there already (a retried create keeps the
 * first one) and returns the secret in force.
 */
export async function putInitialSecret(sql: SqlExecutor, subscriptionId: string, secret: string): Promise<string> {
  await sql.query(
    `INSERT INTO webhook_secrets (subscription_id, secret, fingerprint) VALUES ($1, $2, $3) ON CONFLICT (subscription_id) DO NOTHING`,
    [subscriptionId, secret, fingerprintOf(secret)],
  );
  const stored = await getSecret(sql, subscriptionId);
  if (!stored) throw new Error(`webhook secret of ${subscriptionId} was not stored`);
  return stored;
}

export async function getSecret(sql: SqlExecutor, subscriptionId: string): Promise<string | null> {
  const { rows } = await sql.query<{ secret: string }>(`SELECT secret FROM webhook_secrets WHERE subscription_id = $1`, [subscriptionId]);
  return rows[0]?.secret ?? null;
}
