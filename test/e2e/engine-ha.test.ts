// High availability, tier 1: three engine processes on one PostgreSQL database, trading on the
// Solana venue (web3.js against litesvm behind the JSON-RPC stand-in). One leads, two follow.
// The leader is frozen (SIGSTOP) past its lease: a standby must trade within 10 s; thawed
// (SIGCONT), the old leader must step down without writing. Then leaders are killed with SIGKILL
// under load. Afterwards the log is folded: every engine event carries the token of the
// leadership in force where it stands in the log, no saga has two signatures or two
// submissions, the chain charged fees for exactly the transactions the ledger says landed,
// exposure never went above its limit at any prefix, and the read models equal a rebuild.
import { PublicKey } from '@solana/web3.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allProjections } from '../../projections/index.js';
import { buildEventRegistry } from '../../src/event-catalog.js';
import type { RecordedEvent } from '../../src/ledger/envelope.js';
import { ENGINE_LEADER_STREAM } from '../../src/ledger/leadership/events.js';
import { tokenOfActor } from '../../src/ledger/leadership/fencing.js';
import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { rebuildProjection } from '../../src/projections/projection-runner.js';
import { ProjectionStore } from '../../src/projections/projection-store.js';
import { evolve as evolveEngine, initialEngineState } from '../../src/risk/engine-state.js';
import { loadConfig } from '../../src/config/config.js';
import { USDC } from '../../src/shared/tokens.js';
import { createKeystore } from '../../src/signing/keystore/keystore-signer.js';
import { SAGA_STREAM_PREFIX } from '../../src/trading/events.js';
import { foldSaga } from '../../src/trading/saga.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../stand-ins/solana-rpc-server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Bounds the exposure of each token; low enough that risk refuses some trades. */
const MAX_EXPOSURE = 3_000_000_000n;

interface Node {
  id: string;
  child: ChildProcess;
  log: () => string;
}

describe('HA: one active engine, hot standbys, fenced takeover', () => {
  let db: TestDatabase;
  let rpc: SolanaRpcStandIn;
  let env: Record<string, string>;
  let owner: PublicKey;
  let store: PostgresEventStore;
  const nodes = new Map<string, Node>();

  beforeAll(async () => {
    db = await freshDatabase();
    rpc = await startSolanaRpcStandIn();
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-ha-'));
    const keystore = join(dir, 'keystore.json');
    const { publicKey } = await createKeystore(keystore, 'ha test passphrase', { scryptN: 1024 });
    owner = new PublicKey(publicKey);
    rpc.processedPolls = 10;
    rpc.airdrop(owner, 1_000_000_000_000n);
    rpc.createMint(USDC.decimals, new PublicKey(USDC.mint));
    rpc.setTokenAccount({ mint: new PublicKey(USDC.mint), owner, amount: 10_000_000_000_000n });
    env = {
      ...(process.env as Record<string, string>),
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: dir,
      KEYSTORE_PATH: keystore,
      KEYSTORE_PASSPHRASE: 'ha test passphrase',
      VENUE: 'solana',
      SOLANA_RPC_URL: rpc.url,
      SOLANA_CONFIRM_POLL_MS: '10',
      SIM_SEED: '9',
      SIM_OPPORTUNITIES_PER_MINUTE: '600',
      RISK_MAX_ORDERS_PER_MINUTE: '100000',
      RISK_MIN_PROFIT_BASE_UNITS: '0',
      RISK_MAX_EXPOSURE_PER_TOKEN_USD_MICROS: MAX_EXPOSURE.toString(),
      ENGINE_MAX_SAGA_AGE_MS: '600000',
      ENGINE_CONCURRENCY: '4',
      ENGINE_HA: 'on',
      ENGINE_LEASE_TTL_MS: '3000',
      ENGINE_LEASE_RENEW_MS: '500',
      ENGINE_LEASE_ACQUIRE_MS: '500',
      ENGINE_LEASE_MARGIN_MS: '1000',
      ENGINE_CHILD_LOG: 'warn',
      LOG_LEVEL: 'warn',
      SEALING: 'off',
    };
    store = new PostgresEventStore(db.sql, buildEventRegistry());
  });
  afterAll(async () => {
    for (const n of nodes.values()) {
      n.child.kill('SIGCONT');
      n.child.kill('SIGKILL');
    }
    await rpc?.close();
    await db?.drop();
  });

  function start(id: string, extra: Record<string, string> = {}): Promise<Node> {
    const child = spawn(process.execPath, ['--import', './test/support/ts-loader.mjs', 'test/support/engine-child.ts'], {
      cwd: root,
      env: { ...env, ENGINE_NODE_ID: id, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr!.on('data', (d) => (out += d));
    child.stdout!.on('data', (d) => (out += d));
    const node: Node = { id, child, log: () => out };
    nodes.set(id, node);
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (d) => String(d).includes('started') && resolve(node));
      child.on('exit', (code, signal) => {
        nodes.delete(id);
        reject(new Error(`engine ${id} exited early (${code ?? signal}): ${out.slice(-2000)}`));
      });
    });
  }
  const stopNode = (n: Node, signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      n.child.removeAllListeners('exit');
      n.child.on('exit', () => resolve());
      nodes.delete(n.id);
      n.child.kill(signal);
    });

  async function lease(): Promise<{ holder: string; epoch: bigint }> {
    const { rows } = await db.sql.query<{ holder: string; epoch: string }>('SELECT holder, epoch::text AS epoch FROM engine_lease WHERE id = 1');
    return { holder: rows[0].holder, epoch: BigInt(rows[0].epoch) };
  }
  async function leaderToken(): Promise<bigint> {
    const [last] = await store.readStream(ENGINE_LEADER_STREAM, { direction: 'backward', maxCount: 1 });
    return last ? last.revision : -1n;
  }
  /** The first saga event written under a token greater than `after`, waited for up to `ms`. */
  async function tradingUnder(after: bigint, ms: number): Promise<{ token: bigint; at: number } | null> {
    const deadline = Date.now() + ms;
    let from = await store.headPosition();
    while (Date.now() < deadline) {
      const page = await store.readAll({ after: from, maxCount: 1000, filter: { streamPrefix: SAGA_STREAM_PREFIX } });
      for (const e of page) {
        const token = tokenOfActor(e.metadata.actor);
        if (token !== null && token > after) return { token, at: Date.now() };
      }
      if (page.length) from = page[page.length - 1].position;
      await sleep(50);
    }
    return null;
  }
  async function readLog(): Promise<RecordedEvent[]> {
    const all: RecordedEvent[] = [];
    for (let after = 0n; ; ) {
      const page = await store.readAll({ after, maxCount: 5000 });
      if (!page.length) return all;
      all.push(...page);
      after = page[page.length - 1].position;
    }
  }

  it('takes over within 10 s of a frozen or killed leader, fences the old one, and the log holds every invariant', async () => {
    const started = Date.now();
    const phases: string[] = [];
    const phase = (name: string) => phases.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const lamportsAtStart = rpc.lamports(owner);
    await Promise.all(['n1', 'n2', 'n3'].map((id) => start(id)));
    phase('started');
    const first = await tradingUnder(-1n, 15_000);
    expect(first, 'a leader trades').not.toBeNull();
    phase('trading');
    const takeovers: number[] = [];

    // 1. Freeze the leader past its TTL: a standby trades within 10 s.
    const frozen = nodes.get((await lease()).holder)!;
    expect(frozen).toBeDefined();
    const frozenToken = await leaderToken();
    const stoppedAt = Date.now();
    frozen.child.kill('SIGSTOP');
    const after = await tradingUnder(frozenToken, 10_000);
    expect(after, 'a standby trades within 10 s of the leader freezing').not.toBeNull();
    takeovers.push(after!.at - stoppedAt);
    expect((await lease()).holder).not.toBe(frozen.id);

    phase('freeze taken over');
    // 2. Thaw it: it steps down (its lease is gone, its token is stale) and writes nothing under it.
    frozen.child.kill('SIGCONT');
    for (let i = 0; i < 100 && !frozen.log().includes('steps down'); i++) await sleep(50);
    expect(frozen.log()).toMatch(/n\d steps down: (past the lease deadline|an append was fenced|the lease was lost)/);

    phase('thawed, stepped down');
    // 3. Kill the leader under load, twice (three nodes: the last one left takes over the second time).
    for (let round = 0; round < 2; round++) {
      await sleep(700);
      const victim = nodes.get((await lease()).holder)!;
      expect(victim).toBeDefined();
      const token = await leaderToken();
      const killedAt = Date.now();
      await stopNode(victim, 'SIGKILL');
      const next = await tradingUnder(token, 10_000);
      expect(next, `round ${round}: trading again within 10 s of the kill`).not.toBeNull();
      takeovers.push(next!.at - killedAt);
    }

    phase('kills taken over');
    // 4. Stop everything gracefully (the leader drains and releases its lease), then one last node
    // with trading off only recovers what is unfinished, and the projections catch up.
    await Promise.all([...nodes.values()].map((n) => stopNode(n, 'SIGTERM')));
    const last = await start('recovery', { ENGINE_AUTOSTART: 'false' });
    const projections = new ProjectionStore(db.sql);
    for (let i = 0; i < 400; i++) {
      const sagas = await sagaStreams(await readLog());
      const head = await store.headPosition();
      const states = await Promise.all(allProjections.map((p) => projections.active(p.name)));
      const done = [...sagas].every(([id, es]) => foldSaga(id.slice(SAGA_STREAM_PREFIX.length), es).phase === 'finished');
      if (done && states.every((s) => s && s.checkpoint >= head)) break;
      await sleep(100);
    }
    await stopNode(last, 'SIGTERM');
    phase('recovered');

    // The fold.
    const log = await readLog();
    let token = -1n;
    let engineEvents = 0;
    let engine = initialEngineState(loadConfig(env).risk.defaultLimits);
    for (const e of log) {
      if (e.streamId === ENGINE_LEADER_STREAM) token = e.revision;
      const carried = tokenOfActor(e.metadata.actor);
      if (carried !== null) {
        engineEvents++;
        // Written under the leadership in force at its place in the log: none by a deposed one.
        expect(carried, `${e.type} at ${e.position}`).toBe(token);
      }
      engine = evolveEngine(engine, e);
      for (const [mint, usd] of Object.entries(engine.exposureByToken)) expect(usd, `exposure of ${mint} after ${e.position}`).toBeLessThanOrEqual(MAX_EXPOSURE);
    }
    expect(token).toBeGreaterThanOrEqual(3n); // at least four leaderships: first, after the freeze, after each kill
    expect(engineEvents).toBeGreaterThan(20);
    let landedFees = 0n;
    const sagas = sagaStreams(log);
    expect(sagas.size).toBeGreaterThan(5);
    for (const [stream, events] of sagas) {
      const s = foldSaga(stream.slice(SAGA_STREAM_PREFIX.length), events);
      expect(s.phase, `${stream}: ${events.map((e) => e.type).join(',')}`).toBe('finished');
      const count = (t: string) => events.filter((e) => e.type === t).length;
      expect(count('TransactionSigned')).toBeLessThanOrEqual(1);
      expect(count('TransactionSubmitted')).toBeLessThanOrEqual(1);
      for (const e of events) {
        if (e.type === 'FillConfirmed' || (e.type === 'FillFailed' && (e.payload as { feeLamports?: string }).feeLamports)) {
          landedFees += BigInt((e.payload as { feeLamports: string }).feeLamports);
        }
      }
    }
    // Every lamport the signer lost is a fee the ledger recorded: nothing landed twice or unrecorded.
    expect(rpc.lamports(owner) - lamportsAtStart + landedFees).toBe(0n);
    expect(landedFees).toBeGreaterThan(0n);

    // The read models equal a rebuild from the log.
    for (const def of allProjections) {
      const live = await projections.active(def.name);
      const liveDigest = await projections.digest(def, live!.generation);
      const rebuilt = await rebuildProjection(store, db.sql, def);
      expect(rebuilt.digest, def.name).toBe(liveDigest);
    }
    phase('folded');
    console.log(`HA takeovers (ms): ${takeovers.join(', ')}; ${phases.join('; ')}`);
  }, 180_000);
});

function sagaStreams(log: RecordedEvent[]): Map<string, RecordedEvent[]> {
  const byStream = new Map<string, RecordedEvent[]>();
  for (const e of log) if (e.streamId.startsWith(SAGA_STREAM_PREFIX)) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
  return byStream;
}
