// Evidence bundles end to end on the real PostgreSQL: `arbiter audit export` writes a bundle of a
// realistic log (events, anchors, the ledger's verification, a point-in-time report), records
// the export as an event, and `arbiter audit check` re-verifies it without the database; every
// kind of tampering is caught and named; bad selections exit 2.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../../src/cli/main.js';
import { buildEventRegistry } from '../../../src/event-catalog.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { chainHash, contentHash, logChainHash } from '../../../src/ledger/hash-chain.js';
import { LedgerSealer } from '../../../src/audit/sealer.js';
import { testSealSigner } from '../../support/seal-signer.js';
import { checkBundle } from '../../../src/audit/bundle.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { oppId, standardLog } from '../../unit/projections/fixtures.js';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out: (s: string) => void (io.stdout += s), err: (s: string) => void (io.stderr += s) };
  return io;
}

/** Rewrites a bundle's lines with `edit`, then (optionally) recomputes the trailer digest like a careful forger. */
function forge(text: string, edit: (records: any[]) => void, fixDigest: boolean): string {
  const records = text.trim().split('\n').map((l) => JSON.parse(l));
  edit(records);
  const lines = records.map((r) => JSON.stringify(r));
  if (fixDigest) {
    const trailer = records[records.length - 1];
    trailer.digest = createHash('sha256').update(lines.slice(0, -1).join('\n'), 'utf8').digest('hex');
    lines[lines.length - 1] = JSON.stringify(trailer);
  }
  return `${lines.join('\n')}\n`;
}

describe('arbiter audit export / check', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let store: PostgresEventStore;
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-audit-'));
  let bundle: string;
  let head: bigint;

  beforeAll(async () => {
    db = await freshDatabase();
    env = { DATABASE_URL: db.url };
    store = new PostgresEventStore(db.sql, buildEventRegistry());
    for (const e of standardLog()) await store.append(e.streamId, [e.event], 'any');
    head = await store.headPosition();
    const io = capture();
    const out = join(dir, 'all.jsonl');
    const code = await runCli(['audit', 'export', '--from', '1', '--to', head.toString(), '--report', 'daily_transactions', '--report=suspicious_activity', '--out', out], env, io);
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
    expect(io.stdout).toMatch(new RegExp(`wrote .*all.jsonl: ${head} events, positions 1..${head}`));
    bundle = readFileSync(out, 'utf8');
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('writes a self-describing bundle and records who exported what', async () => {
    const records = bundle.trim().split('\n').map((l) => JSON.parse(l));
    expect(records[0]).toMatchObject({ record: 'header', format: 'arbiter-evidence-bundle', formatVersion: 2, fromPosition: '1', toPosition: head.toString() });
    expect(records.filter((r) => r.record === 'event')).toHaveLength(Number(head));
    expect(records.find((r) => r.record === 'verify')).toMatchObject({ ok: true, eventsChecked: Number(head) });
    const reports = records.filter((r) => r.record === 'report');
    expect(reports.map((r) => r.kind)).toEqual(['daily_transactions', 'suspicious_activity']);
    expect(reports[0].rowCount).toBeGreaterThan(0);
    expect(records[records.length - 1].record).toBe('trailer');
    // The point-in-time generations the export built are gone.
    const left = await db.sql.query(`SELECT 1 FROM projection_generations WHERE status = 'point_in_time'`);
    expect(left.rows).toEqual([]);
    const exported = await store.readAll({ after: head, filter: { eventTypes: ['AuditBundleExported'] } });
    expect(exported).toHaveLength(1);
    expect(exported[0].payload).toMatchObject({ via: 'cli', fromPosition: '1', toPosition: head.toString(), events: Number(head), reports: ['daily_transactions', 'suspicious_activity'] });
    expect((exported[0].payload as { digest: string }).digest).toBe(records[records.length - 1].digest);
  });

  it('re-verifies offline: audit check needs no database', async () => {
    const file = join(dir, 'all.jsonl');
    const io = capture();
    expect(await runCli(['audit', 'check', file], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }, io)).toBe(0);
    expect(io.stdout).toMatch(new RegExp(`^OK: ${head} events in \\d+ streams \\(positions 1..${head}\\), 0 seals, 2 reports`));
    expect(io.stdout).toMatch(/note: no seals in the bundle/);
  });

  it('names the first thing that does not hold in a tampered bundle', () => {
    const eventLine = (records: any[], n: number) => records.filter((r) => r.record === 'event')[n];
    // A payload changed, trailer left alone: the content hash of that event no longer matches.
    let r = checkBundle(forge(bundle, (rs) => void (eventLine(rs, 3).payload.tampered = 'x'), false));
    expect(r.ok).toBe(false);
    expect(r.failure).toMatch(/^line 5: event .* content hash recomputed .* \(the event was altered\)/);
    // The forger also recomputes that event's hashes: the next event of its stream no longer chains.
    r = checkBundle(
      forge(bundle, (rs) => {
        const e = eventLine(rs, 0);
        e.payload = { ...e.payload, amountIn: '1' };
        e.contentHash = contentHash(e);
        e.hash = chainHash(e.prevHash, BigInt(e.revision), e.contentHash);
      }, true),
    );
    expect(r.failure).toMatch(/prevHash .* does not match the previous event's hash .* \(the chain is broken\)/);
    // An event removed from the middle of its stream.
    r = checkBundle(forge(bundle, (rs) => void rs.splice(rs.indexOf(eventLine(rs, 1)), 1), true));
    expect(r.failure).toMatch(/revisions in between are missing|does not match the previous event's hash|the trailer counts/);
    // Two events swapped.
    r = checkBundle(forge(bundle, (rs) => { const i = rs.indexOf(eventLine(rs, 1)); [rs[i], rs[i + 1]] = [rs[i + 1], rs[i]]; }, true));
    expect(r.failure).toMatch(/^line 3: event .* (follows revision 0: revisions in between are missing|is out of position order)/);
    // A report's rows edited.
    r = checkBundle(forge(bundle, (rs) => void (rs.find((x) => x.record === 'report').rows[0].realised_pnl = '999'), true));
    expect(r.failure).toMatch(/report daily_transactions: the digest of its rows/);
    // A line changed that breaks no hash (the header's exporter): the trailer's digest catches it.
    r = checkBundle(forge(bundle, (rs) => void (rs[0].exportedBy = 'someone else'), false));
    expect(r.failure).toMatch(/the trailer's digest .* a line was changed, added or removed/);
    // Truncated.
    r = checkBundle(bundle.split('\n').slice(0, 10).join('\n'));
    expect(r.failure).toMatch(/is not the trailer: the file is truncated/);
    // The stream anchor rewritten.
    r = checkBundle(forge(bundle, (rs) => void (rs.find((x) => x.record === 'stream').lastHash = '0'.repeat(64)), true));
    expect(r.failure).toMatch(/stream record .* does not match its events/);
  });

  it('exits 1 on a tampered file through the CLI, naming the event', async () => {
    const file = join(dir, 'tampered.jsonl');
    writeFileSync(file, forge(bundle, (rs) => void (rs.filter((r) => r.record === 'event')[2].metadata.actor = 'mallory'), true));
    const io = capture();
    expect(await runCli(['audit', 'check', file], env, io)).toBe(1);
    expect(io.stdout).toMatch(/^NOT VALID: line 4: event [0-9a-f-]{36} \(stream .*, revision \d+, position 3\): content hash/);
  });

  it('exports one trade by correlation id: its saga and its flags, whatever the streams', async () => {
    const id = oppId(3);
    const out = join(dir, 'trade.jsonl');
    const io = capture();
    expect(await runCli(['audit', 'export', '--correlation', id, '--out', out], env, io)).toBe(0);
    const text = readFileSync(out, 'utf8');
    const events = text.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.record === 'event');
    expect(events.length).toBeGreaterThan(2);
    expect(events.every((e) => e.metadata.correlationId === id)).toBe(true);
    expect(checkBundle(text)).toMatchObject({ ok: true, failure: null });
  });

  it('refuses bad selections with exit 2 and a message naming the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['audit', 'export', '--out', join(dir, 'x1.jsonl'), '--to', (head + 5n).toString()], /past the head of the log/],
      [['audit', 'export', '--out', join(dir, 'x2.jsonl'), '--to', '2099-01-01T00:00:00Z'], /in the future/],
      [['audit', 'export', '--out', join(dir, 'x3.jsonl'), '--to', '2020-01-01T00:00:00Z'], /before the first event/],
      [['audit', 'export', '--out', join(dir, 'x4.jsonl'), '--from', '5', '--to', '3'], /the range is empty/],
      [['audit', 'export', '--out', join(dir, 'x5.jsonl'), '--from', 'yesterday'], /--from must be an ISO-8601 time/],
      [['audit', 'export', '--stream', 'a', '--correlation', 'b', '--out', join(dir, 'x6.jsonl')], /not both/],
      [['audit', 'export', '--report', 'weekly', '--out', join(dir, 'x7.jsonl')], /is not a report/],
      [['audit', 'export'], /needs --out FILE/],
      [['audit', 'export', '--out', join(dir, 'all.jsonl')], /never overwrites a file/],
      [['audit', 'check'], /exactly one bundle file/],
      [['audit', 'check', join(dir, 'missing.jsonl')], /cannot read bundle/],
      [['audit', 'sign'], /export or check/],
      [['audit', 'export', '--stream', 'arbitrage-nope', '--out', join(dir, 'x8.jsonl')], /no events of stream "arbitrage-nope" in positions 1\.\.\d+/],
    ];
    for (const [args, message] of cases) {
      const io = capture();
      expect(await runCli(args, env, io), args.join(' ')).toBe(2);
      expect(io.stderr, args.join(' ')).toMatch(message);
    }
  });
});

describe('evidence bundles with seals: the global chain ties the events to a signed head', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let bundle: string;
  let sealedAt: bigint;
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-audit-sealed-'));

  beforeAll(async () => {
    db = await freshDatabase();
    store = new PostgresEventStore(db.sql, buildEventRegistry());
    const log = standardLog();
    const half = Math.floor(log.length / 2);
    for (const e of log.slice(0, half)) await store.append(e.streamId, [e.event], 'any');
    const sealer = new LedgerSealer(store, await testSealSigner('seal-audit'), null, { everyEvents: 1000, everySeconds: 60 });
    sealedAt = BigInt((await sealer.sealIfNew())!.payload.position);
    for (const e of log.slice(half)) await store.append(e.streamId, [e.event], 'any');
    // A second seal covers the rest; the export of the middle of the log takes both.
    await sealer.sealIfNew();
    const out = join(dir, 'sealed.jsonl');
    const io = capture();
    expect(await runCli(['audit', 'export', '--from', '3', '--to', (sealedAt + 2n).toString(), '--out', out], { DATABASE_URL: db.url }, io), io.stderr).toBe(0);
    bundle = readFileSync(out, 'utf8');
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  const records = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l));

  it('carries the chain from the position before the range to the newest sealed position, and checks the seals', () => {
    const rs = records(bundle);
    const chainEntries = rs.filter((r) => r.record === 'chain').flatMap((r) => r.entries);
    expect(rs[0].chain.fromPosition).toBe('2');
    expect(chainEntries[0][0]).toBe('2');
    expect(BigInt(chainEntries[chainEntries.length - 1][0])).toBeGreaterThan(sealedAt + 2n);
    const r = checkBundle(bundle);
    expect(r.failure).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.seals).toBe(2);
    expect(BigInt(r.sealedThrough!.position)).toBeGreaterThan(sealedAt + 2n);
    expect(r.sealedThrough!.keyId).toBe('seal-audit');
    expect(r.notes.join('\n')).toMatch(/sealed through position \d+ .* by seal-audit \(/);
  });

  it('catches a forger who rewrites an event and every hash after it, but cannot sign a seal', () => {
    const forged = forge(bundle, (rs) => {
      const events = rs.filter((r) => r.record === 'event');
      const target = events[1];
      target.payload = { ...target.payload, forged: true };
      target.contentHash = contentHash(target);
      target.hash = chainHash(target.prevHash, BigInt(target.revision), target.contentHash);
      // Every later event of its stream, the stream anchor, then the whole global chain.
      let prev = target.hash;
      for (const e of events.filter((e) => e.streamId === target.streamId && BigInt(e.revision) > BigInt(target.revision))) {
        e.prevHash = prev;
        e.hash = chainHash(prev, BigInt(e.revision), e.contentHash);
        prev = e.hash;
      }
      for (const s of rs.filter((r) => r.record === 'stream' && r.streamId === target.streamId)) s.lastHash = prev;
      const byPosition = new Map(events.map((e) => [e.position, e]));
      let log: string | null = null;
      for (const c of rs.filter((r) => r.record === 'chain')) {
        for (const entry of c.entries) {
          const e = byPosition.get(entry[0]);
          if (e) entry[1] = e.hash;
          if (log !== null) entry[2] = logChainHash(log, BigInt(entry[0]), entry[1]);
          if (e && e.logHash !== undefined) e.logHash = entry[2];
          log = entry[2];
        }
      }
    }, true);
    const r = checkBundle(forged);
    expect(r.ok).toBe(false);
    expect(r.failure).toMatch(/seal event .* signs global chain hash .* but the bundle's chain there is .*: the events at or before it are not the ones that were sealed/);
  });

  it('catches a re-signed seal, a reordered or edited chain, and an event that is not the one at its position', () => {
    // The seal's signature replaced (a forger with a key of their own would also change the key: then the note names it).
    let r = checkBundle(forge(bundle, (rs) => {
      const seal = rs.find((x) => x.record === 'seal');
      seal.payload.hash = 'f'.repeat(64);
      seal.contentHash = contentHash(seal);
      seal.hash = chainHash(seal.prevHash, BigInt(seal.revision), seal.contentHash);
    }, true));
    expect(r.failure).toMatch(/seal event .*: its signature does not verify/);
    // Two chain entries swapped.
    r = checkBundle(forge(bundle, (rs) => { const c = rs.find((x) => x.record === 'chain'); [c.entries[2], c.entries[3]] = [c.entries[3], c.entries[2]]; }, true));
    expect(r.failure).toMatch(/the chain jumps to position \d+ where \d+ was next/);
    // One link's logHash edited.
    r = checkBundle(forge(bundle, (rs) => void (rs.find((x) => x.record === 'chain').entries[4][2] = 'a'.repeat(64)), true));
    expect(r.failure).toMatch(/the global chain recomputed at position \d+ .* differs from the recorded/);
    // The chain cut short of its header's end.
    r = checkBundle(forge(bundle, (rs) => { const cs = rs.filter((x) => x.record === 'chain'); cs[cs.length - 1].entries.pop(); }, true));
    expect(r.failure).toMatch(/the chain stops before position \d+, short of the end its header gives/);
  });

  it('reads version 1 bundles, saying they carry no global chain', () => {
    const v1 = forge(bundle, (rs) => {
      rs[0].formatVersion = 1;
      delete rs[0].chain;
      delete rs[0].chainOmitted;
      for (let i = rs.length - 1; i >= 0; i--) if (rs[i].record === 'chain') rs.splice(i, 1);
      const trailer = rs[rs.length - 1];
      delete trailer.counts.chain;
    }, true);
    const r = checkBundle(v1);
    expect(r.failure).toBeNull();
    expect(r.sealedThrough).toBeNull();
    expect(r.notes.join('\n')).toMatch(/format version 1 carries no global chain/);
  });
});
