// The sealer on the real PostgreSQL: when it seals (every N events or T seconds, never when
// nothing is new), that its seals verify, and anchoring a seal as a Solana memo transaction
// through web3.js → JSON-RPC → LiteSVM (the stand-in), read back and checked by signature.
import { PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { LedgerSealer, sealDue } from '../../../src/audit/sealer.js';
import { SEAL_STREAM, sealMemo, sealSignatureProblem } from '../../../src/ledger/sealing/seal.js';
import { SolanaMemoAnchor } from '../../../src/audit/solana/solana-memo-anchor.js';
import { verifyLog } from '../../../src/ledger/verify.js';
import type { KeystoreSigner } from '../../../src/signing/keystore/keystore-signer.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { ev, testRegistry } from '../../support/events.js';
import { testSealSigner } from '../../support/seal-signer.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../../stand-ins/solana-rpc-server.js';

describe('sealDue (pure)', () => {
  const policy = { everyEvents: 100, everySeconds: 60 };
  it.each([
    [{ newEvents: 0, sinceLastMs: 10 ** 9 }, false],
    [{ newEvents: 99, sinceLastMs: 59_999 }, false],
    [{ newEvents: 100, sinceLastMs: 0 }, true],
    [{ newEvents: 1, sinceLastMs: 60_000 }, true],
  ])('%j → %s', (input, due) => expect(sealDue(input, policy)).toBe(due));
});

describe('LedgerSealer on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let signer: KeystoreSigner;
  let rpc: SolanaRpcStandIn;
  beforeAll(async () => {
    db = await freshDatabase();
    store = new PostgresEventStore(db.sql, testRegistry());
    signer = await testSealSigner();
    rpc = await startSolanaRpcStandIn();
  });
  afterAll(async () => {
    await rpc.close();
    await db.drop();
  });

  it('seals after N events or T seconds, and never when nothing was appended since the last seal', async () => {
    let now = new Date('2026-12-01T00:00:00.000Z');
    const sealer = new LedgerSealer(store, signer, null, { everyEvents: 5, everySeconds: 60 }, { now: () => now });
    expect(await sealer.tick()).toBeNull(); // empty log
    for (let i = 0; i < 4; i++) await store.append('s', [ev('Moved', { i })], 'any');
    expect(await sealer.tick()).toBeNull(); // 4 < 5 and no time has passed
    await store.append('s', [ev('Moved', { i: 4 })], 'any');
    const first = (await sealer.tick())!;
    expect(first.payload).toMatchObject({ position: '5', keyId: 'seal-test', signerKind: 'keystore', anchor: null });
    expect(first.payload.hash).toBe((await store.readAll({ after: 4n, maxCount: 1 }))[0].logHash);
    expect(sealSignatureProblem(first.payload)).toBeNull();

    // Only the seal itself is new: an hour later there is still nothing to seal.
    now = new Date(now.getTime() + 3_600_000);
    expect(await sealer.tick()).toBeNull();
    // Something new after more than T: sealed at once.
    await store.append('s', [ev('Moved', { i: 5 })], 'any');
    expect((await sealer.tick())!.payload.position).toBe('7');
    await store.append('s', [ev('Moved', { i: 6 })], 'any');
    now = new Date(now.getTime() + 59_000);
    expect(await sealer.tick()).toBeNull();
    now = new Date(now.getTime() + 1_000);
    expect((await sealer.tick())!.payload.position).toBe('9');

    // A new sealer (a restart) picks up the last seal from the log.
    const restarted = new LedgerSealer(store, signer, null, { everyEvents: 5, everySeconds: 60 }, { now: () => now });
    expect(await restarted.tick()).toBeNull();
    const seals = await store.readStream(SEAL_STREAM);
    expect(seals.map((e) => e.type)).toEqual(['LedgerSealed', 'LedgerSealed', 'LedgerSealed']);
    expect(await verifyLog(store)).toMatchObject({ ok: true, sealsChecked: 3, unsealed: { events: 1, fromPosition: 10n } });
  });

  it('anchors a seal as a Solana memo transaction paid by the seal key, and checks it by signature', async () => {
    rpc.airdrop(new PublicKey(await signer.publicKey()), 1_000_000_000n);
    const anchor = new SolanaMemoAnchor({ rpcUrl: rpc.url, signer, pollMs: 0 });
    await store.append('s', [ev('Moved', { i: 9 })], 'any');
    const sealer = new LedgerSealer(store, signer, anchor, { everyEvents: 1, everySeconds: 60 });
    const seal = (await sealer.tick())!;
    const a = seal.payload.anchor!;
    expect(a).toMatchObject({ chain: 'solana', memo: sealMemo(seal.payload.position, seal.payload.hash) });
    expect(rpc.calls.get('sendTransaction')).toBe(1);
    expect(await anchor.check(a)).toBeNull();
    expect(await anchor.check({ ...a, memo: sealMemo(seal.payload.position, '0'.repeat(64)) })).toMatch(/does not carry the memo/);
    expect((await verifyLog(store)).ok).toBe(true);
  });

  it('still seals (unanchored, with a warning) when the anchor fails', async () => {
    const warnings: string[] = [];
    const broken = new SolanaMemoAnchor({ rpcUrl: 'http://127.0.0.1:1', signer, rpcTimeoutMs: 500 });
    await store.append('s', [ev('Moved', { i: 10 })], 'any');
    const seal = (await new LedgerSealer(store, signer, broken, { everyEvents: 1, everySeconds: 60 }, { log: (m) => warnings.push(m) }).tick())!;
    expect(seal.payload.anchor).toBeNull();
    expect(warnings.join('\n')).toMatch(/not anchored \(solana-memo\)/);
  });
});
