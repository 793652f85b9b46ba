// The event store on PostgreSQL (a server through `pg`, or embedded PGlite): same SQL, same
// migrations. Appends are serialised in the database (arbiter_append_group, migrations/021) and
// grouped in the process: requests that arrive while an append is in flight go together in the
// next transaction, so concurrent writers share one commit instead of queueing one by one.
import type { AppendResult, ExpectedRevision, NewEvent, ReadAllFilter, RecordedEvent } from '../envelope.js';
import { EventStoreUnavailableError, FencedError, IdempotencyConflictError, WrongExpectedRevisionError } from '../errors.js';
import type { EventTypeRegistry } from '../event-types.js';
import {
  checkAppend,
  type AppendFence,
  type AppendOptions,
  type EventStore,
  type LogHead,
  type LogReader,
  type ReadAllOptions,
  type ReadStreamOptions,
  type StoreBookkeeping,
  type StreamHead,
  type SubscribeOptions,
  type Subscription,
} from '../event-store.port.js';
import { contentHash, GENESIS_HASH } from '../hash-chain.js';
import { toBigInt, type SqlClient, type SqlExecutor } from '../../shared/sql/sql-client.js';
import { isConnectionError } from '../../shared/sql/availability.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** An event as arbiter_append_group takes it: checked, with its content hash. */
interface PreparedEvent {
  id: string;
  type: string;
  version: number;
  recordedAt: string;
  correlationId: string;
  causationId: string | null;
  actor: string;
  tenant: string;
  /** The payload as JSON text (each driver passes a string to jsonb as it is). */
  payload: string;
  contentHash: string;
}

export interface AppendRequest {
  stream: string;
  expected: string;
  events: PreparedEvent[];
  fence?: { stream: string; revision: string };
}

interface PendingAppend {
  request: AppendRequest;
  fence?: AppendFence;
  expected: ExpectedRevision;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

export interface AppendOutcome {
  status: 'ok' | 'duplicate' | 'wrong_expected_revision' | 'idempotency_conflict' | 'fenced';
  nextRevision?: string;
  position?: string;
  actual?: string;
  found?: number;
  stream?: string;
}

export interface EventRow {
  global_position: string;
  stream_id: string;
  stream_revision: string;
  event_id: string;
  event_type: string;
  schema_version: number;
  recorded_at: Date;
  correlation_id: string;
  causation_id: string | null;
  actor: string;
  tenant: string;
  payload: unknown;
  content_hash: string;
  prev_hash: string;
  hash: string;
  log_hash: string;
}

export const EVENT_COLUMNS =
  'global_position, stream_id, stream_revision, event_id, event_type, schema_version, recorded_at, correlation_id, causation_id, actor, tenant, payload, content_hash, prev_hash, hash, log_hash';

export function rowToEvent(r: EventRow): RecordedEvent {
  return {
    id: r.event_id,
    type: r.event_type,
    version: r.schema_version,
    streamId: r.stream_id,
    revision: toBigInt(r.stream_revision),
    position: toBigInt(r.global_position),
    recordedAt: (r.recorded_at instanceof Date ? r.recorded_at : new Date(r.recorded_at)).toISOString(),
    metadata: { correlationId: r.correlation_id, causationId: r.causation_id, actor: r.actor, tenant: r.tenant },
    payload: r.payload,
    contentHash: r.content_hash,
    prevHash: r.prev_hash,
    hash: r.hash,
    logHash: r.log_hash,
  };
}

export class PostgresEventStore implements EventStore {
  readonly name: string;
  /** The fence is checked inside arbiter_append (migrations/019). */
  readonly supportsFence = true;
  private queue: PendingAppend[] = [];
  private flushing = false;
  private readonly maxGroup = 256;

  constructor(
    readonly sql: SqlClient,
    readonly registry: EventTypeRegistry,
    private readonly opts: { livePollMs?: number; onAppend?: (seconds: number, events: number) => void } = {},
  ) {
    this.name = sql.kind === 'pglite' ? 'pglite' : 'postgres';
  }

  append(streamId: string, events: NewEvent[], expected: ExpectedRevision, options: AppendOptions = {}): Promise<AppendResult> {
    let checked: NewEvent[];
    try {
      checked = checkAppend(this.registry, streamId, events, expected, options);
    } catch (err) {
      return Promise.reject(err);
    }
    const request: AppendRequest = {
      stream: streamId,
      expected: typeof expected === 'bigint' ? expected.toString() : expected,
      events: checked.map((e) => ({
        id: e.id,
        type: e.type,
        version: e.version,
        recordedAt: e.recordedAt,
        correlationId: e.metadata.correlationId,
        causationId: e.metadata.causationId,
        actor: e.metadata.actor,
        tenant: e.metadata.tenant,
        payload: JSON.stringify(e.payload),
        contentHash: contentHash({ ...e, streamId }),
      })),
      ...(options.fence ? { fence: { stream: options.fence.stream, revision: options.fence.revision.toString() } } : {}),
    };
    const fence = options.fence;
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ request, expected, fence, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /**
   * Drains the queue: each round sends every waiting request in one transaction. A round starts
   * one macrotask after the queue got its first request, and after the previous round settled:
   * the writers that round released (and any other ready caller) run their continuations first
   * and queue their next appends, so they share the next commit instead of the first one back
   * taking a round alone and the rest waiting behind it.
   */
  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group = this.takeGroup();
        const started = performance.now();
        let outcomes: AppendOutcome[] | null = null;
        try {
          outcomes = await this.runAppend(group.map((p) => p.request));
        } catch (err) {
          if (group.length === 1) {
            group[0].reject(mapError(err));
            continue;
          }
          // Something in the group broke the transaction (nothing was written): retry each
          // request alone so one bad request cannot fail the others.
          for (const p of group) {
            try {
              settle(p, (await this.runAppend([p.request]))[0], this.foundPositions);
            } catch (e) {
              p.reject(mapError(e));
            }
          }
          continue;
        }
        const count = group.reduce((n, p) => n + p.request.events.length, 0);
        this.opts.onAppend?.((performance.now() - started) / 1000, count);
        group.forEach((p, i) => settle(p, outcomes![i], this.foundPositions));
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Positions of the `n` events from `fromRevision` in a stream (an idempotent re-append's). */
  private readonly foundPositions = async (stream: string, fromRevision: bigint, n: number): Promise<bigint[]> =>
    (await this.readStream(stream, { fromRevision, maxCount: n })).map((e) => e.position);

  /**
   * The next group: up to maxGroup requests in order, ending before a request that repeats an
   * event id of an earlier one in the group (a retry queued behind its first try). That one goes
   * in the next group, where the first try's events exist and it is answered as a duplicate.
   */
  private takeGroup(): PendingAppend[] {
    const ids = new Set<string>();
    let n = 0;
    while (n < this.queue.length && n < this.maxGroup) {
      const events = this.queue[n].request.events;
      if (n > 0 && events.some((e) => ids.has(e.id))) break;
      for (const e of events) ids.add(e.id);
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** One group in one transaction: arbiter_append_group (migrations/021) takes it by columns. */
  protected async runAppend(requests: AppendRequest[]): Promise<AppendOutcome[]> {
    const slots = new Map<string, number>();
    const streamIds: string[] = [];
    const slot = (stream: string): number => {
      let i = slots.get(stream);
      if (i === undefined) {
        streamIds.push(stream);
        i = streamIds.length;
        slots.set(stream, i);
      }
      return i;
    };
    const reqStreams: number[] = [];
    const reqExpected: string[] = [];
    const reqCounts: number[] = [];
    const reqFences: (number | null)[] = [];
    const reqFenceRevs: (string | null)[] = [];
    const columns: (string | number | null)[][] = Array.from({ length: 10 }, () => []);
    const [ids, types, versions, recordedAts, correlationIds, causationIds, actors, tenants, payloads, contentHashes] = columns;
    for (const r of requests) {
      reqStreams.push(slot(r.stream));
      reqExpected.push(r.expected);
      reqCounts.push(r.events.length);
      reqFences.push(r.fence ? slot(r.fence.stream) : null);
      reqFenceRevs.push(r.fence ? r.fence.revision : null);
      for (const e of r.events) {
        ids.push(e.id);
        types.push(e.type);
        versions.push(e.version);
        recordedAts.push(e.recordedAt);
        correlationIds.push(e.correlationId);
        causationIds.push(e.causationId);
        actors.push(e.actor);
        tenants.push(e.tenant);
        payloads.push(e.payload);
        contentHashes.push(e.contentHash);
      }
    }
    const { rows } = await this.sql.query<GroupRow>(
      `SELECT r_status, r_next_revision, r_position, r_actual, r_found, r_stream FROM arbiter_append_group(
         $1::text[], $2::integer[], $3::text[], $4::integer[], $5::integer[], $6::bigint[], $7::uuid[], $8::text[],
         $9::integer[], $10::timestamptz[], $11::text[], $12::text[], $13::text[], $14::text[], $15::jsonb[], $16::text[])`,
      [streamIds, reqStreams, reqExpected, reqCounts, reqFences, reqFenceRevs, ...columns],
      { prepared: 'arbiter_append_group' },
    );
    return rows.map((r) => ({
      status: r.r_status,
      ...(r.r_next_revision !== null ? { nextRevision: String(r.r_next_revision) } : {}),
      ...(r.r_position !== null ? { position: String(r.r_position) } : {}),
      ...(r.r_actual !== null ? { actual: String(r.r_actual) } : {}),
      ...(r.r_found !== null ? { found: Number(r.r_found) } : {}),
      ...(r.r_stream !== null ? { stream: r.r_stream } : {}),
    }));
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backward = options.direction === 'backward';
    const params: unknown[] = [streamId];
    let where = 'stream_id = $1';
    if (options.fromRevision !== undefined) {
      params.push(options.fromRevision.toString());
      where += backward ? ` AND stream_revision <= $2` : ` AND stream_revision >= $2`;
    }
    const limit = options.maxCount !== undefined ? ` LIMIT ${Math.max(0, Math.floor(options.maxCount))}` : '';
    try {
      const { rows } = await this.sql.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where} ORDER BY stream_revision ${backward ? 'DESC' : 'ASC'}${limit}`,
        params,
      );
      return rows.map((r) => (options.raw ? rowToEvent(r) : this.registry.upcast(rowToEvent(r))));
    } catch (err) {
      throw mapError(err);
    }
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const limit = Math.max(1, Math.min(options.maxCount ?? 1000, 100_000));
    const filtered = !!(options.filter?.eventTypes?.length || options.filter?.streamPrefix);
    const toEvent = (r: EventRow) => (options.raw ? rowToEvent(r) : this.registry.upcast(rowToEvent(r)));
    try {
      if (!filtered) return (await this.page(options.after ?? 0n, null, undefined, limit)).map(toEvent);
      // Filtered reads go through the log in bounded windows of positions (positions are
      // contiguous). Unbounded, `event_type = ANY(…)` or a prefix could be planned as a scan of
      // every later matching event plus a sort, so each page of a long catch-up would cost the
      // rest of the log; a window bounds every query whatever the filter's density.
      const head = await this.headPosition();
      const window = BigInt(Math.max(limit * 4, 20_000));
      const out: EventRow[] = [];
      let from = options.after ?? 0n;
      while (out.length < limit && from < head) {
        const to = from + window;
        const rows = await this.page(from, to, options.filter, limit - out.length);
        out.push(...rows);
        if (out.length < limit) from = to;
      }
      return out.map(toEvent);
    } catch (err) {
      throw mapError(err);
    }
  }

  /** Events after `from` (and at or before `to`), in position order, at most `limit`. */
  private async page(from: bigint, to: bigint | null, filter: ReadAllFilter | undefined, limit: number): Promise<EventRow[]> {
    const params: unknown[] = [from.toString()];
    const where = ['global_position > $1'];
    if (to !== null) {
      params.push(to.toString());
      where.push(`global_position <= $${params.length}`);
    }
    where.push(...filterSql(filter, params));
    const { rows } = await this.sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY global_position LIMIT ${limit}`,
      params,
    );
    return rows;
  }

  async headPosition(): Promise<bigint> {
    const { rows } = await this.sql.query<{ position: string }>('SELECT position FROM event_log_head WHERE id = 1');
    return rows.length ? toBigInt(rows[0].position) : 0n;
  }

  async logHead(): Promise<LogHead> {
    try {
      const { rows } = await this.sql.query<{ position: string; last_hash: string }>('SELECT position, last_hash FROM event_log_head WHERE id = 1');
      return rows.length ? { position: toBigInt(rows[0].position), hash: rows[0].last_hash } : { position: 0n, hash: GENESIS_HASH };
    } catch (err) {
      throw mapError(err);
    }
  }

  /** event_log_head, event_streams and dense positions (migrations/001, 007). */
  readonly bookkeeping: StoreBookkeeping = {
    contiguousPositions: true,
    recordedLogHead: () => this.logHead(),
    streamHeads: async ({ after, maxCount }) => {
      const params: unknown[] = [];
      let where = '';
      if (after !== undefined) {
        params.push(after);
        where = 'WHERE stream_id > $1';
      }
      const { rows } = await this.sql.query<StreamRow>(
        `SELECT stream_id, revision, last_hash, last_position FROM event_streams ${where} ORDER BY stream_id LIMIT ${Math.max(1, Math.floor(maxCount))}`,
        params,
      );
      return rows.map(toStreamHead);
    },
    streamHead: async (streamId) => {
      const { rows } = await this.sql.query<StreamRow>(
        'SELECT stream_id, revision, last_hash, last_position FROM event_streams WHERE stream_id = $1',
        [streamId],
      );
      return rows.length ? toStreamHead(rows[0]) : null;
    },
  };

  subscribeToAll(options: SubscribeOptions): Subscription {
    const batchSize = options.batchSize ?? 500;
    const pollMs = this.opts.livePollMs ?? 1000;
    let position = options.after ?? 0n;
    let stopped = false;
    let wake: (() => void) | null = null;
    let pendingWake = false;
    let unlisten: (() => Promise<void>) | null = null;
    const nudge = () => {
      pendingWake = true;
      wake?.();
    };

    const loop = async () => {
      try {
        unlisten = await this.sql.listen('arbiter_events', nudge);
      } catch {
        // Without LISTEN the subscription still follows the log by polling.
      }
      while (!stopped) {
        let page: RecordedEvent[];
        try {
          pendingWake = false;
          page = await this.readAll({ after: position, maxCount: batchSize, filter: options.filter });
        } catch (err) {
          options.onError?.(err as Error);
          await sleep(pollMs);
          continue;
        }
        if (stopped) break;
        if (page.length > 0) {
          await options.onEvents(page);
          position = page[page.length - 1].position;
          if (page.length === batchSize) continue;
        }
        if (pendingWake) continue;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = null;
      }
    };
    const done = loop().catch((err) => options.onError?.(err as Error)).finally(async () => {
      if (unlisten) await unlisten().catch(() => undefined);
    });
    return {
      get position() {
        return position;
      },
      async stop() {
        stopped = true;
        wake?.();
        await done;
      },
    };
  }

  readerWithin(sql: SqlClient, tx: SqlExecutor): LogReader | null {
    if (sql !== this.sql) return null;
    const through: SqlClient = {
      kind: sql.kind,
      availability: sql.availability,
      query: (text, params, options) => tx.query(text, params, options),
      exec: (script) => tx.exec(script),
      transaction: () => Promise.reject(new Error('a reader within a transaction cannot open another one')),
      listen: () => Promise.reject(new Error('a reader within a transaction cannot LISTEN')),
      close: async () => undefined,
    };
    return new PostgresEventStore(through, this.registry);
  }

  async close(): Promise<void> {
    // The SqlClient is shared with read models; its owner closes it.
  }
}

export function filterSql(filter: ReadAllFilter | undefined, params: unknown[]): string[] {
  const where: string[] = [];
  if (filter?.eventTypes?.length) {
    params.push(filter.eventTypes);
    where.push(`event_type = ANY($${params.length}::text[])`);
  }
  if (filter?.streamPrefix) {
    params.push(filter.streamPrefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%');
    where.push(`stream_id LIKE $${params.length}`);
  }
  return where;
}

interface GroupRow {
  r_status: AppendOutcome['status'];
  r_next_revision: string | number | bigint | null;
  r_position: string | number | bigint | null;
  r_actual: string | number | bigint | null;
  r_found: number | null;
  r_stream: string | null;
}

interface StreamRow {
  stream_id: string;
  revision: string;
  last_hash: string;
  last_position: string;
}

function toStreamHead(r: StreamRow): StreamHead {
  return { streamId: r.stream_id, revision: toBigInt(r.revision), hash: r.last_hash, position: toBigInt(r.last_position) };
}

/**
 * Answers a pending append. A request's written events take consecutive positions (one group, in
 * order); the events an idempotent re-append found were written by some earlier append and may
 * not be, so their positions are read back (`found`).
 */
function settle(p: PendingAppend, o: AppendOutcome, found: (stream: string, fromRevision: bigint, n: number) => Promise<bigint[]>): void {
  const n = p.request.events.length;
  const nextRevision = BigInt(o.nextRevision ?? -1);
  const position = BigInt(o.position ?? 0);
  switch (o.status) {
    case 'ok':
      p.resolve({ nextRevision, position, positions: p.request.events.map((_, i) => position - BigInt(n - 1 - i)), duplicate: false });
      return;
    case 'duplicate':
      found(p.request.stream, nextRevision - BigInt(n - 1), n).then(
        (positions) => p.resolve({ nextRevision, position, positions, duplicate: true }),
        (err: unknown) => p.reject(mapError(err)),
      );
      return;
    case 'wrong_expected_revision':
      p.reject(new WrongExpectedRevisionError(p.request.stream, p.expected, BigInt(o.actual!)));
      return;
    case 'fenced':
      p.reject(new FencedError(p.request.stream, p.fence!, BigInt(o.actual!)));
      return;
    case 'idempotency_conflict':
      p.reject(
        new IdempotencyConflictError(
          p.request.stream,
          `${o.found} of ${p.request.events.length} event ids already exist${o.stream && o.stream !== p.request.stream ? ` (in stream "${o.stream}")` : ''}`,
        ),
      );
  }
}

function mapError(err: unknown): unknown {
  if (isConnectionError(err)) {
    return new EventStoreUnavailableError(`PostgreSQL event store unavailable: ${(err as Error).message}`, { cause: err });
  }
  return err;
}

