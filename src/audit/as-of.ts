// "As of" for audits: every time-travel question (history, engine and saga state, point-in-time
// read models, evidence bundles) is answered at one global position of the log. A time is turned
// into the position of the last event recorded at or before it; a position is checked against
// the log. Bad cut-offs (in the future, before the first event, past the head) are refused with
// an AsOfError naming what was wrong, which the edges turn into a 400 or exit 2.
import type { EventStore } from '../ledger/event-store.port.js';

export class AsOfError extends Error {
  readonly code = 'BAD_AS_OF';
  constructor(message: string) {
    super(message);
    this.name = 'AsOfError';
  }
}

/** A cut-off as given by a user: a time, a position, or neither (= the head now). */
export interface AsOfInput {
  time?: Date | string | null;
  position?: bigint | string | null;
}

export interface AsOf {
  /** Events at or below this global position are in view. */
  position: bigint;
  /** recordedAt of the event at `position`. */
  positionTime: string;
  /** The time asked for, if a time was asked for. */
  requestedTime: string | null;
  head: bigint;
}

const POSITION = /^\d{1,19}$/;

/**
 * Resolves a cut-off to a position. `nowMs` is an input (a decision never reads the clock).
 * A time T means the log as it stood at T: the prefix up to the last event recorded at or before
 * T, whose successor was recorded after T (an event is made, then appended, and appends commit
 * in position order, so nothing after that successor can have been in the log at T either).
 * It is found by binary search over positions (log2(head) single-event reads on any adapter),
 * which is exact when recorded times rise with positions, as they do when events are appended as
 * they are made; for a log imported out of time order, ask by asOfPosition.
 */
export async function resolveAsOf(store: EventStore, input: AsOfInput, nowMs: number): Promise<AsOf> {
  const hasTime = input.time !== null && input.time !== undefined && input.time !== '';
  const hasPosition = input.position !== null && input.position !== undefined && input.position !== '';
  if (hasTime && hasPosition) throw new AsOfError('give asOf (a time) or asOfPosition, not both');
  const head = await store.headPosition();
  const first = (await store.readAll({ after: 0n, maxCount: 1, raw: true }))[0];
  if (!first) throw new AsOfError('the ledger is empty: there is no point in time to look at yet');
  const at = async (p: bigint) => {
    const e = (await store.readAll({ after: p - 1n, maxCount: 1, raw: true }))[0];
    if (!e) throw new AsOfError(`position ${p} is past the head of the log (${head})`);
    return e;
  };
  if (hasPosition) {
    const raw = typeof input.position === 'bigint' ? input.position.toString() : String(input.position).trim();
    if (!POSITION.test(raw)) throw new AsOfError(`asOfPosition must be a non-negative integer (got "${raw.slice(0, 40)}")`);
    const p = BigInt(raw);
    if (p > head) throw new AsOfError(`asOfPosition ${p} is past the head of the log (${head}); the newest position is ${head}`);
    if (p < first.position) throw new AsOfError(`asOfPosition ${p} is before the first event (position ${first.position})`);
    const e = await at(p);
    // Adapters with gaps between positions (EventStoreDB) answer the next event: step back to the one in view.
    const position = e.position === p ? p : await lastAtOrBefore(store, first.position, p);
    const shown = position === e.position ? e : await at(position);
    return { position, positionTime: shown.recordedAt, requestedTime: null, head };
  }
  if (!hasTime) {
    const last = await at(head);
    return { position: head, positionTime: last.recordedAt, requestedTime: null, head };
  }
  const t = input.time instanceof Date ? input.time : new Date(String(input.time));
  if (Number.isNaN(t.getTime())) throw new AsOfError(`asOf is not a valid time: "${String(input.time).slice(0, 60)}" (use ISO-8601, e.g. 2026-11-30T12:00:00Z)`);
  if (t.getTime() > nowMs) throw new AsOfError(`asOf ${t.toISOString()} is in the future (now is ${new Date(nowMs).toISOString()})`);
  const cut = t.toISOString();
  if (first.recordedAt > cut) throw new AsOfError(`asOf ${cut} is before the first event (recorded ${first.recordedAt})`);
  let lo = first.position; // recordedAt(lo) <= cut
  let loEvent = first;
  let hi = head;
  const headEvent = await at(head);
  if (headEvent.recordedAt <= cut) return { position: headEvent.position, positionTime: headEvent.recordedAt, requestedTime: cut, head };
  // Invariant: the event at lo is in view; every event after hi is not. Bounded: log2(head) steps.
  for (let steps = 0; lo < hi && steps < 128; steps++) {
    const mid = lo + (hi - lo + 1n) / 2n;
    const e = await at(mid);
    if (e.recordedAt <= cut && e.position <= hi) {
      lo = e.position;
      loEvent = e;
    } else hi = mid - 1n;
  }
  return { position: lo, positionTime: loEvent.recordedAt, requestedTime: cut, head };
}

/** The largest event position ≤ p (for logs whose positions have gaps). */
async function lastAtOrBefore(store: EventStore, from: bigint, p: bigint): Promise<bigint> {
  let lo = from;
  let hi = p;
  for (let steps = 0; lo < hi && steps < 128; steps++) {
    const mid = lo + (hi - lo + 1n) / 2n;
    const e = (await store.readAll({ after: mid - 1n, maxCount: 1, raw: true }))[0];
    if (e && e.position <= p) lo = e.position;
    else hi = mid - 1n;
  }
  return lo;
}
