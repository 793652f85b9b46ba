// Runs projections: each catches up from its checkpoint in large batches, then follows live
// appends (woken by the store's NOTIFY on PostgreSQL, or by polling). Also rebuilds a projection
// into a fresh generation while the live one keeps serving, then switches over.
import type { RecordedEvent } from '../ledger/envelope.js';
import type { EventStore, LogReader } from '../ledger/event-store.port.js';
import type { SqlClient } from '../shared/sql/sql-client.js';
import type { ProjectionDefinition } from './projection.js';
import { ProjectionStore } from './projection-store.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ScanResult {
  events: RecordedEvent[];
  /** The checkpoint after this batch: the last event's position, or the log's head when caught up. */
  to: bigint;
  caughtUp: boolean;
}

/** Reads the next batch of a projection's events after `from`. */
export async function scan(store: LogReader, def: Pick<ProjectionDefinition, 'eventTypes'>, from: bigint, batchSize: number): Promise<ScanResult> {
  // Read the head first: appends are serialised, so every matching event at or below it is
  // visible to the read that follows, and a short page means we are caught up to the head.
  const head = await store.headPosition();
  const events = await store.readAll({ after: from, maxCount: batchSize, filter: { eventTypes: def.eventTypes } });
  if (events.length === batchSize) return { events, to: events[events.length - 1].position, caughtUp: false };
  const last = events.length ? events[events.length - 1].position : from;
  return { events, to: head > last ? head : last, caughtUp: true };
}

export interface RebuildProgress {
  projection: string;
  generation: number;
  position: bigint;
  head: bigint;
  eventsApplied: number;
  elapsedSeconds: number;
  eventsPerSecond: number;
  /** Seconds left at the current rate, from positions still to scan; null until measurable. */
  etaSeconds: number | null;
}

export interface RebuildResult {
  generation: number;
  /** The rebuild went on from an interrupted one's generation (from its checkpoint), instead of from position 0. */
  resumedFrom: bigint | null;
  eventsApplied: number;
  seconds: number;
  digest: string;
}

export class RebuildInterruptedError extends Error {
  readonly code = 'REBUILD_INTERRUPTED';
  constructor(readonly projection: string, readonly generation: number, readonly position: bigint) {
    super(
      `rebuild of ${projection} stopped at position ${position}; generation ${generation} is kept and the next rebuild (or the next start of the app) resumes it`,
    );
    this.name = 'RebuildInterruptedError';
  }
}

/**
 * Rebuilds a projection into a building generation (a fresh one, or the one an interrupted
 * rebuild left, from its checkpoint), batch by batch, each batch its own short transaction (on
 * PGlite, whose one connection a transaction holds, everything else runs between batches), then
 * switches over. `signal` stops it between batches: the generation stays, to be resumed.
 */
export async function rebuildProjection(
  store: EventStore,
  sql: SqlClient,
  def: ProjectionDefinition,
  opts: { batchSize?: number; onProgress?: (p: RebuildProgress) => void; signal?: AbortSignal } = {},
): Promise<RebuildResult> {
  const projections = new ProjectionStore(sql);
  const batchSize = opts.batchSize ?? (sql.kind === 'pglite' ? 1000 : 5000);
  await projections.ensureActive(def);
  const gen = await projections.openBuilding(def);
  const started = performance.now();
  let position = gen.checkpoint;
  const startedAt = position;
  let applied = 0;
  const report = (head: bigint) => {
    const elapsed = (performance.now() - started) / 1000;
    const rate = elapsed > 0 ? applied / elapsed : 0;
    const posRate = elapsed > 0 ? Number(position - startedAt) / elapsed : 0;
    opts.onProgress?.({
      projection: def.name,
      generation: gen.generation,
      position,
      head,
      eventsApplied: applied,
      elapsedSeconds: elapsed,
      eventsPerSecond: rate,
      etaSeconds: posRate > 0 ? Math.max(0, Number(head - position) / posRate) : null,
    });
  };
  const result = async (): Promise<RebuildResult> => ({
    generation: gen.generation,
    resumedFrom: gen.resumed ? startedAt : null,
    eventsApplied: applied,
    seconds: (performance.now() - started) / 1000,
    digest: await projections.digest(def, gen.generation),
  });
  for (;;) {
    if (opts.signal?.aborted) throw new RebuildInterruptedError(def.name, gen.generation, position);
    const batch = await scan(store, def, position, batchSize);
    if (!(await projections.applyBatch(def, gen.generation, position, batch.to, batch.events))) {
      // Another rebuilder of the same generation (a CLI and the app) got this batch in first:
      // go on from where it is, or stop if it has switched over already.
      const now = (await projections.generations(def.name)).find((g) => g.generation === gen.generation);
      if (now?.status === 'active') return result();
      if (now?.status !== 'building') throw new Error(`rebuild of ${def.name} lost its generation ${gen.generation} to another rebuild`);
      position = now.checkpoint;
      continue;
    }
    applied += batch.events.length;
    position = batch.to;
    report(batch.caughtUp ? batch.to : await store.headPosition());
    if (batch.caughtUp) break;
  }
  // Switch: the last events that arrived meanwhile are applied inside the switching transaction,
  // read through it (on PGlite a read outside it would wait for it: a deadlock).
  await projections.switchTo(def, gen.generation, async (tx, checkpoint) => {
    const reader = store.readerWithin?.(sql, tx) ?? store;
    position = checkpoint;
    for (;;) {
      const batch = await scan(reader, def, position, batchSize);
      if (!(await projections.applyBatch(def, gen.generation, position, batch.to, batch.events, tx))) {
        throw new Error(`rebuild of ${def.name}: generation ${gen.generation} moved during switch-over`);
      }
      applied += batch.events.length;
      position = batch.to;
      if (batch.caughtUp) return;
    }
  });
  report(position);
  return result();
}

export interface ProjectionStatus {
  name: string;
  generation: number;
  checkpoint: bigint;
  head: bigint;
  lag: bigint;
  running: boolean;
  lastError: string | null;
}

/**
 * Follows the log for a set of projections until stopped. One reader feeds them all: each round
 * reads one page of the log after the furthest-behind projection's position (the union of their
 * event types, so decoding and upcasting happen once per event, not once per projection) and
 * hands each projection the events of its types past its own position; each applies them with
 * its checkpoint in its own transaction (a projection's update and checkpoint commit together;
 * one projection failing never rolls back another). A projection whose page holds nothing for it
 * commits nothing: it remembers how far it has read (`scanned`, what status and waits report) and
 * stores that as its checkpoint with its next events, or IDLE_COMMIT_MS after its last commit. Live, a wake then costs a commit per projection with
 * events in it, not one per projection. While the projections apply a page the reader fetches
 * the next one.
 */
/** An idle projection stores the position it has read to this long after its last commit at the latest. */
const IDLE_COMMIT_MS = 1_000;

export class ProjectionRunner {
  private readonly projections: ProjectionStore;
  private readonly state = new Map<string, FollowState>();
  private stopped = false;
  private loops: Promise<void>[] = [];
  private wakers = new Set<() => void>();
  private unlisten: (() => Promise<void>) | null = null;
  private head = 0n;
  /** Every definition's types, or none (no filter) when one of them takes every type. */
  private readonly eventTypes: string[];

  constructor(
    private readonly store: EventStore,
    private readonly sql: SqlClient,
    readonly definitions: ProjectionDefinition[],
    private readonly opts: {
      batchSize?: number;
      pollMs?: number;
      onBatch?: (name: string, events: number) => void;
      /** A batch failed (nothing committed); it is retried after pollMs. */
      onError?: (name: string, err: Error) => void;
    } = {},
  ) {
    this.projections = new ProjectionStore(sql);
    this.eventTypes = definitions.some((d) => d.eventTypes.length === 0) ? [] : [...new Set(definitions.flatMap((d) => d.eventTypes))];
  }

  async start(): Promise<void> {
    for (const def of this.definitions) {
      const gen = await this.projections.ensureActive(def);
      this.state.set(def.name, {
        def,
        types: def.eventTypes.length ? new Set(def.eventTypes) : null,
        generation: gen.generation,
        checkpoint: gen.checkpoint,
        scanned: gen.checkpoint,
        committedAt: Date.now(),
        retryAt: 0,
        lastError: null,
      });
    }
    try {
      this.unlisten = await this.sql.listen('arbiter_events', () => this.wakeAll());
    } catch {
      // Polling alone still follows the log.
    }
    this.loops = [this.follow()];
  }

  /**
   * Resolves once every projection has stored a checkpoint at or past the log's head as it was
   * when called (an idle projection that has read that far stores it now, not a second later).
   */
  async waitUntilCaughtUp(timeoutMs = 30_000): Promise<void> {
    const target = await this.store.headPosition();
    const deadline = Date.now() + timeoutMs;
    while ([...this.state.values()].some((s) => s.checkpoint < target)) {
      for (const s of this.state.values()) if (s.checkpoint < target) s.committedAt = 0;
      if (Date.now() > deadline) {
        const behind = [...this.state.values()]
          .filter((s) => s.checkpoint < target)
          .map((s) => `${s.def.name} at ${s.checkpoint} (read to ${s.scanned}${s.lastError ? `, last error: ${s.lastError}` : ''})`);
        throw new Error(`projections did not reach position ${target} within ${timeoutMs} ms: ${behind.join('; ')}`);
      }
      this.wakeAll();
      await sleep(20);
    }
  }

  async status(): Promise<ProjectionStatus[]> {
    this.head = await this.store.headPosition();
    return this.definitions.map((def) => {
      const s = this.state.get(def.name);
      // How far the read model reflects the log: the stored checkpoint, or further when the
      // events since it were none of this projection's.
      const checkpoint = s?.scanned ?? 0n;
      return {
        name: def.name,
        generation: s?.generation ?? 0,
        checkpoint,
        head: this.head,
        lag: this.head > checkpoint ? this.head - checkpoint : 0n,
        running: !this.stopped && !!s,
        lastError: s?.lastError ?? null,
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeAll();
    await Promise.allSettled(this.loops);
    if (this.unlisten) await this.unlisten().catch(() => undefined);
  }

  private wakeAll() {
    for (const w of [...this.wakers]) w();
  }

  /** The one reader: a page at a time, the next one read while this one is applied. */
  private async follow(): Promise<void> {
    // As a rebuild's: on PostgreSQL a catch-up page of 5,000 (one transaction per projection per
    // page) went 1.3× faster than 1,000 (README, Catch-up); PGlite's one connection keeps pages short.
    const batchSize = this.opts.batchSize ?? (this.sql.kind === 'pglite' ? 1000 : 5000);
    const pollMs = this.opts.pollMs ?? 500;
    const filter = { eventTypes: this.eventTypes };
    let ahead: { from: bigint; page: Promise<ScanResult> } | null = null;
    while (!this.stopped) {
      // Projections backing off after a failure sit the round out; the others go on.
      const due = [...this.state.values()].filter((s) => s.retryAt <= Date.now());
      let idle = true;
      if (due.length) {
        const from = due.reduce((m, s) => (s.scanned < m ? s.scanned : m), due[0].scanned);
        const page: Promise<ScanResult> = ahead?.from === from ? ahead.page : scan(this.store, filter, from, batchSize);
        ahead = null;
        let batch: ScanResult | null = null;
        try {
          batch = await page;
        } catch (err) {
          for (const s of due) this.failed(s, err as Error, pollMs);
        }
        if (batch) {
          if (!batch.caughtUp) {
            ahead = { from: batch.to, page: scan(this.store, filter, batch.to, batchSize) };
            ahead.page.catch(() => undefined); // surfaced when awaited
          }
          const results = await this.applyAll(due, batch, pollMs);
          idle = batch.caughtUp && results.every(Boolean);
        }
      }
      if (idle && !this.stopped) await this.sleep(pollMs);
    }
    await ahead?.page.catch(() => undefined);
  }

  /** Each projection's share of a page, applied in parallel on PostgreSQL (one after another on PGlite's one connection). */
  private async applyAll(due: FollowState[], batch: ScanResult, pollMs: number): Promise<boolean[]> {
    if (this.sql.kind === 'pglite') {
      const out: boolean[] = [];
      for (const s of due) out.push(await this.applyOne(s, batch, pollMs));
      return out;
    }
    return Promise.all(due.map((s) => this.applyOne(s, batch, pollMs)));
  }

  /** Returns false when the projection must read again (lost a race, or failed). */
  private async applyOne(s: FollowState, batch: ScanResult, pollMs: number): Promise<boolean> {
    if (batch.to <= s.checkpoint) return true; // the page ends before this projection's position
    const events = batch.events.filter((e) => e.position > s.scanned && (!s.types || s.types.has(e.type)));
    // Nothing for it: remember how far it has read, and store that with its next events or
    // IDLE_COMMIT_MS after its last commit (checked again on the idle rounds, so a quiet log
    // still gets its checkpoint stored).
    if (!events.length) {
      if (batch.to > s.scanned) s.scanned = batch.to;
      const due = s.scanned > s.checkpoint && Date.now() - s.committedAt >= IDLE_COMMIT_MS;
      if (!due) return true;
    }
    const to = events.length ? batch.to : s.scanned;
    try {
      const ok = await this.projections.applyBatch(s.def, s.generation, s.checkpoint, to, events);
      if (ok) {
        s.checkpoint = s.scanned = to;
        s.committedAt = Date.now();
        if (events.length) this.opts.onBatch?.(s.def.name, events.length);
        s.lastError = null;
        return true;
      }
      // A rebuild switched generations, or another process advanced us: reload and go on.
      const active = await this.projections.ensureActive(s.def);
      s.generation = active.generation;
      s.checkpoint = s.scanned = active.checkpoint;
      s.lastError = null;
      return false;
    } catch (err) {
      this.failed(s, err as Error, pollMs);
      return false;
    }
  }

  /** Nothing was committed: back off, then read again from the checkpoint. */
  private failed(s: FollowState, err: Error, pollMs: number) {
    s.lastError = err.message;
    s.scanned = s.checkpoint;
    s.retryAt = Date.now() + pollMs;
    this.opts.onError?.(s.def.name, err);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}

interface FollowState {
  def: ProjectionDefinition;
  /** null: every type. */
  types: Set<string> | null;
  generation: number;
  /** Committed with the projection's tables. */
  checkpoint: bigint;
  /** Read through (≥ checkpoint): the events between the two were none of this projection's. */
  scanned: bigint;
  /** When the checkpoint was last stored (ms since the epoch). */
  committedAt: number;
  /** After a failure, the projection sits rounds out until then (ms since the epoch). */
  retryAt: number;
  lastError: string | null;
}
