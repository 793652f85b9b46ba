// The engine's fence, carried by whatever it runs: the saga service runs its work inside
// `engineFence.run(context, …)` (AsyncLocalStorage), and FencingEventStore adds the context's
// fence to every append made in it. Operator commands, projections and API writes run outside
// any engine context and are not fenced: they are accepted on every node.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AppendResult, ExpectedRevision, NewEvent } from '../envelope.js';
import { FencedError } from '../errors.js';
import type { AppendFence, AppendOptions, EventStore, LogReader } from '../event-store.port.js';
import type { SqlClient, SqlExecutor } from '../../shared/sql/sql-client.js';

export interface EngineFenceContext {
  /** The fencing token: `engine-leader` at the revision of this node's EngineLeadershipAcquired. */
  readonly fence: AppendFence;
  /** False once past the local deadline (last renewal + TTL − margin) or after stepping down. */
  mayAct(): boolean;
  /** Whether the store should be asked to check the fence (false only on EventStoreDB, opted in). */
  readonly checkInStore: boolean;
  /** Called when an append was refused for the fence: the node steps down. */
  onFenced(err: FencedError): void;
}

export const engineFence = new AsyncLocalStorage<EngineFenceContext>();

/**
 * Throws FencedError when the engine context this runs in may no longer act: the point before a
 * step's I/O (a signature, a send) where a deposed leader must stop, not only at its append.
 */
export function assertEngineMayAct(what: string): void {
  const ctx = engineFence.getStore();
  if (ctx && !ctx.mayAct()) throw new FencedError(what, ctx.fence, null);
}

const TOKEN_SUFFIX = /@token:(\d+)$/;

/** The actor of an event written under fencing token `token`. */
export function stampActor(actor: string, token: bigint): string {
  return `${actor.replace(TOKEN_SUFFIX, '')}@token:${token}`;
}

/** The fencing token an event was written under, from its actor; null for events written outside the engine's context or with HA off. */
export function tokenOfActor(actor: string): bigint | null {
  const m = TOKEN_SUFFIX.exec(actor);
  return m ? BigInt(m[1]) : null;
}

/** The event store every module gets: appends made inside an engine context carry its fence. */
export class FencingEventStore implements EventStore {
  constructor(private readonly inner: EventStore) {}

  get name() {
    return this.inner.name;
  }
  get registry() {
    return this.inner.registry;
  }
  get supportsFence() {
    return this.inner.supportsFence ?? false;
  }
  get bookkeeping() {
    return this.inner.bookkeeping;
  }

  async append(streamId: string, events: NewEvent[], expected: ExpectedRevision, options: AppendOptions = {}): Promise<AppendResult> {
    const ctx = engineFence.getStore();
    if (!ctx || options.fence) return this.inner.append(streamId, events, expected, options);
    if (!ctx.mayAct()) {
      const err = new FencedError(streamId, ctx.fence, null);
      ctx.onFenced(err);
      throw err;
    }
    // The token is written on the events too, in their actor ("engine@token:7"), so the log itself
    // shows which leadership wrote each engine event (and a fold can check none was written late).
    const stamped = events.map((e) => ({ ...e, metadata: { ...e.metadata, actor: stampActor(e.metadata.actor, ctx.fence.revision) } }));
    try {
      return await this.inner.append(streamId, stamped, expected, ctx.checkInStore ? { ...options, fence: ctx.fence } : options);
    } catch (err) {
      if (err instanceof FencedError) ctx.onFenced(err);
      throw err;
    }
  }

  readStream: EventStore['readStream'] = (s, o) => this.inner.readStream(s, o);
  readAll: EventStore['readAll'] = (o) => this.inner.readAll(o);
  subscribeToAll: EventStore['subscribeToAll'] = (o) => this.inner.subscribeToAll(o);
  headPosition: EventStore['headPosition'] = () => this.inner.headPosition();
  logHead: EventStore['logHead'] = () => this.inner.logHead();
  readerWithin(sql: SqlClient, tx: SqlExecutor): LogReader | null {
    return this.inner.readerWithin?.(sql, tx) ?? null;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
