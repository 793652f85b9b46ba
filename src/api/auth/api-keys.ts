// API keys: `arb_<keyId>_<secret>`. Only sha256(key) is stored; lookups compare hashes.
// Roles form a ladder of what a key may do; admin may do everything.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EventMetadata } from '../../ledger/envelope.js';
import type { EventStore } from '../../ledger/event-store.port.js';
import { newEvent } from '../../ledger/event-types.js';
import { decideAndAppendOne, type CommandReceipt } from '../../ledger/decide-and-append.js';
import { ApiKeyIssued, ApiKeyRevoked, apiKeyStreamId } from './events.js';
import type { SqlExecutor } from '../../shared/sql/sql-client.js';
import { unstorableReason } from '../../shared/text/storable.js';

export const ROLES = ['viewer', 'operator', 'risk', 'compliance', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKeyPrincipal {
  keyId: string;
  role: Role;
  label: string;
}

const KEY_RE = /^arb_([a-z0-9]{12})_([A-Za-z0-9_-]{32,64})$/;

export const hashKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

/** The key id of a presented key when it has the shape of one (never any part of the secret), else null. */
export function keyIdOf(presented: string): string | null {
  const m = KEY_RE.exec(presented);
  return m ? m[1] : null;
}

/** Whether a key of role `have` may do what needs `need`: viewer is read-only; admin may do everything. */
export function roleAllows(have: Role, need: Role): boolean {
  if (have === 'admin') return true;
  if (need === 'viewer') return true; // every role may read
  return have === need;
}

export async function issueApiKey(sql: SqlExecutor, role: Role, label: string): Promise<{ key: string; keyId: string }> {
  if (!ROLES.includes(role)) throw new Error(`unknown role "${role}"; roles: ${ROLES.join(', ')}`);
  const keyId = randomBytes(8).toString('hex').slice(0, 12);
  const key = `arb_${keyId}_${randomBytes(32).toString('base64url')}`;
  await sql.query('INSERT INTO api_keys (key_id, key_hash, role, label) VALUES ($1, $2, $3, $4)', [keyId, hashKey(key), role, label]);
  return { key, keyId };
}

/** A label is 1–100 printable ASCII characters, not blank (it goes into every event's actor). */
export const LABEL_RE = /^[\x20-\x7e]*\S[\x20-\x7e]*$/;

/** Why `label` cannot be a key's label, or null. */
export function labelProblem(label: string): string | null {
  const unstorable = unstorableReason(label);
  if (unstorable) return unstorable;
  if (label.trim().length === 0 || label.length > 100) return 'must have 1–100 characters';
  if (!LABEL_RE.test(label)) return 'must be printable ASCII and not blank';
  return null;
}

/**
 * Issues a key with its ApiKeyIssued event as the source: the event is appended first and the key
 * row written after it, so no key can ever work without its event in the log. Should the row not
 * be written, an ApiKeyRevoked follows (the key was never handed out) and the error is thrown.
 */
export async function issueRecordedApiKey(
  sql: SqlExecutor,
  store: EventStore,
  opts: { role: Role; label: string; actor: string; metadata: EventMetadata; eventId?: string },
): Promise<{ key: string; keyId: string; event: CommandReceipt }> {
  if (!ROLES.includes(opts.role)) throw new Error(`unknown role "${opts.role}"; roles: ${ROLES.join(', ')}`);
  const problem = labelProblem(opts.label);
  if (problem) throw new Error(`label ${problem}`);
  const keyId = randomBytes(8).toString('hex').slice(0, 12);
  const key = `arb_${keyId}_${randomBytes(32).toString('base64url')}`;
  const event = await decideAndAppendOne(store, {
    streamId: apiKeyStreamId(keyId),
    eventId: opts.eventId,
    fold: () => null,
    decide: () => newEvent(ApiKeyIssued, { keyId, role: opts.role, label: opts.label, actor: opts.actor }, opts.metadata),
  });
  try {
    await sql.query('INSERT INTO api_keys (key_id, key_hash, role, label) VALUES ($1, $2, $3, $4)', [keyId, hashKey(key), opts.role, opts.label]);
  } catch (err) {
    await store
      .append(apiKeyStreamId(keyId), [newEvent(ApiKeyRevoked, { keyId, actor: opts.actor, reason: 'issuance did not complete: the key was never handed out' }, opts.metadata)], 'any')
      .catch(() => undefined);
    throw err;
  }
  return { key, keyId, event };
}

/**
 * Revokes a key and records it. The row goes first, so the key stops working at once (failing
 * closed), then its ApiKeyRevoked. Should the append fail, the key stays revoked and the error is
 * thrown; revoking it again appends the missing event, so every revoked key ends with its event
 * in the log. Null when there is no such key, or it is revoked and its revocation recorded.
 */
export async function revokeRecordedApiKey(
  sql: SqlExecutor,
  store: EventStore,
  opts: { keyId: string; actor: string; reason: string; metadata: EventMetadata; eventId?: string },
): Promise<CommandReceipt | null> {
  const { keyId } = opts;
  const updated = await sql.query('UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL', [keyId]);
  if (updated.rowCount === 0) {
    const known = await sql.query('SELECT 1 FROM api_keys WHERE key_id = $1', [keyId]);
    if (!known.rows.length) return null;
    const recorded = await store.readStream(apiKeyStreamId(keyId));
    if (recorded.some((e) => e.type === ApiKeyRevoked.type)) return null;
    // Revoked, but its event is missing: an earlier revocation stopped between its two steps.
  }
  return decideAndAppendOne(store, {
    streamId: apiKeyStreamId(keyId),
    eventId: opts.eventId,
    fold: () => null,
    decide: () => newEvent(ApiKeyRevoked, { keyId, actor: opts.actor, reason: opts.reason }, opts.metadata),
  });
}

/** The principal for a presented key, or null when it is malformed, unknown or revoked. */
export async function authenticate(sql: SqlExecutor, presented: string): Promise<ApiKeyPrincipal | null> {
  const m = KEY_RE.exec(presented);
  if (!m) return null;
  const { rows } = await sql.query<{ key_id: string; key_hash: string; role: Role; label: string }>(
    'SELECT key_id, key_hash, role, label FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL',
    [m[1]],
  );
  if (!rows.length) return null;
  const expected = Buffer.from(rows[0].key_hash, 'hex');
  const actual = Buffer.from(hashKey(presented), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
  return { keyId: rows[0].key_id, role: rows[0].role, label: rows[0].label };
}

export interface ApiKeyInfo {
  keyId: string;
  role: Role;
  label: string;
  createdAt: string;
  revokedAt: string | null;
}

/** Every key (never a hash), newest first. */
export async function listApiKeys(sql: SqlExecutor): Promise<ApiKeyInfo[]> {
  const { rows } = await sql.query<{ key_id: string; role: Role; label: string; created_at: Date | string; revoked_at: Date | string | null }>(
    'SELECT key_id, role, label, created_at, revoked_at FROM api_keys ORDER BY created_at DESC, key_id',
  );
  const iso = (v: Date | string) => new Date(v).toISOString();
  return rows.map((r) => ({ keyId: r.key_id, role: r.role, label: r.label, createdAt: iso(r.created_at), revokedAt: r.revoked_at ? iso(r.revoked_at) : null }));
}
