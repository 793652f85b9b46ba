// Kill -9 in the middle of sagas: the engine runs as a child process trading on the Solana venue
// (web3.js against litesvm behind a local JSON-RPC stand-in) and is killed with SIGKILL at
// varying moments, several times. A last start with trading off only recovers. Then no saga may
// be left unfinished, none may have two signatures or two submissions, and the chain may have
// charged fees for exactly the transactions the ledger says landed.
import { PublicKey } from '@solana/web3.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEventRegistry } from '../../src/event-catalog.js';
import type { RecordedEvent } from '../../src/ledger/envelope.js';
import { PostgresEventStore } from '../../src/ledger/postgres/postgres-event-store.js';
import { USDC } from '../../src/shared/tokens.js';
import { createKeystore } from '../../src/signing/keystore/keystore-signer.js';
import { SAGA_STREAM_PREFIX } from '../../src/trading/events.js';
import { foldSaga } from '../../src/trading/saga.js';
import { engineChildren } from '../support/engine-children.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../stand-ins/solana-rpc-server.js';


describe('engine killed with SIGKILL mid-saga', () => {
  let db: TestDatabase;
  let rpc: SolanaRpcStandIn;
  let env: Record<string, string>;
  let owner: PublicKey;

  beforeAll(async () => {
    db = await freshDatabase();
    rpc = await startSolanaRpcStandIn();
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-kill-'));
    const keystore = join(dir, 'keystore.json');
    const { publicKey } = await createKeystore(keystore, 'kill test passphrase', { scryptN: 1024 });
    owner = new PublicKey(publicKey);
    // Landed transactions stay 'processed' for a while, so confirmations take ~300 ms and kills
    // land in the middle of sagas, between send and fill.
    rpc.processedPolls = 30;
    rpc.airdrop(owner, 1_000_000_000_000n);
    rpc.createMint(USDC.decimals, new PublicKey(USDC.mint));
    rpc.setTokenAccount({ mint: new PublicKey(USDC.mint), owner, amount: 10_000_000_000_000n });
    env = {
      ...(process.env as Record<string, string>),
      DATABASE_URL: db.url,
      ARBITER_DATA_DIR: dir,
      KEYSTORE_PATH: keystore,
      KEYSTORE_PASSPHRASE: 'kill test passphrase',
      VENUE: 'solana',
      SOLANA_RPC_URL: rpc.url,
      SOLANA_CONFIRM_POLL_MS: '10',
      SIM_SEED: '5',
      SIM_OPPORTUNITIES_PER_MINUTE: '1200',
      RISK_MAX_ORDERS_PER_MINUTE: '100000',
      RISK_MIN_PROFIT_BASE_UNITS: '0',
      ENGINE_MAX_SAGA_AGE_MS: '600000',
      ENGINE_CONCURRENCY: '4',
      LOG_LEVEL: 'error',
      // One engine restarted after each kill: single-node semantics (with HA on, each restart
      // would first wait out the killed node's lease; engine-ha.test.ts covers that).
      ENGINE_HA: 'off',
    };
  });
  afterAll(async () => {
    killAll();
    await rpc?.close();
    await db?.drop();
  });

  const { start, kill, killAll } = engineChildren(() => env);

  async function sagas(store: PostgresEventStore): Promise<Map<string, RecordedEvent[]>> {
    const byStream = new Map<string, RecordedEvent[]>();
    let after = 0n;
    for (;;) {
      const page = await store.readAll({ after, maxCount: 5000, filter: { streamPrefix: SAGA_STREAM_PREFIX } });
      if (!page.length) return byStream;
      for (const e of page) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
      after = page[page.length - 1].position;
    }
  }

  it('leaves no saga stuck and no transaction sent twice', async () => {
    const store = new PostgresEventStore(db.sql, buildEventRegistry());
    const lamportsAtStart = rpc.lamports(owner);
    // Kill at least five times, and keep going (up to ten) until a kill has left sagas mid-way.
    let interrupted: [string, RecordedEvent[]][] = [];
    for (let round = 0; round < 10 && (round < 5 || interrupted.length === 0); round++) {
      const child = await start();
      await new Promise((r) => setTimeout(r, 400 + (round % 5) * 150));
      await kill(child);
      const midway = await sagas(store);
      interrupted = [...midway.entries()].filter(([id, es]) => foldSaga(id.slice(SAGA_STREAM_PREFIX.length), es).phase !== 'finished');
    }

    // Recovery only: trading off, the start drives every unfinished saga to its end.
    const last = await start({ ENGINE_AUTOSTART: 'false' });
    await kill(last);
    const all = await sagas(store);
    expect(all.size).toBeGreaterThan(5);
    let landedFees = 0n;
    for (const [stream, events] of all) {
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
    // Every lamport the signer lost is a fee the ledger recorded: no transaction landed that the
    // ledger does not know of, and none landed twice. (Route transactions are self-transfers.)
    expect(lamportsAtStart - rpc.lamports(owner)).toBe(landedFees);
    expect(landedFees).toBeGreaterThan(0n);
    // The kills did interrupt sagas (otherwise this test proved nothing about recovery).
    expect(interrupted.length).toBeGreaterThan(0);
  }, 180_000);
});
