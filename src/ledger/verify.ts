// Recomputes every event's content hash and its stream's hash chain from the stored events and
// names the first event that does not match: an auditor's proof that nothing was altered.
import type { RecordedEvent } from './envelope.js';
import type { EventStore } from './event-store.port.js';
import { chainHash, contentHash, GENESIS_HASH } from './hash-chain.js';

export interface VerifyFailure {
  streamId: string;
  revision: bigint;
  position: bigint;
  eventId: string;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  eventsChecked: number;
  streamsChecked: number;
  failure: VerifyFailure | null;
}

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

export async function verifyLog(
  store: EventStore,
  opts: { streamId?: string; pageSize?: number; onProgress?: (checked: number, position: bigint) => void } = {},
): Promise<VerifyResult> {
  const last = new Map<string, { hash: string; revision: bigint }>();
  let checked = 0;
  const visit = (e: RecordedEvent): VerifyFailure | null => {
    const prev = last.get(e.streamId) ?? { hash: GENESIS_HASH, revision: -1n };
    const reason = checkEvent(e, prev.hash, prev.revision + 1n);
    checked++;
    if (reason) return { streamId: e.streamId, revision: e.revision, position: e.position, eventId: e.id, reason };
    last.set(e.streamId, { hash: e.hash, revision: e.revision });
    return null;
  };
  const pageSize = opts.pageSize ?? 5000;
  if (opts.streamId) {
    let from = 0n;
    for (;;) {
      const page = await store.readStream(opts.streamId, { fromRevision: from, maxCount: pageSize, raw: true });
      for (const e of page) {
        const f = visit(e);
        if (f) return { ok: false, eventsChecked: checked, streamsChecked: 1, failure: f };
      }
      if (page.length < pageSize) break;
      from = page[page.length - 1].revision + 1n;
      opts.onProgress?.(checked, page[page.length - 1].position);
    }
    return { ok: true, eventsChecked: checked, streamsChecked: checked ? 1 : 0, failure: null };
  }
  let after = 0n;
  for (;;) {
    const page = await store.readAll({ after, maxCount: pageSize, raw: true });
    for (const e of page) {
      const f = visit(e);
      if (f) return { ok: false, eventsChecked: checked, streamsChecked: last.size, failure: f };
    }
    if (!page.length) break;
    after = page[page.length - 1].position;
    opts.onProgress?.(checked, after);
  }
  return { ok: true, eventsChecked: checked, streamsChecked: last.size, failure: null };
}

const short = (h: string) => (h.length > 12 ? `${h.slice(0, 12)}…` : h);
