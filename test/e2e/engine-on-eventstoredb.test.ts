// The whole engine on EventStoreDB — here the EventStoreDB protocol stand-in
// (test/stand-ins/eventstoredb-server.ts, driven through @eventstore/db-client), with the read
// models in PostgreSQL: EVENTSTORE_URL points at the stand-in, DATABASE_URL at a fresh database.
// The engine trades (Solana venue on litesvm behind the JSON-RPC stand-in) in a child process that
// is killed with SIGKILL mid-saga; a restart drives every saga to its end; the projections catch
// up; `verify` passes; a rebuild of every projection comes out identical; `replay` answers as of
// a time; the engine pauses and resumes over REST.
import { PublicKey } from '@solana/web3.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../src/cli/main.js';
import { buildEventRegistry } from '../../src/event-catalog.js';
import type { RecordedEvent } from '../../src/ledger/envelope.js';
import { EventStoreDbEventStore } from '../../src/ledger/eventstoredb/eventstoredb-event-store.js';
import { USDC } from '../../src/shared/tokens.js';
import { rebuildProjection } from '../../src/projections/projection-runner.js';
import { ProjectionStore } from '../../src/projections/projection-store.js';
import { createKeystore } from '../../src/signing/keystore/keystore-signer.js';
import { SAGA_STREAM_PREFIX } from '../../src/trading/events.js';
import { foldSaga } from '../../src/trading/saga.js';
import { allProjections } from '../../projections/index.js';
import { startApp } from '../support/app.js';
import { authHeaders } from '../support/auth.js';
import { engineChildren } from '../support/engine-children.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startEventStoreDbStandIn, type EventStoreDbStandIn } from '../stand-ins/eventstoredb-server.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../stand-ins/solana-rpc-server.js';


function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out: (s: string) => void (io.stdout += s), err: (s: string) => void (io.stderr += s) };
  return io;
}

describe('the engine on the EventStoreDB protocol stand-in (read models in PostgreSQL)', () => {
  let db: TestDatabase;
  let esdb: EventStoreDbStandIn;
  let rpc: SolanaRpcStandIn;
  let env: Record<string, string>;
  let store: EventStoreDbEventStore;

  beforeAll(async () => {
    db = await freshDatabase();
    esdb = await startEventStoreDbStandIn();
    rpc = await startSolanaRpcStandIn();
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-esdb-e2e-'));
    const keystore = join(dir, 'keystore.json');
    const { publicKey } = await createKeystore(keystore, 'esdb e2e passphrase', { scryptN: 1024 });
    const owner = new PublicKey(publicKey);
    // Confirmations take a few hundred ms, so kills land between send and fill.
    rpc.processedPolls = 30;
    rpc.airdrop(owner, 1_000_000_000_000n);
    rpc.createMint(USDC.decimals, new PublicKey(USDC.mint));
    rpc.setTokenAccount({ mint: new PublicKey(USDC.mint), owner, amount: 10_000_000_000_000n });
    env = {
      ...(process.env as Record<string, string>),
      DATABASE_URL: db.url,
      EVENTSTORE_URL: esdb.url,
      ARBITER_DATA_DIR: dir,
      KEYSTORE_PATH: keystore,
      KEYSTORE_PASSPHRASE: 'esdb e2e passphrase',
      VENUE: 'solana',
      SOLANA_RPC_URL: rpc.url,
      SOLANA_CONFIRM_POLL_MS: '10',
      SIM_OPPORTUNITIES_PER_MINUTE: '1200',
      RISK_MAX_ORDERS_PER_MINUTE: '100000',
      RISK_MIN_PROFIT_BASE_UNITS: '0',
      // This test is about the store, not price freshness: on a loaded machine (the suite runs
      // other multi-process tests beside it) steps can outlast the 5 s default and every saga
      // would be refused as stale, so nothing would ever reach a submission.
      RISK_MAX_PRICE_AGE_SECONDS: '120',
      ENGINE_MAX_SAGA_AGE_MS: '600000',
      ENGINE_CONCURRENCY: '4',
      LOG_LEVEL: 'error',
    };
    store = await EventStoreDbEventStore.connect(esdb.url, buildEventRegistry());
  });
  afterAll(async () => {
    killAll();
    await store?.close();
    await rpc?.close();
    await esdb?.close();
    await db?.drop();
  });

  const { start, kill, killAll } = engineChildren(() => env);

  /** Saga streams whose transaction was submitted and has no fill outcome yet. */
  function openSubmissions(): string[] {
    const submitted = new Set<string>();
    for (const e of esdb.events) {
      if (e.type === 'TransactionSubmitted') submitted.add(e.streamId);
      if (e.type === 'FillConfirmed' || e.type === 'FillFailed') submitted.delete(e.streamId);
    }
    return [...submitted];
  }

  async function until(pred: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async function sagas(): Promise<Map<string, RecordedEvent[]>> {
    const byStream = new Map<string, RecordedEvent[]>();
    let after = 0n;
    for (;;) {
      const page = await store.readAll({ after, maxCount: 5000, filter: { streamPrefix: SAGA_STREAM_PREFIX } });
      if (!page.length) return byStream;
      for (const e of page) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
      after = page[page.length - 1].position;
    }
  }

  it('trades to fills, survives kill -9 mid-saga, catches up, verifies, rebuilds identically, replays and pauses over REST', async () => {
    // Trade, and kill the engine with SIGKILL the moment a saga has submitted its transaction but
    // not yet seen it confirmed (watched on the stand-in's log): a kill mid-saga, by construction.
    // The first round also waits for a fill; the second trades another seed's opportunities.
    for (const [round, seed] of ['5', '6'].entries()) {
      const child = await start({ SIM_SEED: seed });
      const submittedBefore = new Set(openSubmissions());
      await until(() => openSubmissions().some((s) => !submittedBefore.has(s)) && (round > 0 || esdb.events.some((e) => e.type === 'FillConfirmed')), 150_000);
      await kill(child);
    }
    const midway = await sagas();
    const interrupted = [...midway.entries()].filter(([id, es]) => foldSaga(id.slice(SAGA_STREAM_PREFIX.length), es).phase !== 'finished');
    expect(interrupted.length).toBeGreaterThan(0);

    // The application in-process over HTTP, trading off: its start drives every unfinished saga to its end.
    const app = await startApp({ ...env, ENGINE_AUTOSTART: 'false' });
    try {
      const all = await sagas();
      expect(all.size).toBeGreaterThan(3);
      let filled = 0;
      for (const [stream, events] of all) {
        const s = foldSaga(stream.slice(SAGA_STREAM_PREFIX.length), events);
        expect(s.phase, `${stream}: ${events.map((e) => e.type).join(',')}`).toBe('finished');
        expect(events.filter((e) => e.type === 'TransactionSubmitted').length).toBeLessThanOrEqual(1);
        if (events.some((e) => e.type === 'FillConfirmed')) filled++;
      }
      expect(filled).toBeGreaterThan(0);

      // /ready shows its checks to a caller with a key.
      const operator = await authHeaders(app.app, 'operator');
      const ready = await fetch(`${app.url}/ready`, { headers: operator });
      expect(((await ready.json()) as { checks: Record<string, string> }).checks.eventStore).toBe('ok (eventstoredb)');

      // Pause and resume over REST, recorded in the engine stream on EventStoreDB.
      const post = (path: string, reason: string) =>
        fetch(`${app.url}${path}`, { method: 'POST', headers: { ...operator, 'content-type': 'application/json' }, body: JSON.stringify({ reason }) });
      expect((await post('/engine/pause', 'esdb e2e')).status).toBe(200);
      expect((await post('/engine/resume', 'esdb e2e done')).status).toBe(200);
      const engine = await store.readStream('engine');
      expect(engine.slice(-2).map((e) => e.type)).toEqual(['EnginePaused', 'EngineResumed']);

      // Every projection catches up with the head of $all.
      const projections = new ProjectionStore(db.sql);
      const head = await store.headPosition();
      for (let i = 0; i < 600; i++) {
        const states = await Promise.all(allProjections.map((p) => projections.active(p.name)));
        if (states.every((s) => s && s.checkpoint >= head)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const def of allProjections) expect((await projections.active(def.name))!.checkpoint, def.name).toBeGreaterThanOrEqual(head);
    } finally {
      await app.close();
    }

    // verify: every hash chain on EventStoreDB checks out.
    const cliEnv = { DATABASE_URL: db.url, EVENTSTORE_URL: esdb.url, ARBITER_DATA_DIR: env.ARBITER_DATA_DIR };
    const verified = capture();
    expect(await runCli(['verify'], cliEnv, verified), verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^OK: \d+ events in \d+ streams/m);

    // A rebuild of every projection from $all equals the live tables.
    const projections = new ProjectionStore(db.sql);
    for (const def of allProjections) {
      const live = await projections.active(def.name);
      const liveDigest = await projections.digest(def, live!.generation);
      const rebuilt = await rebuildProjection(store, db.sql, def);
      expect(rebuilt.digest, def.name).toBe(liveDigest);
    }

    // replay as of a time: exactly the events recorded up to it.
    const logged: RecordedEvent[] = [];
    for (let after = 0n; ; ) {
      const page = await store.readAll({ after, maxCount: 5000 });
      if (!page.length) break;
      logged.push(...page);
      after = page[page.length - 1].position;
    }
    const cutoff = logged[Math.floor(logged.length / 2)].recordedAt;
    const replayed = capture();
    expect(await runCli(['replay', '--all', '--until', cutoff, '--json'], cliEnv, replayed), replayed.stderr).toBe(0);
    const lines = replayed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; recordedAt: string });
    expect(lines.map((l) => l.id)).toEqual(logged.filter((e) => e.recordedAt <= cutoff).map((e) => e.id));
  }, 420_000);
});
