// High availability, tier 2 (root only): two engine processes, each in its own network namespace,
// reaching PostgreSQL and the Solana JSON-RPC stand-in only over veth pairs (one pair per path,
// through forwarders in the root namespace, since both listen on 127.0.0.1). Partitions are cut
// with `ip link set … down`, not signals: first the leader loses both paths and the standby in
// the other namespace must take over and trade; then the new leader loses only its database path
// while its RPC path stays up, and must send nothing once its lease deadline (last renewal +
// TTL − margin) has passed: the RPC forwarder of its namespace records every sendTransaction it
// carried, and the stand-in every transaction it was sent. Then the log is folded (tier 1's fold).
// Namespaces and processes are removed by name and pid afterwards, whatever happened. How fast a
// takeover is, is the HA benchmark's to measure (bench/ha.ts; tier 1 asserts issue 11's 10 s):
// here a takeover may take up to 20 s, so a loaded CI machine does not fail what this test is for.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { assertLeadershipInvariants, EngineCluster, HA_TIMINGS, haEnvironment, sleep, type EngineNode } from '../support/ha-cluster.js';
import { createNamespace, netnsRun, netnsUnavailable, startTcpForwarder, type Namespace, type NetPath, type TcpForwarder } from '../support/netns.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../stand-ins/solana-rpc-server.js';

const unavailable = await netnsUnavailable();
const MAX_EXPOSURE = 3_000_000_000n;
/** The leader's deadline after its last renewal (which came before the cut). */
/**
 * A longer lease than tier 1's: every database query here goes through a userspace forwarder in
 * the test's own process, and on a loaded machine a standby's acquisition (take the lease, read
 * and append EngineLeadershipAcquired) took longer than tier 1's 2 s window (TTL − margin), so it
 * kept taking the lease "too late to act on it" and never led.
 */
const TIMINGS = { ...HA_TIMINGS, ENGINE_LEASE_TTL_MS: '6000', ENGINE_LEASE_MARGIN_MS: '1500' };
const DEADLINE_MS = Number(TIMINGS.ENGINE_LEASE_TTL_MS) - Number(TIMINGS.ENGINE_LEASE_MARGIN_MS);
/** How long a takeover may take here (see the header: the 10 s target is tier 1's and the bench's). */
const TAKEOVER_WAIT_MS = 20_000;
/**
 * Slack for a send checked just before the deadline and for the forwarder's timestamps, taken on
 * this (busy) test process's event loop; still well inside the margin before the lease can expire.
 */
const IN_FLIGHT_MS = 400;

async function until(ok: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !ok() && Date.now() < end; ) await sleep(50);
}

interface Placed {
  ns: Namespace;
  db: NetPath;
  rpc: NetPath;
  rpcSends: TcpForwarder;
}

describe.skipIf(unavailable !== null)(`HA tier 2: engines in network namespaces, partitioned by link${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let db: TestDatabase;
  let rpc: SolanaRpcStandIn;
  let env: Record<string, string>;
  let cluster: EngineCluster | undefined;
  const placed = new Map<string, Placed>();
  const forwarders: TcpForwarder[] = [];
  const namespaces: Namespace[] = [];
  const run = netnsRun();

  beforeAll(async () => {
    db = await freshDatabase();
    rpc = await startSolanaRpcStandIn();
    ({ env } = await haEnvironment(db, rpc, { RISK_MAX_EXPOSURE_PER_TOKEN_USD_MICROS: MAX_EXPOSURE.toString(), DATABASE_QUERY_TIMEOUT_MS: '5000', ...TIMINGS }));
    cluster = new EngineCluster(db, env);
  });
  afterAll(async () => {
    cluster?.killAll();
    for (const f of forwarders) await f.close().catch(() => undefined);
    for (const ns of namespaces) await ns.destroy();
    await rpc?.close();
    await db?.drop();
  });

  /** Node `id` in namespace `index`: its database and RPC paths each through its own pair and forwarder. */
  async function startPlaced(id: string, index: number): Promise<EngineNode> {
    const ns = await createNamespace(run, index);
    namespaces.push(ns);
    const [dbPath, rpcPath] = [await ns.path(2 * index), await ns.path(2 * index + 1)];
    const pg = new URL(db.url);
    const dbForward = await startTcpForwarder(dbPath.hostAddress, { host: pg.hostname, port: Number(pg.port || 5432) });
    const rpcTarget = new URL(rpc.url);
    const rpcSends = await startTcpForwarder(rpcPath.hostAddress, { host: rpcTarget.hostname, port: Number(rpcTarget.port) }, '"sendTransaction"');
    forwarders.push(dbForward, rpcSends);
    placed.set(id, { ns, db: dbPath, rpc: rpcPath, rpcSends });
    // Inside the namespace, 127.0.0.1 is the namespace's own loopback: both paths go to the forwarders.
    return cluster!.start(id, { DATABASE_URL: dbForward.via(db.url), SOLANA_RPC_URL: rpcSends.via(rpc.url) }, ns.exec);
  }
  /** For a failure message: the last events of the log, and the other nodes' last log lines. */
  async function whyNot(except: string): Promise<string> {
    const head = await cluster!.store.headPosition();
    const last = await cluster!.store.readAll({ after: head > 15n ? head - 15n : 0n, maxCount: 15 });
    const events = last.map((e) => `${e.position} ${e.type} ${e.metadata.actor}`).join('; ');
    const logs = [...cluster!.nodes.values()].filter((n) => n.id !== except).map((n) => `${n.id}: ${n.log().slice(-1500)}`).join('\n');
    return `last events: ${events}\n${logs}`;
  }
  it('a standby in another namespace takes over a partitioned leader, and a leader cut from its database only sends nothing past its deadline', async () => {
    const c = cluster!;
    await Promise.all([startPlaced('ns-a', 1), startPlaced('ns-b', 2)]);
    expect(await c.tradingUnder(-1n, 20_000), 'a leader trades through the forwarders').not.toBeNull();

    // 1. The leader loses both paths: the standby takes over and trades; the old one fenced itself.
    const first = await c.leader();
    const firstToken = await c.leaderToken();
    const a = placed.get(first.id)!;
    await until(() => a.rpcSends.seen.length > 0, 10_000);
    expect(a.rpcSends.seen.length, 'the leader sent transactions through its RPC forwarder').toBeGreaterThan(0);
    await Promise.all([a.db.down(), a.rpc.down()]);
    const partitionedAt = Date.now();
    const taken = await c.tradingUnder(firstToken, TAKEOVER_WAIT_MS);
    expect(taken, `the standby trades within ${TAKEOVER_WAIT_MS} ms of the partition; ${await whyNot(first.id)}`).not.toBeNull();
    expect((await c.lease()).holder).not.toBe(first.id);
    expect(await c.steppedDown(first)).toMatch(/steps down: (past the lease deadline|the lease could not be renewed before the deadline)/);
    await Promise.all([a.db.up(), a.rpc.up()]);

    // 2. The new leader loses its database path only; its RPC path stays up. The chain drops what
    // it is sent meanwhile, so the leader's sagas sit in confirm and rebroadcast their signed
    // bytes over the RPC path on every poll, with no database needed: it has something to send.
    const second = await c.leader();
    expect(second.id).not.toBe(first.id);
    const secondToken = await c.leaderToken();
    const b = placed.get(second.id)!;
    await until(() => b.rpcSends.seen.length > 0, 10_000);
    expect(b.rpcSends.seen.length, 'the new leader sent transactions through its RPC forwarder').toBeGreaterThan(0);
    rpc.dropSubmissions = true;
    const rebroadcasting = b.rpcSends.seen.length + 20;
    await until(() => b.rpcSends.seen.length > rebroadcasting, 10_000);
    const cutAt = Date.now();
    await b.db.down();
    const back = await c.tradingUnder(secondToken, TAKEOVER_WAIT_MS);
    expect(back, `the first leader, healed, trades within ${TAKEOVER_WAIT_MS} ms of the cut; ${await whyNot(second.id)}`).not.toBeNull();
    rpc.dropSubmissions = false;
    await sleep(1000); // room for a late send, had the cut leader kept sending
    const sent = b.rpcSends.seen.filter((t) => t > cutAt);
    expect(sent.length, 'the cut leader went on rebroadcasting until its deadline').toBeGreaterThan(0);
    const late = sent.filter((t) => t > cutAt + DEADLINE_MS + IN_FLIGHT_MS);
    expect(late.map((t) => t - cutAt), `ms after the cut of ${second.id}'s sends past its deadline (${DEADLINE_MS} ms)`).toEqual([]);
    expect(b.rpcSends.seen.filter((t) => t >= back!.at)).toEqual([]);
    expect(a.rpcSends.seen.filter((t) => t >= back!.at).length, 'the new leader sends').toBeGreaterThan(0);
    expect(await c.steppedDown(second)).toMatch(/steps down: (past the lease deadline|the lease could not be renewed before the deadline)/);
    await b.db.up();
    console.log(`HA tier 2: partition taken over in ${taken!.at - partitionedAt} ms, database cut in ${back!.at - cutAt} ms; the cut leader's last send ${Math.max(...sent) - cutAt} ms after the cut`);

    // Everything stops gracefully (the paths are whole again), and the log is folded.
    await sleep(500);
    await Promise.all([...c.nodes.values()].map((n) => c.stop(n, 'SIGTERM')));
    const log = await c.readLog();
    const { token } = assertLeadershipInvariants(log, env, MAX_EXPOSURE);
    expect(token).toBeGreaterThanOrEqual(2n);
    // Every transaction the chain was sent is one the ledger recorded as signed: nothing went out
    // that a leader had not written down first.
    const signed = new Set(log.filter((e) => e.type === 'TransactionSigned').map((e) => (e.payload as { signature: string }).signature));
    expect(rpc.submissions.length).toBeGreaterThan(0);
    for (const s of rpc.submissions) expect(signed.has(s.signature), `sent ${s.signature} at ${s.atMs}`).toBe(true);
  }, 120_000);
});
