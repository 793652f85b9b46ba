// The executions read model as an index of open sagas (the trading context's OpenSagaIndex port,
// matched by shape): which opportunities were still open as of the projection's checkpoint. The
// rows are read after the checkpoint, so they are at least that recent.
import type { SqlClient } from '../shared/sql/sql-client.js';
import { ProjectionStore } from './projection-store.js';

export class ExecutionsOpenSagaIndex {
  constructor(private readonly sql: SqlClient) {}

  async openAsOf(openPhases: readonly string[]): Promise<{ ids: Set<string>; asOf: bigint }> {
    const active = await new ProjectionStore(this.sql).active('executions');
    if (!active) return { ids: new Set(), asOf: 0n };
    const { rows } = await this.sql.query<{ opportunity_id: string }>(`SELECT opportunity_id FROM executions WHERE status = ANY($1::text[])`, [
      [...openPhases],
    ]);
    return { ids: new Set(rows.map((r) => r.opportunity_id)), asOf: active.checkpoint };
  }
}
