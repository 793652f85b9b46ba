// High availability, tier 1: three engine processes on one PostgreSQL database, trading on the
// Solana venue (web3.js against litesvm behind the JSON-RPC stand-in). One leads, two follow.
// The leader is frozen (SIGSTOP) past its lease: a standby must trade within 10 s; thawed
// (SIGCONT), the old leader must step down without writing. Then leaders are killed with SIGKILL
// under load. Afterwards the log is folded: every engine event carries the token of the
// leadership in force where it stands in the log, no saga has two signatures or two
// submissions, the chain charged fees for exactly the transactions the ledger says landed,
// exposure never went above its limit at any prefix, and the read models equal a rebuild.
import type { PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allProjections } from '../../projections/index.js';
import { rebuildProjection } from '../../src/projections/projection-runner.js';
import { ProjectionStore } from '../../src/projections/projection-store.js';
import { SAGA_STREAM_PREFIX } from '../../src/trading/events.js';
import { foldSaga } from '../../src/trading/saga.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { assertLeadershipInvariants, EngineCluster, haEnvironment, sagaStreams, sleep } from '../support/ha-cluster.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../stand-ins/solana-rpc-server.js';

/** Bounds the exposure of each token; low enough that risk refuses some trades. */
const MAX_EXPOSURE = 3_000_000_000n;

describe('HA: one active engine, hot standbys, fenced takeover', () => {
  let db: TestDatabase;
  let rpc: SolanaRpcStandIn;
  let env: Record<string, string>;
  let owner: PublicKey;
  let cluster: EngineCluster;

  beforeAll(async () => {
    db = await freshDatabase();
    rpc = await startSolanaRpcStandIn();
    ({ env, owner } = await haEnvironment(db, rpc, { RISK_MAX_EXPOSURE_PER_TOKEN_USD_MICROS: MAX_EXPOSURE.toString() }));
    cluster = new EngineCluster(db, env);
  });
  afterAll(async () => {
    cluster?.killAll();
    await rpc?.close();
    await db?.drop();
  });
  it('takes over within 10 s of a frozen or killed leader, fences the old one, and the log holds every invariant', async () => {
    const started = Date.now();
    const phases: string[] = [];
    const phase = (name: string) => phases.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const lamportsAtStart = rpc.lamports(owner);
    await Promise.all(['n1', 'n2', 'n3'].map((id) => cluster.start(id)));
    phase('started');
    const first = await cluster.tradingUnder(-1n, 15_000);
    expect(first, 'a leader trades').not.toBeNull();
    phase('trading');
    const takeovers: number[] = [];

    // 1. Freeze the leader past its TTL: a standby trades within 10 s.
    const frozen = cluster.nodes.get((await cluster.lease()).holder)!;
    expect(frozen).toBeDefined();
    const frozenToken = await cluster.leaderToken();
    const stoppedAt = Date.now();
    frozen.child.kill('SIGSTOP');
    const after = await cluster.tradingUnder(frozenToken, 10_000);
    expect(after, 'a standby trades within 10 s of the leader freezing').not.toBeNull();
    takeovers.push(after!.at - stoppedAt);
    expect((await cluster.lease()).holder).not.toBe(frozen.id);

    phase('freeze taken over');
    // 2. Thaw it: it steps down (its lease is gone, its token is stale) and writes nothing under it.
    frozen.child.kill('SIGCONT');
    for (let i = 0; i < 100 && !frozen.log().includes('steps down'); i++) await sleep(50);
    expect(frozen.log()).toMatch(/n\d steps down: (past the lease deadline|an append was fenced|the lease was lost)/);

    phase('thawed, stepped down');
    // 3. Kill the leader under load, twice (three nodes: the last one left takes over the second time).
    for (let round = 0; round < 2; round++) {
      await sleep(700);
      const victim = cluster.nodes.get((await cluster.lease()).holder)!;
      expect(victim).toBeDefined();
      const token = await cluster.leaderToken();
      const killedAt = Date.now();
      await cluster.stop(victim, 'SIGKILL');
      const next = await cluster.tradingUnder(token, 10_000);
      expect(next, `round ${round}: trading again within 10 s of the kill`).not.toBeNull();
      takeovers.push(next!.at - killedAt);
    }

    phase('kills taken over');
    // 4. Stop everything gracefully (the leader drains and releases its lease), then one last node
    // with trading off only recovers what is unfinished, and the projections catch up.
    await Promise.all([...cluster.nodes.values()].map((n) => cluster.stop(n, 'SIGTERM')));
    const last = await cluster.start('recovery', { ENGINE_AUTOSTART: 'false' });
    const projections = new ProjectionStore(db.sql);
    for (let i = 0; i < 400; i++) {
      const sagas = await sagaStreams(await cluster.readLog());
      const head = await cluster.store.headPosition();
      const states = await Promise.all(allProjections.map((p) => projections.active(p.name)));
      const done = [...sagas].every(([id, es]) => foldSaga(id.slice(SAGA_STREAM_PREFIX.length), es).phase === 'finished');
      if (done && states.every((s) => s && s.checkpoint >= head)) break;
      await sleep(100);
    }
    await cluster.stop(last, 'SIGTERM');
    phase('recovered');

    // The fold.
    const log = await cluster.readLog();
    const { token, engineEvents } = assertLeadershipInvariants(log, env, MAX_EXPOSURE);
    expect(token).toBeGreaterThanOrEqual(3n); // at least four leaderships: first, after the freeze, after each kill
    expect(engineEvents).toBeGreaterThan(20);
    let landedFees = 0n;
    const sagas = sagaStreams(log);
    expect(sagas.size).toBeGreaterThan(5);
    for (const [stream, events] of sagas) {
      const s = foldSaga(stream.slice(SAGA_STREAM_PREFIX.length), events);
      expect(s.phase, `${stream}: ${events.map((e) => e.type).join(',')}`).toBe('finished');
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
      const rebuilt = await rebuildProjection(cluster.store, db.sql, def);
      expect(rebuilt.digest, def.name).toBe(liveDigest);
    }
    phase('folded');
    console.log(`HA takeovers (ms): ${takeovers.join(', ')}; ${phases.join('; ')}`);
  }, 180_000);
});
