// What a projection is: the event types it handles, the tables it owns (DDL written against
// unqualified names, run inside its generation's schema) and a batch apply. Definitions live in
// /projections, one file per read model.
import type { RecordedEvent } from '../ledger/envelope.js';
import type { SqlExecutor } from '../shared/sql/sql-client.js';

export interface ProjectionDefinition {
  /** Lower-case identifier: used in schema names and the CLI (`arbiter rebuild <name>`). */
  name: string;
  /** Bump when the tables or the apply logic change; a new version needs a rebuild. */
  version: number;
  eventTypes: string[];
  /** Tables the projection owns, exposed as public views of the same names. */
  tables: string[];
  /** DDL creating the tables (unqualified names; runs with search_path set to the generation's schema). */
  ddl: string;
  /**
   * Applies a batch of events in position order inside the caller's transaction (search_path
   * already set). Must be deterministic: the same events always give the same rows, so a rebuild
   * of an unchanged log comes out identical. Never read the clock or random numbers here.
   */
  apply(tx: SqlExecutor, events: RecordedEvent[]): Promise<void>;
}

export const PROJECTIONS = Symbol('PROJECTIONS');
