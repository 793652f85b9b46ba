// What an attacker with superuser rights on the database can do, for tamper-evidence tests. The
// events table refuses UPDATE, DELETE and TRUNCATE (migrations/008); only a superuser who
// switches triggers off explicitly (session_replication_role = replica, here for one
// transaction) gets past it. `forgeChains` goes further: it recomputes every stored hash (both
// chains) and the head tables, so only a signed seal can still tell.
import type { SqlClient } from '../../src/shared/sql/sql-client.js';
import { chainHash, contentHash, GENESIS_HASH, logChainHash } from '../../src/ledger/hash-chain.js';
import { rowToEvent, EVENT_COLUMNS, type EventRow } from '../../src/ledger/postgres/postgres-event-store.js';

/** Runs statements with the append-only trigger bypassed, in one transaction. */
export async function tamper(sql: SqlClient, ...statements: (string | [string, unknown[]])[]): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    for (const s of statements) {
      if (typeof s === 'string') await tx.query(s);
      else await tx.query(s[0], s[1]);
    }
  });
}

/** Recomputes every content hash, both chains and both head tables from the rows as they are now. */
export async function forgeChains(sql: SqlClient): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    const { rows } = await tx.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY global_position`);
    const streams = new Map<string, { hash: string; revision: bigint; position: bigint }>();
    let log = GENESIS_HASH;
    let position = 0n;
    for (const r of rows) {
      const e = rowToEvent(r);
      const prev = streams.get(e.streamId) ?? { hash: GENESIS_HASH, revision: -1n, position: 0n };
      const revision = prev.revision + 1n;
      const content = contentHash(e);
      const hash = chainHash(prev.hash, revision, content);
      log = logChainHash(log, e.position, hash);
      await tx.query(
        'UPDATE events SET stream_revision = $1, content_hash = $2, prev_hash = $3, hash = $4, log_hash = $5 WHERE global_position = $6',
        [revision.toString(), content, prev.hash, hash, log, e.position.toString()],
      );
      streams.set(e.streamId, { hash, revision, position: e.position });
      position = e.position;
    }
    await tx.query('DELETE FROM event_streams');
    for (const [id, s] of streams) {
      await tx.query('INSERT INTO event_streams (stream_id, revision, last_hash, last_position) VALUES ($1, $2, $3, $4)', [
        id,
        s.revision.toString(),
        s.hash,
        s.position.toString(),
      ]);
    }
    await tx.query('UPDATE event_log_head SET position = $1, last_hash = $2 WHERE id = 1', [position.toString(), log]);
  });
}
