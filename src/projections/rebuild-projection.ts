// RebuildProjection: records who asked for a rebuild of a read model and why
// (ProjectionRebuildRequested), then rebuilds it in the background into a fresh generation while
// the live one keeps serving (see projection-runner.ts). One rebuild per projection at a time in
// this process; the tracker keeps the progress and the final digest for GET
// /projections/:name/rebuild.
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore } from '../ledger/event-store.port.js';
import { newEvent } from '../ledger/event-types.js';
import { SQL_CLIENT, type SqlClient } from '../shared/sql/sql-client.js';
import { rebuildProjection, RebuildInterruptedError, type RebuildProgress, type RebuildResult } from './projection-runner.js';
import { ProjectionStore } from './projection-store.js';
import type { ProjectionDefinition } from './projection.js';
import { allProjections, findProjection } from '../../projections/index.js';
import { commandMetadata, decideAndAppendOne, type CommandContext, type CommandReceipt } from '../ledger/decide-and-append.js';
import { ProjectionRebuildRequested, projectionStreamId } from './events.js';

export class UnknownProjectionError extends Error {
  readonly code = 'UNKNOWN_PROJECTION';
  constructor(readonly projection: string, known: string[]) {
    super(`there is no projection "${projection}"; projections: ${known.join(', ')}`);
    this.name = 'UnknownProjectionError';
  }
}

export class RebuildInProgressError extends Error {
  readonly code = 'REBUILD_IN_PROGRESS';
  constructor(readonly projection: string, since: string) {
    super(`a rebuild of ${projection} is already running (since ${since}); follow it at GET /projections/${projection}/rebuild`);
    this.name = 'RebuildInProgressError';
  }
}

export interface RebuildStatus {
  projection: string;
  state: 'idle' | 'running' | 'completed' | 'failed';
  /** Id of the ProjectionRebuildRequested event. */
  requestEventId: string | null;
  requestedBy: string | null;
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  progress: {
    generation: number;
    /** Global position scanned up to, and the log's head (decimal strings). */
    position: string;
    head: string;
    eventsApplied: number;
    percent: number;
    elapsedSeconds: number;
    eventsPerSecond: number;
    etaSeconds: number | null;
  } | null;
  result: { generation: number; eventsApplied: number; seconds: number; digest: string } | null;
  error: string | null;
}

@Injectable()
export class RebuildTracker implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('Rebuild');
  private readonly statuses = new Map<string, RebuildStatus>();
  private readonly running = new Map<string, Promise<void>>();
  /** Stops running rebuilds between batches on shutdown; their generations are resumed on the next start. */
  private readonly halt = new AbortController();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SQL_CLIENT) private readonly sql: SqlClient,
  ) {}

  status(projection: string): RebuildStatus {
    return (
      this.statuses.get(projection) ?? {
        projection,
        state: 'idle',
        requestEventId: null,
        requestedBy: null,
        reason: null,
        startedAt: null,
        finishedAt: null,
        progress: null,
        result: null,
        error: null,
      }
    );
  }

  isRunning(projection: string): boolean {
    return this.running.has(projection);
  }

  /** Claims the projection synchronously, so two requests in the same tick cannot both start. */
  reserve(projection: string, actor: string, reason: string): () => void {
    const current = this.statuses.get(projection);
    if (this.running.has(projection)) throw new RebuildInProgressError(projection, current?.startedAt ?? 'just now');
    const previous = current;
    this.running.set(projection, Promise.resolve());
    this.statuses.set(projection, {
      ...this.status(projection),
      state: 'running',
      requestEventId: null,
      requestedBy: actor,
      reason,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      progress: null,
      result: null,
      error: null,
    });
    return () => {
      this.running.delete(projection);
      if (previous) this.statuses.set(projection, previous);
      else this.statuses.delete(projection);
    };
  }

  /**
   * A rebuild that the previous run did not finish (stopped, killed) left its building
   * generation: go on with it from its checkpoint, in the background.
   */
  async onApplicationBootstrap(): Promise<void> {
    let interrupted: Awaited<ReturnType<ProjectionStore['interrupted']>>;
    try {
      interrupted = await new ProjectionStore(this.sql).interrupted();
    } catch (err) {
      this.logger.warn(`could not look for interrupted rebuilds: ${(err as Error).message}`);
      return;
    }
    for (const g of interrupted) {
      const def = findProjection(g.name);
      if (!def || this.running.has(def.name)) continue;
      this.logger.log(`resuming the interrupted rebuild of ${def.name} (generation ${g.generation}) from position ${g.checkpoint}`);
      this.reserve(def.name, 'system', `resumed after a restart: generation ${g.generation} was left at position ${g.checkpoint}`);
      this.start(def, null);
    }
  }

  /** Starts the reserved rebuild in the background. */
  start(def: ProjectionDefinition, requestEventId: string | null): void {
    const s = this.statuses.get(def.name)!;
    s.requestEventId = requestEventId;
    const onProgress = (p: RebuildProgress) => {
      s.progress = {
        generation: p.generation,
        position: p.position.toString(),
        head: p.head.toString(),
        eventsApplied: p.eventsApplied,
        percent: p.head > 0n ? Math.min(100, Number((p.position * 10_000n) / p.head) / 100) : 100,
        elapsedSeconds: round(p.elapsedSeconds),
        eventsPerSecond: Math.round(p.eventsPerSecond),
        etaSeconds: p.etaSeconds === null ? null : round(p.etaSeconds),
      };
    };
    const task = rebuildProjection(this.store, this.sql, def, { onProgress, signal: this.halt.signal })
      .then((r: RebuildResult) => {
        s.state = 'completed';
        s.result = { generation: r.generation, eventsApplied: r.eventsApplied, seconds: round(r.seconds), digest: r.digest };
        this.logger.log(`rebuilt ${def.name} into generation ${r.generation}: ${r.eventsApplied} events in ${r.seconds.toFixed(1)} s`);
      })
      .catch((err: Error) => {
        if (err instanceof RebuildInterruptedError) {
          this.logger.warn(err.message);
          return;
        }
        s.state = 'failed';
        s.error = err.message;
        this.logger.error(`rebuild of ${def.name} failed: ${err.message}`);
      })
      .finally(() => {
        s.finishedAt = new Date().toISOString();
        this.running.delete(def.name);
      });
    this.running.set(def.name, task);
  }

  /** Resolves when the projection's running rebuild (if any) has finished. */
  async settled(projection: string): Promise<void> {
    await this.running.get(projection);
  }

  /** Shutdown stops rebuilds between batches (a batch is short), so it never waits for a whole rebuild. */
  async onModuleDestroy(): Promise<void> {
    this.halt.abort();
    await Promise.allSettled([...this.running.values()]);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

export class RebuildProjection extends Command<CommandReceipt> {
  constructor(readonly ctx: CommandContext, readonly projection: string, readonly reason: string) {
    super();
  }
}

@CommandHandler(RebuildProjection)
export class RebuildProjectionHandler implements ICommandHandler<RebuildProjection> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly tracker: RebuildTracker,
  ) {}

  async execute(cmd: RebuildProjection): Promise<CommandReceipt> {
    const def = findProjection(cmd.projection);
    if (!def) throw new UnknownProjectionError(cmd.projection, allProjections.map((p) => p.name));
    const release = this.tracker.reserve(def.name, cmd.ctx.actor, cmd.reason);
    let receipt: CommandReceipt;
    try {
      receipt = await decideAndAppendOne(this.store, {
        streamId: projectionStreamId(def.name),
        eventId: cmd.ctx.eventId,
        fold: () => null,
        decide: () =>
          newEvent(ProjectionRebuildRequested, { projection: def.name, actor: cmd.ctx.actor, reason: cmd.reason }, commandMetadata(cmd.ctx)),
      });
    } catch (err) {
      release();
      throw err;
    }
    this.tracker.start(def, receipt.eventId);
    return receipt;
  }
}
