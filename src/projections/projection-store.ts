// SQL bookkeeping of projection generations: create, apply a batch with its checkpoint in one
// transaction, switch the public views to a new generation, digest a generation's tables.
import type { RecordedEvent } from '../ledger/envelope.js';
import { toBigInt, type SqlClient, type SqlExecutor } from '../shared/sql/sql-client.js';
import type { ProjectionDefinition } from './projection.js';

export interface GenerationState {
  generation: number;
  version: number;
  status: 'building' | 'active' | 'retired' | 'point_in_time';
  checkpoint: bigint;
  eventsApplied: bigint;
}

const NAME = /^[a-z][a-z0-9_]{0,40}$/;

export function schemaOf(name: string, generation: number): string {
  if (!NAME.test(name)) throw new Error(`invalid projection name "${name}"`);
  return `proj_${name}_g${generation}`;
}

export class ProjectionStore {
  constructor(readonly sql: SqlClient) {}

  async active(name: string): Promise<GenerationState | null> {
    const { rows } = await this.sql.query<Row>(
      `SELECT generation, version, status, checkpoint, events_applied FROM projection_generations WHERE name = $1 AND status = 'active'`,
      [name],
    );
    return rows.length ? toState(rows[0]) : null;
  }

  async generations(name: string): Promise<GenerationState[]> {
    const { rows } = await this.sql.query<Row>(
      `SELECT generation, version, status, checkpoint, events_applied FROM projection_generations WHERE name = $1 ORDER BY generation`,
      [name],
    );
    return rows.map(toState);
  }

  /** The active generation, creating generation 1 (empty, checkpoint 0) on first use. */
  async ensureActive(def: ProjectionDefinition): Promise<GenerationState> {
    const existing = await this.active(def.name);
    if (existing) return existing;
    return this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`projection:${def.name}`]);
      const again = await tx.query<Row>(
        `SELECT generation, version, status, checkpoint, events_applied FROM projection_generations WHERE name = $1 AND status = 'active'`,
        [def.name],
      );
      if (again.rows.length) return toState(again.rows[0]);
      const generation = await this.createSchema(tx, def);
      await tx.query(
        `INSERT INTO projection_generations (name, generation, version, status) VALUES ($1, $2, $3, 'active')`,
        [def.name, generation, def.version],
      );
      await this.pointViews(tx, def, generation);
      return { generation, version: def.version, status: 'active', checkpoint: 0n, eventsApplied: 0n };
    });
  }

  /**
   * The generation a rebuild fills: an interrupted rebuild's generation of the same version is
   * resumed from its checkpoint (its batches were committed with it, so nothing is applied
   * twice); one of another version is discarded and a fresh one created.
   */
  async openBuilding(def: ProjectionDefinition): Promise<GenerationState & { resumed: boolean }> {
    const building = (await this.generations(def.name)).filter((g) => g.status === 'building');
    const same = building.find((g) => g.version === def.version);
    if (same && building.length === 1) return { ...same, resumed: true };
    return { ...(await this.createBuilding(def)), resumed: false };
  }

  /** Building generations of projections (left by a rebuild that did not finish). */
  async interrupted(): Promise<{ name: string; generation: number; version: number; checkpoint: bigint }[]> {
    const { rows } = await this.sql.query<Row & { name: string }>(
      `SELECT name, generation, version, status, checkpoint, events_applied FROM projection_generations WHERE status = 'building' ORDER BY name, generation`,
    );
    return rows.map((r) => ({ name: r.name, ...toState(r) }));
  }

  /** A fresh, empty generation in status 'building', for a rebuild. */
  async createBuilding(def: ProjectionDefinition): Promise<GenerationState> {
    return this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`projection:${def.name}`]);
      // A rebuild that died half-way leaves a building generation: discard it.
      const stale = await tx.query<{ generation: number }>(
        `SELECT generation FROM projection_generations WHERE name = $1 AND status = 'building'`,
        [def.name],
      );
      for (const s of stale.rows) {
        await tx.exec(`DROP SCHEMA IF EXISTS ${schemaOf(def.name, s.generation)} CASCADE`);
        await tx.query(`DELETE FROM projection_generations WHERE name = $1 AND generation = $2`, [def.name, s.generation]);
      }
      const generation = await this.createSchema(tx, def);
      await tx.query(
        `INSERT INTO projection_generations (name, generation, version, status) VALUES ($1, $2, $3, 'building')`,
        [def.name, generation, def.version],
      );
      return { generation, version: def.version, status: 'building', checkpoint: 0n, eventsApplied: 0n };
    });
  }

  private async createSchema(tx: SqlExecutor, def: ProjectionDefinition): Promise<number> {
    const { rows } = await tx.query<{ g: number | null }>(
      `SELECT max(generation) AS g FROM projection_generations WHERE name = $1`,
      [def.name],
    );
    const generation = (rows[0]?.g ?? 0) + 1;
    const schema = schemaOf(def.name, generation);
    await tx.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await tx.exec(`SET LOCAL search_path TO ${schema}, public`);
    await tx.exec(def.ddl);
    await tx.exec(`SET LOCAL search_path TO public`);
    return generation;
  }

  /**
   * Applies events to a generation and moves its checkpoint to `to`, in one transaction, only if
   * the generation is still at `from` and not retired. Returns false (and writes nothing) if
   * another runner or a rebuild got there first: exactly-once under concurrency and crashes.
   */
  async applyBatch(
    def: ProjectionDefinition,
    generation: number,
    from: bigint,
    to: bigint,
    events: RecordedEvent[],
    tx?: SqlExecutor,
  ): Promise<boolean> {
    const run = async (t: SqlExecutor) => {
      const { rows } = await t.query<{ checkpoint: string; status: string }>(
        `SELECT checkpoint, status FROM projection_generations WHERE name = $1 AND generation = $2 FOR UPDATE`,
        [def.name, generation],
      );
      if (!rows.length || rows[0].status === 'retired' || toBigInt(rows[0].checkpoint) !== from) return false;
      if (events.length) {
        await t.exec(`SET LOCAL search_path TO ${schemaOf(def.name, generation)}, public`);
        await def.apply(t, events);
        await t.exec(`SET LOCAL search_path TO public`);
      }
      await t.query(
        `UPDATE projection_generations SET checkpoint = $3, events_applied = events_applied + $4, updated_at = now()
          WHERE name = $1 AND generation = $2`,
        [def.name, generation, to.toString(), events.length],
      );
      return true;
    };
    return tx ? run(tx) : this.sql.transaction(run);
  }

  /**
   * Makes `generation` the active one: runs `finalCatchUp` inside the switching transaction
   * (holding the active generation's row, so the live runner waits, and the building one's, so
   * another rebuilder of it waits), points the public views at the new schema and drops the old
   * one. `finalCatchUp` gets the building generation's checkpoint as it stands under the lock.
   * Returns false if the generation was switched to already (by another rebuilder of it).
   */
  async switchTo(
    def: ProjectionDefinition,
    generation: number,
    finalCatchUp: (tx: SqlExecutor, checkpoint: bigint) => Promise<void>,
  ): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const old = await tx.query<{ generation: number }>(
        `SELECT generation FROM projection_generations WHERE name = $1 AND status = 'active' FOR UPDATE`,
        [def.name],
      );
      const mine = await tx.query<{ status: string; checkpoint: string }>(
        `SELECT status, checkpoint FROM projection_generations WHERE name = $1 AND generation = $2 FOR UPDATE`,
        [def.name, generation],
      );
      if (mine.rows[0]?.status === 'active') return false;
      if (mine.rows[0]?.status !== 'building') throw new Error(`generation ${generation} of ${def.name} is no longer being built (another rebuild replaced it)`);
      await finalCatchUp(tx, toBigInt(mine.rows[0].checkpoint));
      await tx.query(`UPDATE projection_generations SET status = 'retired', updated_at = now() WHERE name = $1 AND status = 'active'`, [
        def.name,
      ]);
      await tx.query(`UPDATE projection_generations SET status = 'active', updated_at = now() WHERE name = $1 AND generation = $2`, [
        def.name,
        generation,
      ]);
      await this.pointViews(tx, def, generation);
      for (const o of old.rows) await tx.exec(`DROP SCHEMA IF EXISTS ${schemaOf(def.name, o.generation)} CASCADE`);
      return true;
    });
  }

  private async pointViews(tx: SqlExecutor, def: ProjectionDefinition, generation: number): Promise<void> {
    const schema = schemaOf(def.name, generation);
    for (const t of def.tables) {
      await tx.exec(`DROP VIEW IF EXISTS public.${t}; CREATE VIEW public.${t} AS SELECT * FROM ${schema}.${t}`);
    }
  }

  /**
   * A fresh, empty generation for an audit's point-in-time read (see src/audit/point-in-time.ts):
   * never made active, never touched by a rebuild's clean-up, dropped by `dropGeneration` once
   * `expiresAt` has passed.
   */
  async createPointInTime(def: ProjectionDefinition, asOfPosition: bigint, expiresAt: Date): Promise<GenerationState> {
    return this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`projection:${def.name}`]);
      const generation = await this.createSchema(tx, def);
      await tx.query(
        `INSERT INTO projection_generations (name, generation, version, status, as_of_position, expires_at)
         VALUES ($1, $2, $3, 'point_in_time', $4, $5)`,
        [def.name, generation, def.version, asOfPosition.toString(), expiresAt.toISOString()],
      );
      return { generation, version: def.version, status: 'point_in_time', checkpoint: 0n, eventsApplied: 0n };
    });
  }

  /** Point-in-time generations (every projection), with their position and expiry. */
  async pointInTimeGenerations(): Promise<{ name: string; generation: number; asOfPosition: bigint; checkpoint: bigint; expiresAt: Date }[]> {
    const { rows } = await this.sql.query<{ name: string; generation: number; as_of_position: string; checkpoint: string; expires_at: Date | string }>(
      `SELECT name, generation, as_of_position, checkpoint, expires_at FROM projection_generations WHERE status = 'point_in_time' ORDER BY name, generation`,
    );
    return rows.map((r) => ({
      name: r.name,
      generation: Number(r.generation),
      asOfPosition: toBigInt(r.as_of_position),
      checkpoint: toBigInt(r.checkpoint),
      expiresAt: r.expires_at instanceof Date ? r.expires_at : new Date(r.expires_at),
    }));
  }

  /** Drops a point-in-time generation's schema and row (never an active one). */
  async dropPointInTime(name: string, generation: number): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`projection:${name}`]);
      const { rows } = await tx.query(`DELETE FROM projection_generations WHERE name = $1 AND generation = $2 AND status = 'point_in_time' RETURNING generation`, [
        name,
        generation,
      ]);
      if (rows.length) await tx.exec(`DROP SCHEMA IF EXISTS ${schemaOf(name, generation)} CASCADE`);
    });
  }

  /** A digest of every table of a generation, independent of physical row order. */
  async digest(def: ProjectionDefinition, generation: number): Promise<string> {
    const schema = schemaOf(def.name, generation);
    const parts: string[] = [];
    for (const t of [...def.tables].sort()) {
      const { rows } = await this.sql.query<{ d: string; n: string }>(
        `SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS d, count(*) AS n FROM ${schema}.${t} x`,
      );
      parts.push(`${t}:${rows[0].n}:${rows[0].d}`);
    }
    return parts.join(';');
  }
}

interface Row {
  generation: number;
  version: number;
  status: GenerationState['status'];
  checkpoint: string;
  events_applied: string;
}

function toState(r: Row): GenerationState {
  return {
    generation: Number(r.generation),
    version: Number(r.version),
    status: r.status,
    checkpoint: toBigInt(r.checkpoint),
    eventsApplied: toBigInt(r.events_applied),
  };
}
