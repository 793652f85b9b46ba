// Recomputes the log's hashes from the stored events and names the first thing that does not
// match: an auditor's proof that nothing was altered. It checks, in one pass over the log:
//   - each event's content hash and its stream's chain (a changed or missing event in a stream);
//   - the global chain over the whole log (a reorder, or a change anywhere before a later event);
//   - dense positions where the store promises them (a removed event leaves a gap);
//   - the store's own bookkeeping: the log head and every stream head (a removed tail of a
//     stream or of the log, a removed whole stream);
//   - every LedgerSealed event: its signature, and that the chain really stood where it says;
//   - optionally a digest kept outside the database: the log must still pass through its seal.
// A writer who can rewrite every row, recompute every hash and fix the head tables passes the
// first four; only a seal whose signature they cannot make (and a digest they cannot reach)
// catches them. What each check proves: docs/decisions/0007-tamper-evidence.md, README "Security".
import type { RecordedEvent } from './envelope.js';
import { schemaProblems } from './schema.js';
import type { EventStore } from './event-store.port.js';
import { chainHash, contentHash, GENESIS_HASH, logChainHash } from './hash-chain.js';
import { LedgerSealed, sealSignatureProblem, type LedgerSealedPayload, type SealDigest } from './sealing/seal.js';

export type VerifyFailureKind =
  | 'event'
  | 'gap'
  | 'global-chain'
  | 'log-head'
  | 'missing-tail'
  | 'missing-stream'
  | 'stream-head'
  | 'no-such-stream'
  | 'seal'
  | 'digest';

export interface VerifyFailure {
  kind: VerifyFailureKind;
  /** The event, stream or position the failure is about, where there is one. */
  streamId: string | null;
  revision: bigint | null;
  position: bigint | null;
  eventId: string | null;
  reason: string;
}

export interface SealSummary {
  /** Position of the LedgerSealed event. */
  eventPosition: bigint;
  eventId: string;
  payload: LedgerSealedPayload;
}

export interface UnsealedSummary {
  /** Events after the last seal's position (all events when there is no seal). */
  events: number;
  /** First and last unsealed positions, when there are any. */
  fromPosition: bigint | null;
  toPosition: bigint | null;
  /** The streams those events belong to (at most 20 named). */
  streams: string[];
}

export interface VerifyResult {
  ok: boolean;
  eventsChecked: number;
  streamsChecked: number;
  /** The first failure (null when ok). */
  failure: VerifyFailure | null;
  /** Every failure found, in log order, at most MAX_FAILURES (verify goes on past one). */
  failures: VerifyFailure[];
  /** Whole-log runs only: the global chain's head as recomputed. */
  logHead: { position: bigint; hash: string } | null;
  sealsChecked: number;
  lastSeal: SealSummary | null;
  unsealed: UnsealedSummary | null;
  /** With a digest: true when the log passed through its seal unchanged. */
  digestExtended: boolean | null;
  /** What this store let verify check, for the report (e.g. no stream heads on EventStoreDB). */
  checks: string[];
}

export interface VerifyOptions {
  streamId?: string;
  pageSize?: number;
  onProgress?: (checked: number, position: bigint) => void;
  /** A seal kept outside the database (`arbiter digest`): the log must still extend it. */
  digest?: SealDigest;
  /**
   * Public keys (base58) whose seals are accepted. Default: the digest's key when a digest is
   * given, else any key whose signature verifies (the report names the keys seen).
   */
  trustedSealKeys?: string[];
}

/** How far back (in events) a seal's position may lie behind the seal itself and still be checked. */
const SEAL_WINDOW = 100_000;
const UNSEALED_KEPT = 1000;
export const MAX_FAILURES = 20;

/** Checks one event against the hash the chain expects before it; returns a reason or null. */
export function checkEvent(e: RecordedEvent, expectedPrev: string, expectedRevision: bigint): string | null {
  if (e.revision !== expectedRevision) return `revision ${e.revision} where ${expectedRevision} was expected (an event is missing or was reordered)`;
  if (e.prevHash !== expectedPrev) return `prevHash ${short(e.prevHash)} does not match the previous event's hash ${short(expectedPrev)}`;
  // Events are hashed as written, at their original schema version, so recompute on the raw payload.
  const content = contentHash(e);
  if (content !== e.contentHash) return `content hash ${short(content)} recomputed from the stored event differs from the recorded ${short(e.contentHash)} (the event was altered)`;
  const h = chainHash(e.prevHash, e.revision, content);
  if (h !== e.hash) return `chain hash ${short(h)} differs from the recorded ${short(e.hash)}`;
  return null;
}

const atEvent = (kind: VerifyFailureKind, e: RecordedEvent, reason: string): VerifyFailure => ({
  kind,
  streamId: e.streamId,
  revision: e.revision,
  position: e.position,
  eventId: e.id,
  reason,
});

const general = (kind: VerifyFailureKind, reason: string, streamId: string | null = null, position: bigint | null = null): VerifyFailure => ({
  kind,
  streamId,
  revision: null,
  position,
  eventId: null,
  reason,
});

export async function verifyLog(store: EventStore, opts: VerifyOptions = {}): Promise<VerifyResult> {
  return opts.streamId ? verifyStream(store, opts.streamId, opts) : verifyAll(store, opts);
}

async function verifyStream(store: EventStore, streamId: string, opts: VerifyOptions): Promise<VerifyResult> {
  const pageSize = opts.pageSize ?? 5000;
  const result = emptyResult(['content hashes', 'stream chain']);
  let prev = { hash: GENESIS_HASH, revision: -1n, position: 0n };
  let from = 0n;
  const fail = (f: VerifyFailure): VerifyResult => ({ ...result, ok: false, streamsChecked: 1, failure: f, failures: [f] });
  for (;;) {
    const page = await store.readStream(streamId, { fromRevision: from, maxCount: pageSize, raw: true });
    for (const e of page) {
      const reason = checkEvent(e, prev.hash, prev.revision + 1n);
      result.eventsChecked++;
      if (reason) return fail(atEvent('event', e, reason));
      prev = { hash: e.hash, revision: e.revision, position: e.position };
    }
    if (page.length < pageSize) break;
    from = page[page.length - 1].revision + 1n;
    opts.onProgress?.(result.eventsChecked, page[page.length - 1].position);
  }
  const book = store.bookkeeping;
  const head = book ? await book.streamHead(streamId) : null;
  if (book) result.checks.push('stream head');
  if (result.eventsChecked === 0) {
    if (head) {
      return fail(general('missing-stream', `stream "${streamId}" has no events, but the store records its head at revision ${head.revision} (position ${head.position}): the whole stream was removed`, streamId));
    }
    return fail(general('no-such-stream', `stream "${streamId}" does not exist: no events and no record of it`, streamId));
  }
  if (book) {
    const why = headMismatch(streamId, prev, head);
    if (why) return fail(why);
  }
  return { ...result, ok: true, streamsChecked: 1 };
}

async function verifyAll(store: EventStore, opts: VerifyOptions): Promise<VerifyResult> {
  const pageSize = opts.pageSize ?? 5000;
  const book = store.bookkeeping;
  const dense = book?.contiguousPositions ?? false;
  const checks = ['content hashes', 'stream chains', 'global chain', 'seal signatures'];
  if (dense) checks.push('dense positions');
  if (book) checks.push('log head', 'stream heads');
  if (opts.digest) checks.push('digest');
  const result = emptyResult(checks);
  const trusted = opts.trustedSealKeys ?? (opts.digest ? [opts.digest.seal.publicKey] : null);

  const streams = new Map<string, { hash: string; revision: bigint; position: bigint }>();
  // Recent global chain hashes by position, for checking what a seal says about a slightly
  // earlier position (a seal names the head it read, which its own event follows).
  const recent = new Map<bigint, string>([[0n, GENESIS_HASH]]);
  let unsealed: { position: bigint; streamId: string }[] = [];
  let unsealedCount = 0;
  let logHash = GENESIS_HASH;
  let lastPosition = 0n;
  const digestAt = opts.digest ? BigInt(opts.digest.seal.position) : null;
  const digestEventAt = opts.digest ? BigInt(opts.digest.sealEventPosition) : null;
  let digestSeen = false;
  let digestEventSeen = false;

  const failures: VerifyFailure[] = [];
  const report = (f: VerifyFailure) => {
    if (failures.length < MAX_FAILURES) failures.push(f);
  };
  let digestMissed = false;

  // Every check reports and the walk goes on, re-synchronised on what is stored, so one run
  // names each thing that is wrong rather than only the first.
  const visit = (e: RecordedEvent): void => {
    result.eventsChecked++;
    if (result.eventsChecked > 1 && e.position <= lastPosition) {
      report(atEvent('global-chain', e, `position ${e.position} comes after position ${lastPosition}: the log is out of order`));
    } else if (dense && e.position !== lastPosition + 1n) {
      report(
        atEvent(
          'gap',
          e,
          `position ${e.position} follows position ${lastPosition}: ${e.position - lastPosition - 1n} event(s) at positions ${lastPosition + 1n}–${e.position - 1n} were removed`,
        ),
      );
    }
    // A digest names the chain at its position; passing that position without landing on it
    // means the event there is gone.
    if (digestAt !== null && !digestSeen && !digestMissed && digestAt > 0n && e.position > digestAt) {
      digestMissed = true;
      report(atEvent('digest', e, `the digest's sealed position ${digestAt} is no longer in the log (the next event is at ${e.position}): events were removed before the seal`));
    }
    const prev = streams.get(e.streamId) ?? { hash: GENESIS_HASH, revision: -1n, position: 0n };
    const reason = checkEvent(e, prev.hash, prev.revision + 1n);
    if (reason) report(atEvent('event', e, reason));
    streams.set(e.streamId, { hash: e.hash, revision: e.revision, position: e.position });

    const computed = logChainHash(logHash, e.position, e.hash);
    if (e.logHash !== undefined && e.logHash !== computed) {
      report(
        atEvent(
          'global-chain',
          e,
          `global chain hash ${short(computed)} recomputed at position ${e.position} differs from the recorded ${short(e.logHash)}: events at or before this position were reordered, removed or rewritten`,
        ),
      );
    }
    logHash = e.logHash ?? computed;
    lastPosition = e.position;
    recent.set(e.position, logHash);
    if (recent.size > SEAL_WINDOW) recent.delete(recent.keys().next().value!);

    if (digestAt !== null && e.position === digestAt) {
      digestSeen = true;
      if (computed !== opts.digest!.seal.hash) {
        report(atEvent('digest', e, `the global chain at the digest's position ${digestAt} is ${short(computed)}, the digest says ${short(opts.digest!.seal.hash)}: the log at or before the sealed position was changed`));
      }
    }
    if (digestEventAt !== null && e.position === digestEventAt) {
      digestEventSeen = true;
      const p = e.payload as LedgerSealedPayload;
      if (e.id !== opts.digest!.sealEventId || e.type !== LedgerSealed.type || p?.signature !== opts.digest!.seal.signature) {
        report(atEvent('digest', e, `the event at the digest's seal position ${digestEventAt} is not the digest's seal ${opts.digest!.sealEventId}`));
      }
    }

    unsealedCount++;
    if (unsealed.length < UNSEALED_KEPT) unsealed.push({ position: e.position, streamId: e.streamId });
    if (e.type === LedgerSealed.type) {
      const why = checkSeal(e, recent, trusted);
      if (why) return report(atEvent('seal', e, why));
      result.sealsChecked++;
      result.lastSeal = { eventPosition: e.position, eventId: e.id, payload: e.payload as LedgerSealedPayload };
      const covered = BigInt((e.payload as LedgerSealedPayload).position);
      // What the seal covers is sealed; the events between its position and itself are not.
      unsealed = unsealed.filter((u) => u.position > covered);
      unsealedCount = countAfter(recent, covered);
    }
  };

  let after = 0n;
  for (;;) {
    const page = await store.readAll({ after, maxCount: pageSize, raw: true });
    for (const e of page) visit(e);
    if (!page.length) break;
    after = page[page.length - 1].position;
    opts.onProgress?.(result.eventsChecked, after);
  }

  if (opts.digest) {
    if (!digestSeen && !digestMissed && digestAt !== 0n) {
      report(general('digest', `the log ends at position ${lastPosition}, before the digest's sealed position ${digestAt}: events were removed`, null, lastPosition));
    }
    if (!digestEventSeen) {
      report(general('digest', `the digest's seal event ${opts.digest.sealEventId} (position ${digestEventAt}) is no longer in the log`, null, digestEventAt));
    }
  }

  if (book) {
    const recorded = await book.recordedLogHead();
    if (recorded.position !== lastPosition) {
      report(
        general(
          'log-head',
          recorded.position > lastPosition
            ? `the log head records position ${recorded.position} but the last event is at ${lastPosition}: the tail of the log (${recorded.position - lastPosition} event(s)) was removed`
            : `the log head records position ${recorded.position} but events go on to ${lastPosition}`,
          null,
          lastPosition,
        ),
      );
    } else if (recorded.hash !== logHash) {
      report(general('log-head', `the log head records global chain hash ${short(recorded.hash)} but the chain recomputes to ${short(logHash)}`, null, lastPosition));
    }
    const headed = new Set<string>();
    let from: string | undefined;
    for (;;) {
      const heads = await book.streamHeads({ after: from, maxCount: pageSize });
      for (const h of heads) {
        headed.add(h.streamId);
        const seen = streams.get(h.streamId);
        if (!seen) {
          report(general('missing-stream', `stream "${h.streamId}" is recorded (head at revision ${h.revision}, position ${h.position}) but has no events: the whole stream was removed`, h.streamId, h.position));
          continue;
        }
        const why = headMismatch(h.streamId, seen, h);
        if (why) report(why);
      }
      if (heads.length < pageSize) break;
      from = heads[heads.length - 1].streamId;
    }
    for (const id of streams.keys()) {
      if (!headed.has(id)) report(general('stream-head', `stream "${id}" has events but the store has no record of its head`, id));
    }
  }

  if (failures.length) {
    return {
      ...result,
      ok: false,
      streamsChecked: streams.size,
      failure: failures[0],
      failures,
      logHead: { position: lastPosition, hash: logHash },
      digestExtended: opts.digest ? false : null,
    };
  }
  const names = [...new Set(unsealed.map((u) => u.streamId))];
  return {
    ...result,
    ok: true,
    streamsChecked: streams.size,
    logHead: { position: lastPosition, hash: logHash },
    unsealed: {
      events: unsealedCount,
      fromPosition: unsealed[0]?.position ?? null,
      toPosition: unsealedCount ? lastPosition : null,
      streams: names.slice(0, 20),
    },
    digestExtended: opts.digest ? true : null,
  };
}

function checkSeal(e: RecordedEvent, recent: Map<bigint, string>, trusted: string[] | null): string | null {
  const problems: string[] = [];
  schemaProblems(LedgerSealed.payload, e.payload, 'payload', problems);
  if (problems.length) return `the seal is malformed: ${problems.join('; ')}`;
  const p = e.payload as LedgerSealedPayload;
  const why = sealSignatureProblem(p);
  if (why) return `the seal is not genuine: ${why}`;
  if (trusted && !trusted.includes(p.publicKey)) return `the seal is signed by ${p.publicKey}, which is not a trusted seal key (${trusted.join(', ')})`;
  const position = BigInt(p.position);
  if (position >= e.position) return `the seal names position ${position}, not before its own position ${e.position}`;
  const at = recent.get(position);
  if (at === undefined) return `the seal names position ${position}, which is not in the log (or more than ${SEAL_WINDOW} events back)`;
  if (at !== p.hash) {
    return `the seal says the global chain stood at ${short(p.hash)} at position ${position}, but it recomputes to ${short(at)}: the log at or before position ${position} was changed after it was sealed`;
  }
  return null;
}

/** Events (by the recent window) after a position. */
function countAfter(recent: Map<bigint, string>, position: bigint): number {
  let n = 0;
  for (const p of recent.keys()) if (p > position) n++;
  return n;
}

function headMismatch(
  streamId: string,
  last: { hash: string; revision: bigint; position: bigint },
  head: { revision: bigint; hash: string; position: bigint } | null,
): VerifyFailure | null {
  if (!head) return general('stream-head', `stream "${streamId}" has events but the store has no record of its head`, streamId);
  if (head.revision > last.revision) {
    return general(
      'missing-tail',
      `stream "${streamId}" ends at revision ${last.revision} but its head records revision ${head.revision}: its last ${head.revision - last.revision} event(s) were removed`,
      streamId,
      head.position,
    );
  }
  if (head.revision < last.revision) {
    return general('stream-head', `stream "${streamId}" goes on to revision ${last.revision} but its head records revision ${head.revision}`, streamId, last.position);
  }
  if (head.hash !== last.hash || head.position !== last.position) {
    return general(
      'stream-head',
      `stream "${streamId}" head records hash ${short(head.hash)} at position ${head.position}, its last event has ${short(last.hash)} at ${last.position}: the stream was rewritten or reordered`,
      streamId,
      last.position,
    );
  }
  return null;
}

function emptyResult(checks: string[]): VerifyResult {
  return {
    ok: true,
    eventsChecked: 0,
    streamsChecked: 0,
    failure: null,
    failures: [],
    logHead: null,
    sealsChecked: 0,
    lastSeal: null,
    unsealed: null,
    digestExtended: null,
    checks,
  };
}

const short = (h: string) => (h.length > 12 ? `${h.slice(0, 12)}…` : h);
