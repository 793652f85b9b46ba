// The auditor's view of the raw log: one stream or the whole log, as of a position, filtered by
// event type, stream prefix, correlation id (one trade's whole trail across streams) and actor,
// in cursor pages of events with their hashes. Works on any event store adapter through the
// port: types and prefix are filtered by the store, correlation and actor here, over a bounded
// scan per page (a page may come back short, with a cursor to go on from where the scan ended).
import type { RecordedEvent } from '../ledger/envelope.js';
import type { EventStore } from '../ledger/event-store.port.js';

export class HistoryInputError extends Error {
  readonly code = 'BAD_HISTORY_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'HistoryInputError';
  }
}

export interface HistoryQuery {
  streamId?: string | null;
  streamPrefix?: string | null;
  eventTypes?: string[] | null;
  correlationId?: string | null;
  actor?: string | null;
  /** Events at or below this position only. */
  asOfPosition: bigint;
  first: number;
  /** Opaque cursor from an earlier page. */
  after?: string | null;
}

export interface HistoryPage {
  events: RecordedEvent[];
  nextCursor: string | null;
  /** The last position (whole log) or revision (one stream) this page's scan reached. */
  scannedTo: bigint;
}

export const MAX_HISTORY_PAGE = 1000;
/** Events read from the store, at most, to fill one page (correlation and actor filters). */
export const MAX_HISTORY_SCAN = 20_000;

const READ_PAGE = 1000;

function cursorOf(kind: 's' | 'a', at: bigint): string {
  return Buffer.from(JSON.stringify({ h: kind, at: at.toString() }), 'utf8').toString('base64url');
}

function decode(kind: 's' | 'a', cursor: string | null | undefined): bigint | null {
  if (cursor === null || cursor === undefined) return null;
  const bad = () => new HistoryInputError('after is not a valid cursor for this history: pass the nextCursor of an earlier page of the same query, unchanged');
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw bad();
  try {
    const p = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { h?: unknown; at?: unknown };
    if (p.h !== kind || typeof p.at !== 'string' || !/^-?\d{1,20}$/.test(p.at)) throw bad();
    return BigInt(p.at);
  } catch {
    throw bad();
  }
}

export function checkHistoryQuery(q: HistoryQuery): void {
  if (!Number.isInteger(q.first) || q.first < 1 || q.first > MAX_HISTORY_PAGE) {
    throw new HistoryInputError(`first must be between 1 and ${MAX_HISTORY_PAGE} (got ${q.first}); walk larger results page by page with after`);
  }
  if (q.streamId !== null && q.streamId !== undefined && (q.streamId.length < 1 || q.streamId.length > 200)) {
    throw new HistoryInputError('streamId must be 1 to 200 characters');
  }
  if (q.streamId && q.streamPrefix) throw new HistoryInputError('give streamId or streamPrefix, not both');
  if (q.streamPrefix !== null && q.streamPrefix !== undefined && (q.streamPrefix.length < 1 || q.streamPrefix.length > 200)) {
    throw new HistoryInputError('streamPrefix must be 1 to 200 characters');
  }
  if (q.eventTypes && (q.eventTypes.length > 50 || q.eventTypes.some((t) => !/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/.test(t)))) {
    throw new HistoryInputError('eventTypes must be at most 50 event type names (letters, digits, _ . -)');
  }
  for (const [name, v] of [['correlationId', q.correlationId], ['actor', q.actor]] as const) {
    if (v !== null && v !== undefined && (v.length < 1 || v.length > 200)) throw new HistoryInputError(`${name} must be 1 to 200 characters`);
  }
}

function matches(q: HistoryQuery, e: RecordedEvent): boolean {
  if (q.correlationId && e.metadata.correlationId !== q.correlationId) return false;
  if (q.actor && e.metadata.actor !== q.actor) return false;
  if (q.eventTypes?.length && !q.eventTypes.includes(e.type)) return false;
  if (q.streamPrefix && !e.streamId.startsWith(q.streamPrefix)) return false;
  return true;
}

/** One page of history. Events come as stored (raw: their recorded schema version), so their hashes recompute. */
export async function readHistory(store: EventStore, q: HistoryQuery): Promise<HistoryPage> {
  checkHistoryQuery(q);
  const out: RecordedEvent[] = [];
  let scanned = 0;
  if (q.streamId) {
    let from = (decode('s', q.after) ?? -1n) + 1n;
    for (;;) {
      const page = await store.readStream(q.streamId, { fromRevision: from, maxCount: READ_PAGE, raw: true });
      for (const e of page) {
        if (e.position > q.asOfPosition) return { events: out, nextCursor: null, scannedTo: e.revision - 1n };
        scanned++;
        if (matches(q, e)) out.push(e);
        if (out.length === q.first || scanned >= MAX_HISTORY_SCAN) return { events: out, nextCursor: cursorOf('s', e.revision), scannedTo: e.revision };
      }
      if (page.length < READ_PAGE) return { events: out, nextCursor: null, scannedTo: from + BigInt(page.length) - 1n };
      from = page[page.length - 1].revision + 1n;
    }
  }
  let after = decode('a', q.after) ?? 0n;
  const filter = { eventTypes: q.eventTypes?.length ? q.eventTypes : undefined, streamPrefix: q.streamPrefix ?? undefined };
  for (;;) {
    const page = await store.readAll({ after, maxCount: READ_PAGE, filter, raw: true });
    for (const e of page) {
      if (e.position > q.asOfPosition) return { events: out, nextCursor: null, scannedTo: q.asOfPosition };
      scanned++;
      if (matches(q, e)) out.push(e);
      if (out.length === q.first || scanned >= MAX_HISTORY_SCAN) {
        const done = e.position >= q.asOfPosition;
        return { events: out, nextCursor: done ? null : cursorOf('a', e.position), scannedTo: e.position };
      }
    }
    if (page.length < READ_PAGE) return { events: out, nextCursor: null, scannedTo: q.asOfPosition };
    after = page[page.length - 1].position;
  }
}
