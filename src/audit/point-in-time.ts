// Point-in-time read models: a projection built from position 0 up to a past position into a
// temporary generation of its own (the generation machinery of docs/decisions/0002: same DDL,
// same `applyBatch` with its checkpoint, same digest), queried with the generation's schema
// first on the search path, and dropped after a TTL. Because the projection's apply is
// deterministic, the tables equal what the live read model held when its checkpoint was at that
// position. One build per (projection, position) at a time; later questions at the same
// position reuse it until it expires. Builds never hold a transaction while reading the log
// (PGlite has one connection).
import type { EventStore } from '../ledger/event-store.port.js';
import type { ProjectionDefinition } from '../projections/projection.js';
import { ProjectionStore, schemaOf } from '../projections/projection-store.js';
import type { SqlClient, SqlExecutor } from '../shared/sql/sql-client.js';

export interface PointInTimeOptions {
  ttlMs: number;
  /** Generations kept at once; the least recently used unused one is dropped to make room. */
  maxGenerations: number;
  batchSize?: number;
  now?: () => number;
}

export class PointInTimeLimitError extends Error {
  readonly code = 'POINT_IN_TIME_BUSY';
  constructor(message: string) {
    super(message);
    this.name = 'PointInTimeLimitError';
  }
}

/**
 * A point-in-time read model is still being built and the caller would not wait longer. The
 * build goes on; asking again at the same position reuses it (and `builds()` shows its progress).
 */
export class PointInTimeBuildingError extends Error {
  readonly code = 'POINT_IN_TIME_BUILDING';
  constructor(
    readonly builds: PointInTimeBuild[],
    /** A guess from the build's rate so far. */
    readonly retryAfterSeconds: number,
  ) {
    const what = builds.map((b) => `${b.projection} ${b.percent.toFixed(1)}% (${b.eventsApplied} events applied)`).join(', ');
    super(
      `the read model as of position ${builds[0]?.asOfPosition ?? '?'} is still being built from the log: ${what}; ` +
        `the build goes on, ask again in about ${retryAfterSeconds} s (pointInTimeBuilds shows its progress)`,
    );
    this.name = 'PointInTimeBuildingError';
  }
}

export interface PointInTimeBuild {
  projection: string;
  asOfPosition: bigint;
  generation: number;
  state: 'building' | 'ready' | 'failed';
  /** Position scanned up to. */
  position: bigint;
  eventsApplied: number;
  percent: number;
  startedAt: string;
  finishedAt: string | null;
  seconds: number | null;
  expiresAt: string;
  error: string | null;
}

interface Entry {
  build: PointInTimeBuild;
  ready: Promise<void>;
  inUse: number;
  lastUsedMs: number;
}

export interface PointInTimeView {
  /** The position the answer reflects. */
  asOfPosition: bigint;
  generations: { projection: string; generation: number; expiresAt: string }[];
}

const key = (name: string, p: bigint) => `${name}@${p}`;

/** True when `p` settles within `ms` (its rejection is rethrown); false when the time ran out first. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const out = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([p.then(() => true as const), out]);
  } finally {
    clearTimeout(timer);
  }
}

/** Seconds until the slowest build is done, by its rate so far (at least 1, at most 300). */
function retryAfter(builds: PointInTimeBuild[], nowMs: number): number {
  let worst = 1;
  for (const b of builds) {
    if (b.state !== 'building') continue;
    const elapsed = Math.max(0.001, (nowMs - Date.parse(b.startedAt)) / 1000);
    const done = Math.max(0.0001, b.percent / 100);
    worst = Math.max(worst, Math.ceil((elapsed / done) * (1 - done)));
  }
  return Math.min(300, worst);
}

export class PointInTimeReadModels {
  private readonly projections: ProjectionStore;
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private readonly now: () => number;

  constructor(
    private readonly store: EventStore,
    private readonly sql: SqlClient,
    private readonly opts: PointInTimeOptions,
  ) {
    this.projections = new ProjectionStore(sql);
    this.now = opts.now ?? Date.now;
  }

  /** Sweeps expired generations now and then every `everyMs` (unref'd: never keeps the process up). */
  startSweeping(everyMs = 30_000): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), everyMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A build in progress stops at its next batch (its generation is dropped): shutdown does not wait for it.
    this.closing = true;
    await Promise.allSettled([...this.entries.values()].map((e) => e.ready));
  }

  /** Drops every generation this instance built (a CLI run cleans up after itself). */
  async dropOwn(): Promise<void> {
    await Promise.allSettled([...this.entries.values()].map((e) => e.ready));
    for (const [k, e] of this.entries) {
      this.entries.delete(k);
      await this.projections.dropPointInTime(e.build.projection, e.build.generation).catch(() => undefined);
    }
  }

  builds(): PointInTimeBuild[] {
    return [...this.entries.values()].map((e) => ({ ...e.build }));
  }

  /**
   * Runs `fn` against the read models of `defs` as they stood at `position`: inside one
   * transaction whose search path puts each point-in-time schema before the public views.
   */
  async read<T>(
    defs: ProjectionDefinition[],
    position: bigint,
    fn: (db: SqlExecutor, view: PointInTimeView) => Promise<T>,
    opts: { waitMs?: number } = {},
  ): Promise<T> {
    const used: Entry[] = [];
    try {
      // Every projection's build starts at once; the answer waits for all of them.
      for (const def of defs) used.push(await this.acquire(def, position));
      const ready = Promise.all(used.map((e) => e.ready));
      if (opts.waitMs === undefined) await ready;
      else if (!(await settledWithin(ready, opts.waitMs))) {
        const builds = used.map((e) => ({ ...e.build }));
        throw new PointInTimeBuildingError(builds, retryAfter(builds, this.now()));
      }
      const schemas = used.map((e) => schemaOf(e.build.projection, e.build.generation));
      const view: PointInTimeView = {
        asOfPosition: position,
        generations: used.map((e) => ({ projection: e.build.projection, generation: e.build.generation, expiresAt: e.build.expiresAt })),
      };
      return await this.sql.transaction(async (tx) => {
        await tx.exec(`SET LOCAL search_path TO ${schemas.join(', ')}, public`);
        return fn(tx, view);
      });
    } finally {
      for (const e of used) {
        e.inUse--;
        e.lastUsedMs = this.now();
      }
    }
  }

  /** Builds (or reuses) the point-in-time generation of one projection; resolves when it is ready. */
  async ensure(def: ProjectionDefinition, position: bigint): Promise<PointInTimeBuild> {
    const e = await this.acquire(def, position);
    try {
      await e.ready;
      return { ...e.build };
    } finally {
      e.inUse--;
    }
  }

  private async acquire(def: ProjectionDefinition, position: bigint): Promise<Entry> {
    const k = key(def.name, position);
    const existing = this.entries.get(k);
    if (existing && existing.build.state !== 'failed' && Date.parse(existing.build.expiresAt) > this.now()) {
      existing.inUse++;
      existing.lastUsedMs = this.now();
      return existing;
    }
    if (existing) {
      this.entries.delete(k);
      await this.projections.dropPointInTime(def.name, existing.build.generation).catch(() => undefined);
    }
    await this.makeRoom();
    const expiresAt = new Date(this.now() + this.opts.ttlMs);
    const gen = await this.projections.createPointInTime(def, position, expiresAt);
    const build: PointInTimeBuild = {
      projection: def.name,
      asOfPosition: position,
      generation: gen.generation,
      state: 'building',
      position: 0n,
      eventsApplied: 0,
      percent: 0,
      startedAt: new Date(this.now()).toISOString(),
      finishedAt: null,
      seconds: null,
      expiresAt: expiresAt.toISOString(),
      error: null,
    };
    const entry: Entry = { build, ready: Promise.resolve(), inUse: 1, lastUsedMs: this.now() };
    entry.ready = this.fill(def, build).catch(async (err: Error) => {
      build.state = 'failed';
      build.error = err.message;
      await this.projections.dropPointInTime(def.name, build.generation).catch(() => undefined);
      throw err;
    });
    entry.ready.catch(() => undefined); // observed by whoever awaits it
    this.entries.set(k, entry);
    return entry;
  }

  /** Applies the projection's events in (0, position] in batches, each with its checkpoint. */
  private async fill(def: ProjectionDefinition, build: PointInTimeBuild): Promise<void> {
    const started = performance.now();
    const batchSize = this.opts.batchSize ?? 5000;
    const target = build.asOfPosition;
    let from = 0n;
    // Bounded: each turn advances `from` by at least one position or ends.
    while (from < target) {
      if (this.closing) throw new Error(`point-in-time build of ${def.name} at ${target} stopped: shutting down`);
      const events = await this.store.readAll({ after: from, maxCount: batchSize, filter: { eventTypes: def.eventTypes } });
      const inView = events.filter((e) => e.position <= target);
      const full = events.length === batchSize && inView.length === events.length;
      const to = full ? inView[inView.length - 1].position : target;
      if (!(await this.projections.applyBatch(def, build.generation, from, to, inView))) {
        throw new Error(`point-in-time build of ${def.name} at ${target} lost its generation ${build.generation}`);
      }
      from = to;
      build.position = to;
      build.eventsApplied += inView.length;
      build.percent = target > 0n ? Number((to * 10_000n) / target) / 100 : 100;
    }
    // Fresh tables have no statistics yet: without them the planner picks walks the live tables never get.
    for (const t of def.tables) await this.sql.exec(`ANALYZE ${schemaOf(def.name, build.generation)}.${t}`);
    build.state = 'ready';
    build.percent = 100;
    build.finishedAt = new Date(this.now()).toISOString();
    build.seconds = Math.round(performance.now() - started) / 1000;
  }

  private async makeRoom(): Promise<void> {
    await this.sweep();
    if (this.entries.size < this.opts.maxGenerations) return;
    const unused = [...this.entries.entries()].filter(([, e]) => e.inUse === 0 && e.build.state !== 'building').sort((a, b) => a[1].lastUsedMs - b[1].lastUsedMs);
    if (!unused.length) {
      throw new PointInTimeLimitError(
        `${this.entries.size} point-in-time read models are being built or read (at most ${this.opts.maxGenerations}); try again when one is done`,
      );
    }
    const [k, e] = unused[0];
    this.entries.delete(k);
    await this.projections.dropPointInTime(e.build.projection, e.build.generation);
  }

  /**
   * Drops every expired point-in-time generation not in use here. Another process's (a CLI
   * export, a second server) is left alone until it expires, so a half-built one a dead process
   * left behind goes after one TTL.
   */
  async sweep(): Promise<number> {
    const nowMs = this.now();
    let dropped = 0;
    const mine = new Map([...this.entries.values()].map((e) => [`${e.build.projection}#${e.build.generation}`, e]));
    for (const g of await this.projections.pointInTimeGenerations()) {
      if (g.expiresAt.getTime() > nowMs) continue;
      const entry = mine.get(`${g.name}#${g.generation}`);
      if (entry && (entry.inUse > 0 || entry.build.state === 'building')) continue;
      if (entry) this.entries.delete(key(g.name, g.asOfPosition));
      await this.projections.dropPointInTime(g.name, g.generation);
      dropped++;
    }
    for (const [k, e] of this.entries) if (e.inUse === 0 && e.build.state !== 'building' && Date.parse(e.build.expiresAt) <= nowMs) this.entries.delete(k);
    return dropped;
  }
}
