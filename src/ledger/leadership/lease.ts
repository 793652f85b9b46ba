// The engine lease: one row in PostgreSQL (migrations/019), judged on the database's clock so no
// node's clock decides who leads. Taking an expired lease increments its epoch; only the holder of
// the current epoch renews it, and only while it has not expired.
import { toBigInt, type SqlClient } from '../../shared/sql/sql-client.js';

export interface LeaseRow {
  holder: string;
  epoch: bigint;
  /** Null when released or never taken. */
  expiresAt: string | null;
}

interface Row {
  holder: string;
  epoch: string;
  expires_at: Date | string | number;
  acquired: boolean;
}

const toLease = (r: Row): LeaseRow => ({
  holder: r.holder,
  epoch: toBigInt(r.epoch),
  expiresAt: isoOrNull(r.expires_at),
});

/** '-infinity' (never taken, or released) has no ISO form. */
function isoOrNull(v: Date | string | number): string | null {
  const d = v instanceof Date ? v : new Date(v);
  return Number.isFinite(d.getTime()) ? d.toISOString() : null;
}

export class EngineLease {
  constructor(
    private readonly sql: SqlClient,
    readonly nodeId: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lease when it has expired; answers the lease as it stands either way. */
  async tryAcquire(): Promise<{ acquired: boolean; lease: LeaseRow }> {
    const { rows } = await this.sql.query<Row>(
      `WITH taken AS (
         UPDATE engine_lease SET holder = $1, epoch = epoch + 1, expires_at = now() + make_interval(secs => $2::double precision / 1000)
          WHERE id = 1 AND expires_at <= now()
          RETURNING holder, epoch, expires_at)
       SELECT holder, epoch::text AS epoch, expires_at, true AS acquired FROM taken
       UNION ALL
       SELECT holder, epoch::text, expires_at, false FROM engine_lease WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM taken)`,
      [this.nodeId, this.ttlMs],
    );
    if (!rows.length) throw new Error('engine_lease has no row (migrations/019 not applied?)');
    return { acquired: rows[0].acquired === true, lease: toLease(rows[0]) };
  }

  /** Extends the lease of `epoch` by the TTL from now; false when it is no longer this node's or has expired. */
  async renew(epoch: bigint): Promise<boolean> {
    const { rows } = await this.sql.query(
      `UPDATE engine_lease SET expires_at = now() + make_interval(secs => $3::double precision / 1000)
        WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at > now() RETURNING epoch`,
      [this.nodeId, epoch.toString(), this.ttlMs],
    );
    return rows.length === 1;
  }

  /** Gives the lease up at once (graceful shutdown): a standby takes it on its next attempt. */
  async release(epoch: bigint): Promise<void> {
    await this.sql.query(`UPDATE engine_lease SET expires_at = '-infinity' WHERE id = 1 AND holder = $1 AND epoch = $2`, [this.nodeId, epoch.toString()]);
  }
}
