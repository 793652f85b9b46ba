// Reconciliation on the real runtime: the app (VENUE=solana) against the litesvm-backed Solana RPC
// stand-in, its real @solana/web3.js reads (getBalance, getTokenAccountsByOwner) of the signer's
// wallet. At start the chain's figures are recorded as the opening; a second run finds the chain
// as the ledger says; then tokens leave the wallet behind the engine's back (a real SPL Token
// transfer signed by the wallet's key, landed in litesvm) and the next run records
// BalanceDiscrepancyDetected with both figures, and the circuit breaker pauses the engine.
import { createAssociatedTokenAccountIdempotentInstruction, createTransferCheckedInstruction, getAssociatedTokenAddressSync } from '@solana/spl-token';
import { Connection, Keypair, MessageV0, PublicKey, VersionedTransaction } from '@solana/web3.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOL_ROW_MINT } from '../../../src/execution/decisions.js';
import { reconciliationStreamId, type BalanceDiscrepancyDetectedPayload, type BalancesReconciledPayload } from '../../../src/execution/events.js';
import { SolanaWalletBalances } from '../../../src/execution/solana/solana-wallet-balances.js';
import { EVENT_STORE, type EventStore } from '../../../src/ledger/event-store.port.js';
import { foldEngineState } from '../../../src/risk/engine-state.js';
import { ENGINE_STATE, type EngineStateView } from '../../../src/risk/engine-state.port.js';
import { ENGINE_STREAM_ID } from '../../../src/risk/events.js';
import { defaultRiskLimits } from '../../../src/risk/limits.js';
import { createKeystore } from '../../../src/signing/keystore/keystore-signer.js';
import { SIGNER, type Signer } from '../../../src/signing/signer.port.js';
import { ReconciliationService } from '../../../src/trading/reconciliation.service.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../../stand-ins/solana-rpc-server.js';
import { startApp } from '../../support/app.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { buildEventRegistry } from '../../../src/event-catalog.js';
import { newEvent } from '../../../src/ledger/event-types.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { BalanceDiscrepancyDetected } from '../../../src/execution/events.js';

let rpc: SolanaRpcStandIn;
let app: Awaited<ReturnType<typeof startApp>>;
let owner: PublicKey;
let mint: PublicKey;
let ata: PublicKey;
let store: EventStore;
let reconciler: ReconciliationService;
const LAMPORTS = 5_000_000_000n;
const TOKENS = 1_000_000n;

const stream = async () => store.readStream(reconciliationStreamId(owner.toBase58()));
const rowOf = (p: { balances: { mint: string }[] }, m: string) => p.balances.find((b) => b.mint === m);

beforeAll(async () => {
  rpc = await startSolanaRpcStandIn();
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-reconcile-'));
  const keystore = await createKeystore(join(dir, 'trading.json'), 'reconcile-test', { scryptN: 1024 });
  owner = new PublicKey(keystore.publicKey);
  rpc.airdrop(owner, LAMPORTS);
  mint = rpc.createMint(6);
  ata = rpc.setTokenAccount({ mint, owner, amount: TOKENS });
  app = await startApp({
    ARBITER_DATA_DIR: dir,
    DATABASE_URL: undefined,
    VENUE: 'solana',
    SOLANA_RPC_URL: rpc.url,
    KEYSTORE_PATH: join(dir, 'trading.json'),
    KEYSTORE_PASSPHRASE: 'reconcile-test',
    // Only the run at start, and the ones the test asks for.
    RECONCILE_INTERVAL_SECONDS: '3600',
  });
  store = app.app.get<EventStore>(EVENT_STORE);
  reconciler = app.app.get(ReconciliationService);
}, 90_000);
afterAll(async () => {
  await app?.close();
  await rpc?.close();
});

describe('reconciliation against the chain (RPC stand-in over litesvm)', () => {
  it('the stand-in answers getTokenAccountsByOwner as a node does, base64 and jsonParsed', async () => {
    const connection = new Connection(rpc.url, 'confirmed');
    const raw = await connection.getTokenAccountsByOwner(owner, { mint });
    expect(raw.value.map((a) => a.pubkey.toBase58())).toEqual([ata.toBase58()]);
    const parsed = await connection.getParsedTokenAccountsByOwner(owner, { mint });
    expect(parsed.value[0]!.account.data).toMatchObject({ program: 'spl-token', parsed: { type: 'account', info: { mint: mint.toBase58(), owner: owner.toBase58(), tokenAmount: { amount: String(TOKENS), decimals: 6 } } } });
    const read = await new SolanaWalletBalances(new Connection(rpc.url, 'confirmed')).read(owner.toBase58());
    expect(read).toMatchObject({ kind: 'balances', lamports: LAMPORTS, tokenAccounts: 1 });
    expect(read.tokens.get(mint.toBase58())).toBe(TOKENS);
    await expect(connection.getTokenAccountsByOwner(owner, { mint: Keypair.generate().publicKey })).rejects.toThrow(/could not find mint/);
  });

  it('at start: the chain’s figures are recorded as the opening, before the engine trades', async () => {
    const [opening] = await stream();
    expect(opening?.type).toBe('BalancesReconciled');
    const p = opening!.payload as BalancesReconciledPayload;
    expect(p).toMatchObject({ opening: true, owner: owner.toBase58(), venue: 'solana', basisPosition: null, lamports: String(LAMPORTS) });
    expect(rowOf(p, SOL_ROW_MINT)).toMatchObject({ ledgerBaseUnits: null, chainBaseUnits: String(LAMPORTS) });
    expect(rowOf(p, mint.toBase58())).toMatchObject({ ledgerBaseUnits: null, chainBaseUnits: String(TOKENS) });
    expect(rpc.calls.get('getTokenAccountsByOwner')).toBeGreaterThanOrEqual(2); // SPL Token and Token-2022
  });

  it('the chain as the ledger says: BalancesReconciled with both figures equal', async () => {
    const out = await reconciler.reconcileNow();
    expect(out.outcome).toBe('reconciled');
    const events = await stream();
    expect(events).toHaveLength(2);
    const p = events[1]!.payload as BalancesReconciledPayload;
    expect(p).toMatchObject({ opening: false, basisPosition: events[0]!.position.toString() });
    expect(rowOf(p, mint.toBase58())).toMatchObject({ ledgerBaseUnits: String(TOKENS), chainBaseUnits: String(TOKENS), differenceBaseUnits: '0' });
    expect(app.app.get<EngineStateView>(ENGINE_STATE).current().mode).toBe('ACTIVE');
  });

  it('tokens moved out behind the engine’s back: BalanceDiscrepancyDetected with both figures, and the engine pauses by itself', async () => {
    // A real SPL Token transfer out of the wallet, signed with the wallet's own key, landed in litesvm.
    const signer = app.app.get<Signer>(SIGNER);
    const elsewhere = Keypair.generate().publicKey;
    const connection = new Connection(rpc.url, 'confirmed');
    const { blockhash } = await connection.getLatestBlockhash();
    const to = getAssociatedTokenAddressSync(mint, elsewhere);
    const message = MessageV0.compile({
      payerKey: owner,
      recentBlockhash: blockhash,
      instructions: [
        createAssociatedTokenAccountIdempotentInstruction(owner, to, elsewhere, mint),
        createTransferCheckedInstruction(ata, mint, to, owner, 250_000n, 6),
      ],
    });
    const tx = new VersionedTransaction(message);
    tx.addSignature(owner, await signer.sign(message.serialize()));
    await connection.sendRawTransaction(tx.serialize());
    expect(rpc.tokenAmount(ata)).toBe(TOKENS - 250_000n);
    const lamportsNow = rpc.lamports(owner);

    const out = await reconciler.reconcileNow();
    expect(out.outcome).toBe('discrepancy_beyond_tolerance');
    const events = await stream();
    expect(events.map((e) => e.type)).toEqual(['BalancesReconciled', 'BalancesReconciled', 'BalanceDiscrepancyDetected']);
    const p = events[2]!.payload as BalanceDiscrepancyDetectedPayload;
    expect(p.beyondTolerance).toBe(true);
    expect(rowOf(p, mint.toBase58())).toEqual({
      mint: mint.toBase58(),
      ledgerBaseUnits: String(TOKENS),
      chainBaseUnits: String(TOKENS - 250_000n),
      differenceBaseUnits: '-250000',
      toleranceBaseUnits: '0',
      beyondTolerance: true,
    });
    // The fee and the new account's rent left SOL too: recorded, within RECONCILE_TOLERANCE_LAMPORTS' default.
    expect(rowOf(p, SOL_ROW_MINT)).toMatchObject({ ledgerBaseUnits: String(LAMPORTS), chainBaseUnits: String(lamportsNow), differenceBaseUnits: String(lamportsNow - LAMPORTS), beyondTolerance: false });

    // The engine state, folded from the log, is PAUSED by the circuit breaker with a reason naming the discrepancy.
    const engine = foldEngineState(await store.readStream(ENGINE_STREAM_ID), defaultRiskLimits());
    expect(engine.mode).toBe('PAUSED');
    expect(engine.pauseCause).toBe('circuit_breaker');
    expect(engine.reason).toBe(
      `circuit breaker: balance discrepancy of wallet ${owner.toBase58()} at slot ${p.slot}: ${mint.toBase58()} is ${TOKENS - 250_000n} base units on chain, ${TOKENS} in the ledger (difference -250000, tolerance 0)`,
    );
    const [pause] = (await store.readStream(ENGINE_STREAM_ID)).slice(-1);
    expect(pause).toMatchObject({ type: 'EnginePaused', metadata: { causationId: events[2]!.id } });
    expect(app.app.get<EngineStateView>(ENGINE_STATE).current().mode).toBe('PAUSED');
  });

  it('the next run starts from the discrepancy’s chain figures: the difference is recorded once, not again', async () => {
    const out = await reconciler.reconcileNow();
    expect(out.outcome).toBe('reconciled');
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/arbiter_reconciliations_total\{outcome="discrepancy_beyond_tolerance"\} 1/);
    expect(metrics).toMatch(/arbiter_circuit_breaker_trips_total\{cause="balance_discrepancy"\} 1/);
  });
});

describe('a discrepancy recorded without its pause (the engine stopped in between)', () => {
  let db: TestDatabase;
  let dir: string;
  let env: Record<string, string | undefined>;
  let wallet: PublicKey;
  beforeAll(async () => {
    db = await freshDatabase('arbiter_reconcile');
    dir = mkdtempSync(join(tmpdir(), 'arbiter-reconcile-pg-'));
    const keystore = await createKeystore(join(dir, 'trading.json'), 'reconcile-test', { scryptN: 1024 });
    wallet = new PublicKey(keystore.publicKey);
    rpc.airdrop(wallet, LAMPORTS);
    env = { ARBITER_DATA_DIR: dir, DATABASE_URL: db.url, VENUE: 'solana', SOLANA_RPC_URL: rpc.url, KEYSTORE_PATH: join(dir, 'trading.json'), KEYSTORE_PASSPHRASE: 'reconcile-test', RECONCILE_INTERVAL_SECONDS: '3600' };
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  it('is paused on at the next start, from the recorded discrepancy', async () => {
    const first = await startApp(env);
    await first.close();
    // What a crash right after recording the discrepancy leaves: the event, and no EnginePaused.
    const pgStore = new PostgresEventStore(db.sql, buildEventRegistry(), { livePollMs: 200 });
    const streamId = reconciliationStreamId(wallet.toBase58());
    const [opening] = await pgStore.readStream(streamId);
    const { opening: _o, ...common } = opening!.payload as BalancesReconciledPayload;
    const sol = { ...common.balances[0]!, ledgerBaseUnits: String(LAMPORTS + 50_000_000n), differenceBaseUnits: '-50000000', beyondTolerance: true };
    await pgStore.append(streamId, [newEvent(BalanceDiscrepancyDetected, { ...common, basisPosition: opening!.position.toString(), beyondTolerance: true, balances: [sol] }, { correlationId: 'crash', causationId: opening!.id, actor: 'engine:reconciliation', tenant: 'default' })], opening!.revision);

    const second = await startApp(env);
    try {
      const engine = foldEngineState(await pgStore.readStream(ENGINE_STREAM_ID), defaultRiskLimits());
      expect(engine.mode).toBe('PAUSED');
      expect(engine.reason).toMatch(new RegExp(`balance discrepancy of wallet ${wallet.toBase58()}.*${SOL_ROW_MINT} is ${LAMPORTS} base units on chain, ${LAMPORTS + 50_000_000n} in the ledger`));
      const [pause] = (await pgStore.readStream(ENGINE_STREAM_ID)).slice(-1);
      expect(pause!.payload).toMatchObject({ cause: 'circuit_breaker', detail: { trigger: 'balance_discrepancy', foundOnStart: 'the pause was not recorded before the engine stopped' } });
      // The start's own run begins from the discrepancy's chain figures: the chain agrees.
      expect((await pgStore.readStream(streamId)).map((e) => e.type)).toEqual(['BalancesReconciled', 'BalanceDiscrepancyDetected', 'BalancesReconciled']);
    } finally {
      await second.close();
    }
  }, 90_000);
});
