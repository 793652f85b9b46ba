// Snapshot storage for in-memory folds: JSON with bigints kept exact ({"$bigint": "…"}).
import { toBigInt, type SqlClient } from './sql-client.js';

export interface Snapshot<T> {
  position: bigint;
  state: T;
}

const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v);
const reviver = (_k: string, v: unknown) =>
  v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { $bigint?: unknown }).$bigint === 'string'
    ? BigInt((v as { $bigint: string }).$bigint)
    : v;

export class SnapshotStore {
  constructor(private readonly sql: SqlClient) {}

  async load<T>(name: string, version: number): Promise<Snapshot<T> | null> {
    const { rows } = await this.sql.query<{ position: string; state: unknown }>(
      'SELECT position, state::text AS state FROM snapshots WHERE name = $1 AND version = $2',
      [name, version],
    );
    if (!rows.length) return null;
    return { position: toBigInt(rows[0].position), state: JSON.parse(String(rows[0].state), reviver) as T };
  }

  async save<T>(name: string, version: number, snapshot: Snapshot<T>): Promise<void> {
    await this.sql.query(
      `INSERT INTO snapshots (name, version, position, state, saved_at) VALUES ($1, $2, $3, $4::jsonb, now())
       ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, position = EXCLUDED.position, state = EXCLUDED.state, saved_at = now()
       WHERE snapshots.position <= EXCLUDED.position OR snapshots.version <> EXCLUDED.version`,
      [name, version, snapshot.position.toString(), JSON.stringify(snapshot.state, replacer)],
    );
  }
}
