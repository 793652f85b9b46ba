// Exporting an evidence bundle (format and offline check: bundle.ts). Two steps, so a bad
// request is refused before a byte is written: `prepareExport` checks the selection, resolves
// the range to positions and reads the events (bounded), then `writeBundle` writes the lines
// (events, stream anchors, seals, the ledger's verification of those streams, point-in-time
// reports) and records who exported what as an AuditBundleExported event.
import { randomUUID } from 'node:crypto';
import { toJsonEvent, type RecordedEvent } from '../ledger/envelope.js';
import type { EventStore } from '../ledger/event-store.port.js';
import { newEvent } from '../ledger/event-types.js';
import { verifyLog } from '../ledger/verify.js';
import { loadReport, REPORT_KINDS, type ReportKind } from '../reports/export.js';
import { reports as reportsProjection } from '../../projections/reports.js';
import { AsOfError, resolveAsOf } from './as-of.js';
import { BundleWriter, BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, CHAIN_BLOCK, HASH_FORMULAS, MAX_BUNDLE_CHAIN_POSITIONS, rowsDigest, type BundleEvent, type BundleSelection } from './bundle.js';
import { AuditBundleExported, auditExportStreamId } from './events.js';
import type { PointInTimeReadModels } from './point-in-time.js';

/** Events one bundle may hold. */
export const MAX_BUNDLE_EVENTS = 50_000;
/** Positions a stream or correlation selection may scan. */
export const MAX_BUNDLE_SCAN_POSITIONS = 2_000_000n;
/** The event type of the ledger's seals (issue 9); bundles include them when the registry knows it. */
export const SEAL_EVENT_TYPE = 'LedgerSealed';

export interface ExportRequest {
  /** ISO time (events recorded at or after it) or a global position (inclusive); default: the first event. */
  from?: string | null;
  /** ISO time (events recorded before it) or a global position (inclusive); default: the head. */
  to?: string | null;
  streamId?: string | null;
  correlationId?: string | null;
  reports?: string[];
  actor: string;
  via: 'cli' | 'rest';
}

export interface PreparedExport {
  request: ExportRequest;
  selection: BundleSelection;
  fromPosition: bigint;
  toPosition: bigint;
  head: bigint;
  events: RecordedEvent[];
  reports: ReportKind[];
  reportRange: { from: string; to: string };
}

const POSITION = /^\d{1,19}$/;
const isTime = (v: string) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v));

export async function prepareExport(store: EventStore, req: ExportRequest, nowMs: number): Promise<PreparedExport> {
  if (req.streamId && req.correlationId) throw new AsOfError('give a stream or a correlation id, not both');
  for (const [name, v] of [['stream', req.streamId], ['correlation', req.correlationId]] as const) {
    if (v !== null && v !== undefined && (v.length < 1 || v.length > 200)) throw new AsOfError(`${name} must be 1 to 200 characters`);
  }
  const kinds: ReportKind[] = [];
  for (const k of req.reports ?? []) {
    if (!REPORT_KINDS.includes(k as ReportKind)) throw new AsOfError(`unknown report "${k}"; reports: ${REPORT_KINDS.join(', ')}`);
    if (!kinds.includes(k as ReportKind)) kinds.push(k as ReportKind);
  }
  const first = (await store.readAll({ after: 0n, maxCount: 1, raw: true }))[0];
  if (!first) throw new AsOfError('the ledger is empty: there is nothing to export');
  const head = await store.headPosition();

  const resolve = async (name: 'from' | 'to', v: string | null | undefined): Promise<bigint> => {
    if (v === null || v === undefined || v === '') return name === 'from' ? first.position : head;
    if (POSITION.test(v)) {
      const p = BigInt(v);
      if (p > head) throw new AsOfError(`${name} position ${p} is past the head of the log (${head})`);
      if (p < first.position) throw new AsOfError(`${name} position ${p} is before the first event (position ${first.position})`);
      return p;
    }
    if (!isTime(v)) throw new AsOfError(`${name} must be an ISO-8601 time such as 2026-11-30T00:00:00Z or a global position (got "${v.slice(0, 60)}")`);
    const t = new Date(v);
    if (t.getTime() > nowMs) throw new AsOfError(`${name} ${t.toISOString()} is in the future (now is ${new Date(nowMs).toISOString()})`);
    if (name === 'from') {
      // The first event recorded at or after the time.
      if (t.toISOString() <= first.recordedAt) return first.position;
      const before = await resolveAsOf(store, { time: new Date(t.getTime() - 1) }, nowMs);
      return before.position + 1n;
    }
    if (t.toISOString() <= first.recordedAt) throw new AsOfError(`to ${t.toISOString()} is before the first event (recorded ${first.recordedAt})`);
    return (await resolveAsOf(store, { time: new Date(t.getTime() - 1) }, nowMs)).position;
  };
  const fromPosition = await resolve('from', req.from);
  const toPosition = await resolve('to', req.to);
  if (fromPosition > toPosition) throw new AsOfError(`the range is empty: from resolves to position ${fromPosition}, after to (${toPosition})`);

  const span = toPosition - fromPosition + 1n;
  const selected = !!(req.streamId || req.correlationId);
  if (!selected && span > BigInt(MAX_BUNDLE_EVENTS)) {
    throw new AsOfError(`the range holds ${span} positions; one bundle holds at most ${MAX_BUNDLE_EVENTS} events: export a shorter range, a stream or a correlation id`);
  }
  if (selected && req.correlationId && span > MAX_BUNDLE_SCAN_POSITIONS) {
    throw new AsOfError(`a correlation export scans the range, which holds ${span} positions; at most ${MAX_BUNDLE_SCAN_POSITIONS}: give a shorter range`);
  }

  const events: RecordedEvent[] = [];
  const keep = (e: RecordedEvent) => {
    events.push(e);
    if (events.length > MAX_BUNDLE_EVENTS) throw new AsOfError(`the selection holds more than ${MAX_BUNDLE_EVENTS} events, the most one bundle holds: give a shorter range`);
  };
  if (req.streamId) {
    let rev = 0n;
    for (let turn = 0; turn < 10_000; turn++) {
      const page = await store.readStream(req.streamId, { fromRevision: rev, maxCount: 1000, raw: true });
      for (const e of page) if (e.position >= fromPosition && e.position <= toPosition) keep(e);
      if (page.length < 1000 || page[page.length - 1].position > toPosition) break;
      rev = page[page.length - 1].revision + 1n;
    }
  } else {
    let after = fromPosition - 1n;
    for (let turn = 0; turn < 100_000; turn++) {
      const page = await store.readAll({ after, maxCount: 5000, raw: true });
      for (const e of page) {
        if (e.position > toPosition) break;
        if (!req.correlationId || e.metadata.correlationId === req.correlationId) keep(e);
      }
      if (page.length < 5000 || page[page.length - 1].position >= toPosition) break;
      after = page[page.length - 1].position;
    }
  }

  if (selected && !events.length) {
    throw new AsOfError(`no events of ${req.streamId ? `stream "${req.streamId}"` : `correlation id "${req.correlationId}"`} in positions ${fromPosition}..${toPosition}`);
  }
  const timeOf = async (p: bigint) => (await store.readAll({ after: p - 1n, maxCount: 1, raw: true }))[0]?.recordedAt ?? first.recordedAt;
  const reportRange = {
    from: req.from && !POSITION.test(req.from) ? new Date(req.from).toISOString() : await timeOf(fromPosition),
    to: req.to && !POSITION.test(req.to) ? new Date(req.to).toISOString() : new Date(Date.parse(await timeOf(toPosition)) + 1).toISOString(),
  };
  return {
    request: req,
    selection: {
      from: req.from && !POSITION.test(req.from) ? new Date(req.from).toISOString() : null,
      to: req.to && !POSITION.test(req.to) ? new Date(req.to).toISOString() : null,
      streamId: req.streamId ?? null,
      correlationId: req.correlationId ?? null,
    },
    fromPosition,
    toPosition,
    head,
    events,
    reports: kinds,
    reportRange,
  };
}

const bundleEvent = (e: RecordedEvent): BundleEvent => toJsonEvent(e) as unknown as BundleEvent;

/** Seals covering the range: those inside it and the first one at or after its end (at most 1000). */
async function coveringSeals(store: EventStore, prepared: PreparedExport): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  if (!store.registry.get(SEAL_EVENT_TYPE)) return out;
  let after = prepared.fromPosition - 1n;
  for (let turn = 0; turn < 100; turn++) {
    const page = await store.readAll({ after, maxCount: 100, raw: true, filter: { eventTypes: [SEAL_EVENT_TYPE] } });
    for (const e of page) {
      out.push(e);
      if (out.length >= 1000 || e.position >= prepared.toPosition) return out;
    }
    if (page.length < 100) break;
    after = page[page.length - 1].position;
  }
  return out;
}

/**
 * The span of the global chain the bundle carries: from the position before the range (its
 * anchor; from position 1 the genesis hash is) to the range's end or the newest position a
 * covering seal signs, whichever is later. Left out, with the reason, when the store keeps no
 * global chain or the span is longer than MAX_BUNDLE_CHAIN_POSITIONS.
 */
async function chainSpan(store: EventStore, prepared: PreparedExport, seals: RecordedEvent[]): Promise<{ from: bigint; to: bigint } | { omitted: string }> {
  const from = prepared.fromPosition > 1n ? prepared.fromPosition - 1n : 1n;
  let to = prepared.toPosition;
  for (const s of seals) {
    const p = BigInt((s.payload as { position: string }).position);
    if (p > to) to = p;
  }
  if (!store.bookkeeping?.contiguousPositions) return { omitted: 'this store does not keep the global chain with dense positions' };
  if (to - from + 1n > MAX_BUNDLE_CHAIN_POSITIONS) {
    return { omitted: `the chain from position ${from} to ${to} spans more than ${MAX_BUNDLE_CHAIN_POSITIONS} positions; export a shorter range to carry it` };
  }
  const [probe] = await store.readAll({ after: from - 1n, maxCount: 1, raw: true });
  if (!probe || probe.logHash === undefined) return { omitted: 'this store records no global chain hash per event' };
  return { from, to };
}

async function writeChain(store: EventStore, span: { from: bigint; to: bigint }, emit: (r: { record: 'chain'; entries: [string, string, string][] }) => Promise<void> | void): Promise<void> {
  let after = span.from - 1n;
  let block: [string, string, string][] = [];
  while (after < span.to) {
    const page = await store.readAll({ after, maxCount: 5000, raw: true });
    if (!page.length) throw new Error(`the log ends at position ${after}, before the chain's end ${span.to}`);
    for (const e of page) {
      if (e.position > span.to) break;
      if (e.logHash === undefined) throw new Error(`event at position ${e.position} has no global chain hash`);
      block.push([e.position.toString(), e.hash, e.logHash]);
      if (block.length >= CHAIN_BLOCK) {
        await emit({ record: 'chain', entries: block });
        block = [];
      }
    }
    after = page[page.length - 1].position;
  }
  if (block.length) await emit({ record: 'chain', entries: block });
}

export interface WrittenBundle {
  exportId: string;
  digest: string;
  events: number;
  /** Position of the AuditBundleExported event. */
  recordedAt: bigint;
}

/** Writes the bundle's lines to `write` (awaited: backpressure), then records the export. */
export async function writeBundle(
  store: EventStore,
  pit: PointInTimeReadModels | null,
  prepared: PreparedExport,
  write: (chunk: string) => Promise<void> | void,
  nowMs: number,
): Promise<WrittenBundle> {
  const w = new BundleWriter();
  const exportId = randomUUID();
  const seals = await coveringSeals(store, prepared);
  const chain = await chainSpan(store, prepared, seals);
  await write(
    w.line({
      record: 'header',
      format: BUNDLE_FORMAT,
      formatVersion: BUNDLE_FORMAT_VERSION,
      createdAt: new Date(nowMs).toISOString(),
      exportedBy: prepared.request.actor,
      selection: prepared.selection,
      fromPosition: prepared.fromPosition.toString(),
      toPosition: prepared.toPosition.toString(),
      headAtExport: prepared.head.toString(),
      hashes: HASH_FORMULAS,
      chain: 'omitted' in chain ? null : { fromPosition: chain.from.toString(), toPosition: chain.to.toString() },
      chainOmitted: 'omitted' in chain ? chain.omitted : null,
    }),
  );
  const streams = new Map<string, { first: RecordedEvent; last: RecordedEvent; n: number }>();
  let chunk = '';
  for (const e of prepared.events) {
    chunk += w.line({ record: 'event', ...bundleEvent(e) });
    const s = streams.get(e.streamId);
    if (s) Object.assign(s, { last: e, n: s.n + 1 });
    else streams.set(e.streamId, { first: e, last: e, n: 1 });
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  for (const [streamId, s] of streams) {
    chunk += w.line({
      record: 'stream',
      streamId,
      firstRevision: s.first.revision.toString(),
      firstPrevHash: s.first.prevHash,
      lastRevision: s.last.revision.toString(),
      lastHash: s.last.hash,
      events: s.n,
    });
  }
  await write(chunk);

  for (const e of seals) await write(w.line({ record: 'seal', ...bundleEvent(e) }));
  if (!('omitted' in chain)) await writeChain(store, chain, (line) => write(w.line(line)));

  // The ledger's own verification of every stream the bundle touches, as it stands now.
  let checked = 0;
  let failure = null as null | { kind: string; streamId: string | null; revision: string | null; position: string | null; eventId: string | null; reason: string };
  for (const streamId of streams.keys()) {
    const r = await verifyLog(store, { streamId });
    checked += r.eventsChecked;
    if (!r.ok && r.failure) {
      const f = r.failure;
      failure = { kind: f.kind, streamId: f.streamId, revision: f.revision?.toString() ?? null, position: f.position?.toString() ?? null, eventId: f.eventId, reason: f.reason };
      break;
    }
  }
  await write(w.line({ record: 'verify', scope: 'streams', ok: failure === null, eventsChecked: checked, streamsChecked: streams.size, failure }));

  for (const kind of prepared.reports) {
    if (!pit) throw new Error('point-in-time reports need the read-model database');
    const report = await pit.read([reportsProjection], prepared.toPosition, (db) => loadReport(db, kind, prepared.reportRange.from, prepared.reportRange.to));
    await write(
      w.line({
        record: 'report',
        kind,
        from: report.from,
        to: report.to,
        asOfPosition: prepared.toPosition.toString(),
        columns: report.columns,
        rowCount: report.rows.length,
        rows: report.rows,
        rowsDigest: rowsDigest(report.rows),
      }),
    );
  }
  const done = w.finish();
  await write(done.line);

  const recorded = await store.append(
    auditExportStreamId(exportId),
    [
      newEvent(
        AuditBundleExported,
        {
          exportId,
          actor: prepared.request.actor,
          via: prepared.request.via,
          selection: prepared.selection,
          fromPosition: prepared.fromPosition.toString(),
          toPosition: prepared.toPosition.toString(),
          events: prepared.events.length,
          reports: prepared.reports,
          digest: done.digest,
        },
        { correlationId: `audit-export-${exportId}`, causationId: null, actor: prepared.request.actor, tenant: 'default' },
      ),
    ],
    'no_stream',
  );
  return { exportId, digest: done.digest, events: prepared.events.length, recordedAt: recorded.position };
}
