// What every operator command handler does the same way: read one stream, fold it, decide with a
// pure function, append with the expected revision (reloading and deciding again once if another
// writer got there first), and answer with what was recorded. A command may carry a
// deterministic event id (from its Idempotency-Key): if that event is already in the stream the
// command was done before and its record is returned instead of deciding again.
import { createHash } from 'node:crypto';
import type { EventMetadata, NewEvent, RecordedEvent } from '../ledger/envelope.js';
import type { EventStore } from '../ledger/event-store.port.js';
import { WrongExpectedRevisionError } from '../ledger/errors.js';

/** What a command recorded: enough to read the event back from the log. */
export interface CommandReceipt {
  eventId: string;
  type: string;
  streamId: string;
  /** Revision of the event in its stream (decimal string). */
  revision: string;
  /** Global position of the event (decimal string). */
  position: string;
  recordedAt: string;
  actor: string;
}

/** Who issued a command and under which request; the metadata of the events it writes. */
export interface CommandContext {
  actor: string;
  correlationId: string;
  /** Deterministic event id for an idempotent command; a random one otherwise. */
  eventId?: string;
}

/** Two writers kept changing the stream under us; the caller may simply retry. */
export class ConcurrentCommandError extends Error {
  readonly code = 'CONCURRENT_COMMAND';
  constructor(readonly streamId: string) {
    super(`stream "${streamId}" changed twice while the command was being decided; retry the request`);
    this.name = 'ConcurrentCommandError';
  }
}

export function commandMetadata(ctx: CommandContext): EventMetadata {
  return { correlationId: ctx.correlationId, causationId: null, actor: ctx.actor, tenant: 'default' };
}

/** A UUID (version 5 layout) derived from the parts: the same parts always give the same id. */
export function deterministicUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000'), 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function receiptOf(e: { id: string; type: string; recordedAt: string; metadata: EventMetadata }, streamId: string, revision: bigint, position: bigint): CommandReceipt {
  return {
    eventId: e.id,
    type: e.type,
    streamId,
    revision: revision.toString(),
    position: position.toString(),
    recordedAt: e.recordedAt,
    actor: e.metadata.actor,
  };
}

export async function decideAndAppend<S>(
  store: EventStore,
  opts: {
    streamId: string;
    eventId?: string;
    fold: (events: RecordedEvent[]) => S;
    /** The event to append, or the error to throw (a refusal the API turns into a 4xx). */
    decide: (state: S) => NewEvent | Error;
  },
): Promise<CommandReceipt> {
  const eventId = opts.eventId?.toLowerCase();
  for (let attempt = 0; ; attempt++) {
    const events = await store.readStream(opts.streamId);
    if (eventId) {
      const done = events.find((e) => e.id === eventId);
      if (done) return receiptOf(done, opts.streamId, done.revision, done.position);
    }
    const decided = opts.decide(opts.fold(events));
    if (decided instanceof Error) throw decided;
    const event = eventId ? { ...decided, id: eventId } : decided;
    const expected = events.length ? events[events.length - 1].revision : 'no_stream';
    try {
      const r = await store.append(opts.streamId, [event], expected);
      if (r.duplicate) {
        // A concurrent duplicate wrote it first: answer with the stored event, not our copy.
        const [stored] = await store.readStream(opts.streamId, { fromRevision: r.nextRevision, maxCount: 1 });
        if (stored?.id === event.id) return receiptOf(stored, opts.streamId, stored.revision, stored.position);
      }
      return receiptOf(event, opts.streamId, r.nextRevision, r.position);
    } catch (err) {
      if (!(err instanceof WrongExpectedRevisionError)) throw err;
      if (attempt >= 1) throw new ConcurrentCommandError(opts.streamId);
    }
  }
}
