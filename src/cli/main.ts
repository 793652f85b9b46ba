#!/usr/bin/env node
// The `arbiter` command line: replay (an auditor's view of history as of a point in time),
// verify (hash chains, heads, seals), digest (the latest seal, for an auditor), rebuild (a projection, with progress). Bad arguments exit 2 with usage.
import { loadConfig, ConfigError } from '../config/config.js';
import { buildEventRegistry } from '../event-catalog.js';
import { toJsonEvent, type RecordedEvent } from '../ledger/envelope.js';
import type { EventStore } from '../ledger/event-store.port.js';
import { openEventStore, openSqlClient } from '../ledger/ledger.module.js';
import { MAX_FAILURES, verifyLog, type VerifyResult } from '../ledger/verify.js';
import { parseDigest, SEAL_STREAM, sealSignatureProblem, toDigest, type LedgerSealedPayload, type SealDigest } from '../ledger/sealing/seal.js';
import { SolanaMemoAnchor } from '../audit/solana/solana-memo-anchor.js';
import { rebuildProjection, RebuildInterruptedError, type RebuildProgress } from '../projections/projection-runner.js';
import type { SqlClient } from '../shared/sql/sql-client.js';
import { allProjections, findProjection } from '../../projections/index.js';
import { parseArgs, parseIsoTime, UsageError } from './args.js';
import { Logger } from '@nestjs/common';
import { userInfo } from 'node:os';
import { issueRecordedApiKey, labelProblem, listApiKeys, revokeRecordedApiKey, ROLES, type Role } from '../api/auth/api-keys.js';
import { unstorableReason } from '../shared/text/storable.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { redact, type ArbiterConfig } from '../config/config.js';
import { newEvent } from '../ledger/event-types.js';
import { ApiKeyRevoked, apiKeyStreamId } from '../api/auth/events.js';
import { decideAndAppend } from '../ledger/decide-and-append.js';
import { AsOfError } from '../audit/as-of.js';
import { checkBundle } from '../audit/bundle.js';
import { prepareExport, writeBundle } from '../audit/export-bundle.js';
import { PointInTimeReadModels } from '../audit/point-in-time.js';
import { REPORT_KINDS } from '../reports/export.js';
import { createWriteStream, readFileSync, statSync } from 'node:fs';

const USAGE = `Usage:
  arbiter replay (--stream ID | --all) [--until ISO-TIME | --until-position N] [--json]
      Print history as it stood at a point in time (default: now).
  arbiter verify [--stream ID | --digest FILE] [--seal-key PUBKEY]
      Recompute both hash chains and check positions, stream and log heads and every seal;
      exit 1 naming what does not match. --digest FILE (from \`arbiter digest\`): prove the
      log still extends that seal, and name what after the last seal is unsealed.
      --seal-key: accept only seals signed by this public key (base58).
  arbiter migrate
      Apply pending migrations (as the database owner, in a least-privilege setup) and exit.
  arbiter digest
      Print the latest seal (a signed global chain head) as JSON, for an auditor to keep.
  arbiter rebuild PROJECTION
      Rebuild one projection from position 0 into fresh tables, then switch over.
      Projections: ${allProjections.map((p) => p.name).join(', ')}
  arbiter audit export [--from TIME|POSITION] [--to TIME|POSITION] [--stream ID | --correlation ID]
                       [--report daily_transactions|suspicious_activity]... --out FILE
      Write an evidence bundle (JSON lines: events with hashes, stream anchors, seals, the
      ledger's verification, point-in-time reports as of the range's end); records the export.
      --from is inclusive, a --to time exclusive, a --to position inclusive.
  arbiter audit check FILE
      Re-verify a bundle offline (no database); exit 1 naming the first thing that does not hold.
  arbiter keys issue --role ROLE --label TEXT
      Issue an API key (roles: viewer, operator, risk, compliance, admin); it is printed once.
  arbiter keys list
  arbiter keys revoke KEY_ID
  arbiter help

Configuration comes from the environment (DATABASE_URL, EVENTSTORE_URL, ARBITER_DATA_DIR); see README.`;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  isTty: boolean;
}

const processIo: CliIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTty: !!process.stderr.isTTY,
};

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env, io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  let parsed: ReturnType<typeof prepare>;
  try {
    parsed = prepare(command, rest);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`arbiter: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.kind === 'help') {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (parsed.kind === 'audit-check') return auditCheck(parsed.file, io);
  let sql: SqlClient | null = null;
  let store: EventStore | null = null;
  try {
    const config = loadConfig(env);
    Logger.overrideLogger(false);
    if (parsed.kind !== 'keys-issue' && parsed.kind !== 'migrate') { // these two may create the ledger
      const missing = config.eventStoreUrl ? null : await missingLedger(config);
      if (missing) {
        io.err(`arbiter: ${missing}\n`);
        return 2;
      }
    }
    sql = await openSqlClient(config);
    store = await openEventStore(config, sql, buildEventRegistry());
    switch (parsed.kind) {
      case 'replay':
        return await replay(store, parsed, io);
      case 'verify':
        return await verify(store, parsed, io, config);
      case 'digest':
        return await digest(store, io);
      case 'migrate': {
        // Opening the database applied whatever was pending (openSqlClient).
        const { rows } = await sql.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
        io.out(`migrations: ${rows.length} applied, latest ${rows[rows.length - 1]?.name ?? 'none'}\n`);
        return 0;
      }
      case 'rebuild':
        return await rebuild(store, sql, parsed.projection, io);
      case 'audit-export':
        return await auditExport(store, sql, parsed, io);
      case 'keys-issue':
      case 'keys-list':
      case 'keys-revoke':
        return await keys(store, sql, parsed, io);
    }
    return 0;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof AsOfError) {
      io.err(`arbiter: ${err.message}\n`);
      return 2;
    }
    io.err(`arbiter: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await store?.close().catch(() => undefined);
    await sql?.close().catch(() => undefined);
  }
}

type Parsed =
  | { kind: 'help' }
  | { kind: 'replay'; stream: string | null; untilTime: string | null; untilPosition: bigint | null; json: boolean }
  | { kind: 'verify'; stream: string | null; digest: SealDigest | null; digestFile: string | null; sealKey: string | null }
  | { kind: 'digest' }
  | { kind: 'migrate' }
  | { kind: 'rebuild'; projection: string }
  | { kind: 'audit-export'; from: string | null; to: string | null; stream: string | null; correlation: string | null; reports: string[]; out: string }
  | { kind: 'audit-check'; file: string }
  | { kind: 'keys-issue'; role: Role; label: string }
  | { kind: 'keys-list' }
  | { kind: 'keys-revoke'; keyId: string };

function prepare(command: string | undefined, rest: string[]): Parsed {
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { kind: 'help' };
    case 'replay': {
      const a = parseArgs(rest, { values: ['stream', 'until', 'until-position'], booleans: ['all', 'json'] });
      if (a.positionals.length) throw new UsageError(`replay takes no positional arguments (got "${a.positionals[0]}")`);
      const stream = (a.flags.get('stream') as string | undefined) ?? null;
      if (!stream === !a.flags.has('all')) throw new UsageError('replay needs exactly one of --stream ID or --all');
      const until = (a.flags.get('until') as string | undefined) ?? null;
      const untilPos = (a.flags.get('until-position') as string | undefined) ?? null;
      if (until && untilPos) throw new UsageError('give --until or --until-position, not both');
      const untilTime = until ? parseIsoTime(until, '--until') : null;
      if (stream) storable(stream, '--stream');
      if (untilPos && !/^\d+$/.test(untilPos)) throw new UsageError(`--until-position must be a non-negative integer (got "${untilPos}")`);
      return {
        kind: 'replay',
        stream,
        untilTime,
        untilPosition: untilPos ? BigInt(untilPos) : null,
        json: a.flags.has('json'),
      };
    }
    case 'verify': {
      const a = parseArgs(rest, { values: ['stream', 'digest', 'seal-key'], booleans: [] });
      if (a.positionals.length) throw new UsageError(`verify takes no positional arguments (got "${a.positionals[0]}")`);
      const stream = (a.flags.get('stream') as string | undefined) ?? null;
      if (stream) storable(stream, '--stream');
      const digestFile = (a.flags.get('digest') as string | undefined) ?? null;
      const sealKey = (a.flags.get('seal-key') as string | undefined) ?? null;
      if (stream && digestFile) throw new UsageError('--digest checks the whole log: give it without --stream');
      if (sealKey && !/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(sealKey)) throw new UsageError(`--seal-key must be a base58 Ed25519 public key (got "${sealKey}")`);
      let digest: SealDigest | null = null;
      if (digestFile) {
        let text: string;
        try {
          text = readFileSync(digestFile, 'utf8');
        } catch (err) {
          throw new UsageError(`--digest: cannot read ${digestFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        try {
          digest = parseDigest(text);
        } catch (err) {
          throw new UsageError(`--digest ${digestFile}: ${(err as Error).message}`);
        }
      }
      return { kind: 'verify', stream, digest, digestFile, sealKey };
    }
    case 'migrate': {
      if (rest.length) throw new UsageError('migrate takes no arguments');
      return { kind: 'migrate' };
    }
    case 'digest': {
      const a = parseArgs(rest, { values: [], booleans: [] });
      if (a.positionals.length) throw new UsageError(`digest takes no arguments (got "${a.positionals[0]}")`);
      return { kind: 'digest' };
    }
    case 'rebuild': {
      const a = parseArgs(rest, { values: [], booleans: [] });
      if (a.positionals.length !== 1) throw new UsageError('rebuild needs exactly one projection name');
      if (!findProjection(a.positionals[0])) {
        throw new UsageError(`unknown projection "${a.positionals[0]}"; known: ${allProjections.map((p) => p.name).join(', ')}`);
      }
      return { kind: 'rebuild', projection: a.positionals[0] };
    }
    case 'audit': {
      const [sub, ...args] = rest;
      if (sub === 'check') {
        const a = parseArgs(args, { values: [], booleans: [] });
        if (a.positionals.length !== 1) throw new UsageError('audit check needs exactly one bundle file');
        return { kind: 'audit-check', file: a.positionals[0] };
      }
      if (sub === 'export') {
        // --report may be repeated (and take a comma-separated list).
        const a = parseArgs(args, { values: ['from', 'to', 'stream', 'correlation', 'out'], booleans: [], repeatable: ['report'] });
        const reports: string[] = [];
        for (const v of a.lists.get('report') ?? []) {
          for (const k of v.split(',')) {
            if (!REPORT_KINDS.includes(k as never)) throw new UsageError(`--report "${k}" is not a report; reports: ${REPORT_KINDS.join(', ')}`);
            reports.push(k);
          }
        }
        if (a.positionals.length) throw new UsageError(`audit export takes no positional arguments (got "${a.positionals[0]}")`);
        const get = (k: string) => (a.flags.get(k) as string | undefined) ?? null;
        if (get('stream') && get('correlation')) throw new UsageError('give --stream or --correlation, not both');
        const out = get('out');
        if (!out) throw new UsageError('audit export needs --out FILE (where the bundle is written)');
        for (const k of ['from', 'to']) {
          const v = get(k);
          if (v !== null && !/^\d+$/.test(v) && (Number.isNaN(Date.parse(v)) || !/^\d{4}-\d{2}-\d{2}/.test(v))) {
            throw new UsageError(`--${k} must be an ISO-8601 time such as 2026-11-30T00:00:00Z or a global position (got "${v}")`);
          }
        }
        return { kind: 'audit-export', from: get('from'), to: get('to'), stream: get('stream'), correlation: get('correlation'), reports, out };
      }
      throw new UsageError(`audit needs a subcommand: export or check (got "${sub ?? ''}")`);
    }
    case 'keys': {
      const [sub, ...args] = rest;
      if (sub === 'issue') {
        const a = parseArgs(args, { values: ['role', 'label'], booleans: [] });
        const role = a.flags.get('role') as string | undefined;
        const label = (a.flags.get('label') as string | undefined)?.trim();
        if (!role || !ROLES.includes(role as Role)) throw new UsageError(`keys issue needs --role, one of ${ROLES.join(', ')}`);
        if (!label) throw new UsageError('keys issue needs --label (1–100 printable ASCII characters) saying whose key it is');
        const problem = labelProblem(label);
        if (problem) throw new UsageError(`--label ${problem}`);
        if (a.positionals.length) throw new UsageError(`keys issue takes no positional arguments (got "${a.positionals[0]}")`);
        return { kind: 'keys-issue', role: role as Role, label };
      }
      if (sub === 'list') {
        if (args.length) throw new UsageError('keys list takes no arguments');
        return { kind: 'keys-list' };
      }
      if (sub === 'revoke') {
        if (args.length !== 1 || args[0].startsWith('--')) throw new UsageError('keys revoke needs exactly one key id');
        storable(args[0], 'the key id');
        return { kind: 'keys-revoke', keyId: args[0] };
      }
      throw new UsageError(`keys needs a subcommand: issue, list or revoke (got "${sub ?? ''}")`);
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** Arguments end up in queries: refuse what PostgreSQL cannot store, naming the argument. */
function storable(value: string, name: string): void {
  const why = unstorableReason(value);
  if (why) throw new UsageError(`${name} ${why}`);
}

/**
 * Where the ledger the CLI was asked to read should be, when it is not there (null when it is).
 * Only `keys issue` and `migrate` may create one; every other command reads, and must not silently make an
 * empty database (and then report it intact).
 */
export async function missingLedger(config: ArbiterConfig): Promise<string | null> {
  if (!config.databaseUrl) {
    const dir = join(config.dataDir, 'pglite');
    return existsSync(join(dir, 'PG_VERSION')) ? null : `no ledger at ${dir} (set ARBITER_DATA_DIR to the data directory of the server, or DATABASE_URL)`;
  }
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ t: string | null }>(`SELECT to_regclass('events')::text AS t`);
    return rows[0].t ? null : `no ledger in the database at ${redact(config.databaseUrl)} (it has no events table; check DATABASE_URL)`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Events as of the cut-off: at or before the time, or at or before the global position. */
function inView(e: RecordedEvent, p: Extract<Parsed, { kind: 'replay' }>): boolean {
  if (p.untilPosition !== null) return e.position <= p.untilPosition;
  if (p.untilTime !== null) return e.recordedAt <= p.untilTime;
  return true;
}

async function replay(store: EventStore, p: Extract<Parsed, { kind: 'replay' }>, io: CliIo): Promise<number> {
  let count = 0;
  const print = (e: RecordedEvent) => {
    count++;
    if (p.json) io.out(`${JSON.stringify(toJsonEvent(e))}\n`);
    else
      io.out(
        `${e.position.toString().padStart(8)}  ${e.recordedAt}  ${e.streamId}@${e.revision}  ${e.type} v${e.version}  ` +
          `actor=${e.metadata.actor} corr=${e.metadata.correlationId}  ${JSON.stringify(e.payload)}\n`,
      );
  };
  if (p.stream) {
    let from = 0n;
    for (;;) {
      const page = await store.readStream(p.stream, { fromRevision: from, maxCount: 1000 });
      for (const e of page) if (inView(e, p)) print(e);
      if (page.length < 1000) break;
      from = page[page.length - 1].revision + 1n;
    }
    if (count === 0) io.err(`no events in stream "${p.stream}" as of the cut-off\n`);
    return 0;
  }
  let after = 0n;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 1000 });
    if (!page.length) break;
    for (const e of page) {
      if (p.untilPosition !== null && e.position > p.untilPosition) return 0;
      if (inView(e, p)) print(e);
    }
    after = page[page.length - 1].position;
  }
  return 0;
}

async function verify(store: EventStore, p: Extract<Parsed, { kind: 'verify' }>, io: CliIo, config: ArbiterConfig): Promise<number> {
  let lastShown = 0;
  const result = await verifyLog(store, {
    streamId: p.stream ?? undefined,
    digest: p.digest ?? undefined,
    trustedSealKeys: p.sealKey ? [p.sealKey] : undefined,
    onProgress: (checked) => {
      if (io.isTty && Date.now() - lastShown > 200) {
        lastShown = Date.now();
        io.err(`\rverifying… ${checked} events`);
      }
    },
  });
  if (io.isTty) io.err('\r\x1b[K');
  // A digest's anchor is checked on chain when an RPC is configured for it.
  let anchorProblem: string | null = null;
  const anchor = p.digest?.seal.anchor;
  const rpcUrl = config.seal.anchorRpcUrl;
  if (result.ok && anchor && rpcUrl) {
    anchorProblem = await new SolanaMemoAnchor({ rpcUrl }).check(anchor).catch((err: Error) => `cannot check the anchor: ${err.message}`);
  }
  if (result.ok && !anchorProblem) {
    io.out(`OK: ${result.eventsChecked} events in ${result.streamsChecked} streams, every hash chain intact\n`);
    io.out(`checked: ${result.checks.join(', ')}\n`);
    if (!p.stream) io.out(sealReport(result));
    if (p.digest) {
      io.out(
        `digest: the log still extends the seal of position ${p.digest.seal.position} (seal event ${p.digest.sealEventPosition}, ` +
          `signed by ${p.digest.seal.publicKey})${anchor ? (rpcUrl ? `; its Solana anchor ${anchor.transaction} carries it` : `; anchor ${anchor.transaction} not checked (set SEAL_ANCHOR_RPC_URL)`) : ''}\n`,
      );
    }
    return 0;
  }
  if (anchorProblem) {
    io.out(`TAMPERED: the digest's anchor does not hold: ${anchorProblem}\n`);
    return 1;
  }
  const f = result.failure!;
  if (f.eventId) {
    io.out(`TAMPERED: first bad event is ${f.eventId} (stream ${f.streamId}, revision ${f.revision}, position ${f.position}): ${f.reason}\n`);
  } else {
    io.out(`TAMPERED: ${f.reason}\n`);
  }
  if (result.failures.length > 1) {
    io.out(`${result.failures.length} findings${result.failures.length >= MAX_FAILURES ? ' (the first ' + MAX_FAILURES + ')' : ''}:\n`);
    for (const x of result.failures) io.out(`  - ${x.kind}${x.position !== null ? ` at position ${x.position}` : ''}: ${x.reason}\n`);
  }
  return 1;
}

function sealReport(r: VerifyResult): string {
  const lines: string[] = [];
  if (r.lastSeal) {
    const s = r.lastSeal.payload;
    lines.push(
      `seals: ${r.sealsChecked} verified; the last (event ${r.lastSeal.eventPosition}, ${s.sealedAt}) covers position ${s.position}, ` +
        `chain ${s.hash.slice(0, 12)}…, signed by ${s.publicKey} (key ${s.keyId})${s.anchor ? `, anchored in Solana transaction ${s.anchor.transaction}` : ''}`,
    );
  } else {
    lines.push('seals: none yet: nothing in this log is sealed (a forger who recomputes every hash would pass)');
  }
  const u = r.unsealed;
  if (u && u.events > 0) {
    lines.push(
      `unsealed: ${u.events} event(s) after the last seal, positions ${u.fromPosition}–${u.toPosition}, in ${u.streams.map((x) => `"${x}"`).join(', ')}` +
        `${u.streams.length >= 20 ? ' …' : ''}: verify proves these only as far as the database can be trusted`,
    );
  } else {
    lines.push('unsealed: nothing');
  }
  return `${lines.join('\n')}\n`;
}

/** Prints the latest seal as a digest an auditor keeps (`verify --digest FILE` later). */
async function digest(store: EventStore, io: CliIo): Promise<number> {
  const [e] = await store.readStream(SEAL_STREAM, { direction: 'backward', maxCount: 1, raw: true });
  if (!e) {
    io.err('arbiter: no seal yet: the running app seals every SEAL_EVERY_EVENTS events or SEAL_EVERY_SECONDS seconds (SEALING=on)\n');
    return 1;
  }
  const payload = e.payload as LedgerSealedPayload;
  const why = sealSignatureProblem(payload);
  if (why) {
    io.err(`arbiter: the latest seal (event ${e.position}) is not genuine: ${why}\n`);
    return 1;
  }
  io.out(`${JSON.stringify(toDigest(e.position, e.id, payload), null, 2)}\n`);
  io.err(`seal of position ${payload.position} (event ${e.position}, ${payload.sealedAt}), signed by ${payload.publicKey}: keep this outside the database\n`);
  return 0;
}

export function formatProgress(p: RebuildProgress, width = 30): string {
  const frac = p.head > 0n ? Math.min(1, Number(p.position) / Number(p.head)) : 1;
  const filled = Math.round(frac * width);
  const eta = p.etaSeconds === null ? '--' : `${p.etaSeconds.toFixed(0)}s`;
  return (
    `${p.projection} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1)}%  ` +
    `position ${p.position}/${p.head}  ${p.eventsApplied} events  ${Math.round(p.eventsPerSecond)} ev/s  ETA ${eta}`
  );
}

async function rebuild(store: EventStore, sql: SqlClient, name: string, io: CliIo): Promise<number> {
  const def = findProjection(name)!;
  let lastLine = 0;
  // Ctrl-C or SIGTERM stops between batches and keeps the generation: the next rebuild resumes it.
  const halt = new AbortController();
  const stop = () => halt.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let result: Awaited<ReturnType<typeof rebuildProjection>>;
  try {
    result = await rebuildProjection(store, sql, def, {
      signal: halt.signal,
      onProgress: (p) => {
        const now = Date.now();
        if (io.isTty) io.err(`\r${formatProgress(p)}\x1b[K`);
        else if (now - lastLine > 1000) {
          lastLine = now;
          io.err(`${formatProgress(p)}\n`);
        }
      },
    });
  } catch (err) {
    if (!(err instanceof RebuildInterruptedError)) throw err;
    io.err(`${io.isTty ? '\n' : ''}arbiter: ${err.message}\n`);
    return 130;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (io.isTty) io.err('\n');
  if (result.resumedFrom !== null) io.err(`resumed generation ${result.generation} of an interrupted rebuild from position ${result.resumedFrom}\n`);
  io.out(
    `rebuilt ${name}: generation ${result.generation}, ${result.eventsApplied} events in ${result.seconds.toFixed(2)} s ` +
      `(${Math.round(result.eventsApplied / Math.max(result.seconds, 1e-9))} ev/s), digest ${result.digest}\n`,
  );
  return 0;
}

async function auditExport(store: EventStore, sql: SqlClient, p: Extract<Parsed, { kind: 'audit-export' }>, io: CliIo): Promise<number> {
  const actor = `cli:${userInfo().username}`;
  const prepared = await prepareExport(
    store,
    { from: p.from, to: p.to, streamId: p.stream, correlationId: p.correlation, reports: p.reports, actor, via: 'cli' },
    Date.now(),
  );
  const pit = new PointInTimeReadModels(store, sql, { ttlMs: 3_600_000, maxGenerations: 4 });
  const file = createWriteStream(p.out, { flags: 'wx', mode: 0o600 });
  const opened = new Promise<void>((resolve, reject) => {
    file.once('open', () => resolve());
    file.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    io.err(`arbiter: cannot create ${p.out}: ${(err as Error).message} (the bundle never overwrites a file)\n`);
    return 2;
  }
  const write = (chunk: string) => new Promise<void>((resolve, reject) => file.write(chunk, (err) => (err ? reject(err) : resolve())));
  try {
    const w = await writeBundle(store, pit, prepared, write, Date.now());
    await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    io.out(
      `wrote ${p.out}: ${w.events} events, positions ${prepared.fromPosition}..${prepared.toPosition}, digest ${w.digest}; ` +
        `export ${w.exportId} recorded at position ${w.recordedAt}\n`,
    );
    return 0;
  } finally {
    file.destroy();
    await pit.dropOwn();
  }
}

/** Offline: reads the file, never the database or the configuration. */
function auditCheck(path: string, io: CliIo): number {
  let text: string;
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    text = readFileSync(path, 'utf8');
  } catch (err) {
    io.err(`arbiter: cannot read bundle ${path}: ${(err as Error).message}\n`);
    return 2;
  }
  const r = checkBundle(text);
  if (!r.ok) {
    io.out(`NOT VALID: ${r.failure}\n`);
    return 1;
  }
  io.out(`OK: ${r.events} events in ${r.streams} streams (positions ${r.fromPosition}..${r.toPosition}), ${r.seals} seals, ${r.reports} reports; digest ${r.digest}\n`);
  for (const n of r.notes) io.out(`note: ${n}\n`);
  return 0;
}

/** Key management for operators on the database host (e.g. the first admin key on PostgreSQL). */
async function keys(
  store: EventStore,
  sql: SqlClient,
  p: Extract<Parsed, { kind: 'keys-issue' | 'keys-list' | 'keys-revoke' }>,
  io: CliIo,
): Promise<number> {
  const actor = `cli:${userInfo().username}`;
  const meta = (id: string) => ({ correlationId: `cli-${id}`, causationId: null, actor, tenant: 'default' });
  if (p.kind === 'keys-list') {
    for (const k of await listApiKeys(sql)) {
      io.out(`${k.keyId}  ${k.role.padEnd(10)}  ${k.createdAt}  ${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}  ${k.label}\n`);
    }
    return 0;
  }
  if (p.kind === 'keys-revoke') {
    const revoked = await revokeRecordedApiKey(sql, store, { keyId: p.keyId, actor, reason: 'revoked from the command line', metadata: meta(p.keyId) });
    if (!revoked) {
      io.err(`arbiter: no active key with id "${p.keyId}"\n`);
      return 1;
    }
    io.out(`revoked ${p.keyId}\n`);
    return 0;
  }
  const { key, keyId } = await issueRecordedApiKey(sql, store, { role: p.role, label: p.label, actor, metadata: meta(`issue-${Date.now()}`) });
  io.out(`${key}\n`);
  io.err(`issued ${p.role} key ${keyId} for "${p.label}": it is shown only this once (the server keeps its SHA-256)\n`);
  return 0;
}

/**
 * Exits once stdout and stderr have handed everything to the OS. Writes to a pipe are
 * asynchronous: process.exit() right after them drops what is still queued (`replay | wc -l`
 * would count short). A reader that went away (EPIPE, `| head`) ends the wait too.
 */
export function exitAfterFlush(code: number): void {
  process.exitCode = code;
  let pending = 2;
  for (const stream of [process.stdout, process.stderr]) {
    let done = false;
    const one = () => {
      if (done) return;
      done = true;
      if (--pending === 0) process.exit(code);
    };
    stream.once('error', one);
    stream.write('', one);
  }
}

const invokedDirectly = !!process.argv[1] && /cli[\\/]main\.js$|[\\/]arbiter$/.test(process.argv[1]);
if (invokedDirectly || process.env.ARBITER_CLI === '1') {
  runCli(process.argv.slice(2)).then(
    (code) => exitAfterFlush(code),
    (err) => {
      process.stderr.write(`arbiter: ${(err as Error).message}\n`);
      exitAfterFlush(1);
    },
  );
}
