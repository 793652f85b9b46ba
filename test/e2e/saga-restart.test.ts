// Kill-and-restart in the middle of a saga, on real PostgreSQL with the real Solana adapter
// (web3.js) against an in-process SVM (litesvm behind a local JSON-RPC stand-in). The first app
// instance is stopped at a step boundary that a crash can leave behind; a second instance on the
// same database must finish every saga, and no transaction may be sent or land twice.
import { PublicKey } from '@solana/web3.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedFromPayload } from '../../src/execution/events.js';
import { SolanaVenue } from '../../src/execution/solana/solana-venue.js';
import { EVENT_STORE, type EventStore } from '../../src/ledger/event-store.port.js';
import { ENGINE_STATE, type EngineStateView } from '../../src/risk/engine-state.port.js';
import { OPPORTUNITY_SOURCE } from '../../src/market/opportunity-source.port.js';
import type { SimulatedMarket } from '../../src/market/simulated/simulated-market.js';
import { USDC } from '../../src/shared/tokens.js';
import bs58 from 'bs58';
import { SIGNER, type Signer } from '../../src/signing/signer.port.js';
import { ArbitrageSagaService } from '../../src/trading/arbitrage-saga.service.js';
import { AdvanceArbitrage, DetectOpportunity } from '../../src/trading/commands.js';
import { sagaStreamId } from '../../src/trading/events.js';
import type { SagaState, SignedSaga } from '../../src/trading/saga.js';
import { CommandBus } from '@nestjs/cqrs';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startApp } from '../support/app.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../stand-ins/solana-rpc-server.js';

describe('saga crash recovery with the Solana venue', () => {
  let db: TestDatabase;
  let rpc: SolanaRpcStandIn;
  let dataDir: string;
  const env = () => ({
    DATABASE_URL: db.url,
    ARBITER_DATA_DIR: dataDir,
    VENUE: 'solana',
    SOLANA_RPC_URL: rpc.url,
    SOLANA_CONFIRM_POLL_MS: '20',
    SIM_SEED: '11',
    ENGINE_MAX_SAGA_AGE_MS: '600000',
    // The test funds the wallet behind the engine's back after its first start (and sends one
    // transaction itself): reconciliation would rightly call that a discrepancy and pause.
    RECONCILE_INTERVAL_SECONDS: '0',
  });

  beforeAll(async () => {
    db = await freshDatabase();
    rpc = await startSolanaRpcStandIn();
    dataDir = mkdtempSync(join(tmpdir(), 'arbiter-restart-'));
  });
  afterAll(async () => {
    await rpc?.close();
    await db?.drop();
  });

  /** Advances fresh opportunities step by step until `count` sagas stand signed (not yet sent). */
  async function signedSagas(app: Awaited<ReturnType<typeof startApp>>, count: number): Promise<SignedSaga[]> {
    const bus = app.app.get(CommandBus);
    const market = app.app.get<SimulatedMarket>(OPPORTUNITY_SOURCE);
    const out: SignedSaga[] = [];
    for (let tries = 0; out.length < count && tries < 80; tries++) {
      const c = market.next();
      let s = await bus.execute<DetectOpportunity, SagaState>(new DetectOpportunity(c));
      while (s.phase !== 'finished' && s.phase !== 'signed') s = await bus.execute<AdvanceArbitrage, SagaState>(new AdvanceArbitrage(c.opportunityId));
      if (s.phase === 'signed') out.push(s);
    }
    expect(out).toHaveLength(count);
    return out;
  }

  it('resumes signed-but-unsent and sent-but-unrecorded sagas exactly once', async () => {
    const first = await startApp(env());
    const signer = first.app.get<Signer>(SIGNER);
    const owner = new PublicKey(await signer.publicKeyBase58());
    rpc.airdrop(owner, 1_000_000_000_000n);
    rpc.createMint(USDC.decimals, new PublicKey(USDC.mint));
    rpc.setTokenAccount({ mint: new PublicKey(USDC.mint), owner, amount: 10_000_000_000_000n });

    const [unsent, sentUnrecorded] = await signedSagas(first, 2);
    // The second saga's transaction reaches the chain, then the process dies before recording it.
    const venue = new SolanaVenue({ rpcUrl: rpc.url, priorityFeeMicroLamports: 1000n, computeUnitLimit: 200_000, pollIntervalMs: 20 });
    const sent = await venue.submit(preparedFromPayload(sentUnrecorded.prepared), bs58.decode(sentUnrecorded.signed.signature));
    expect(sent.status).toBe('submitted');
    await first.close();

    const sendsBefore = rpc.calls.get('sendTransaction') ?? 0;
    const lamportsBefore = rpc.lamports(owner);
    const second = await startApp(env()); // recovery runs at start
    try {
      const store = second.app.get<EventStore>(EVENT_STORE);
      for (const s of [unsent, sentUnrecorded]) {
        const events = await store.readStream(sagaStreamId(s.opportunityId));
        const types = events.map((e) => e.type);
        expect(types.filter((t) => t === 'TransactionSigned')).toHaveLength(1);
        expect(types.filter((t) => t === 'TransactionSubmitted')).toHaveLength(1);
        expect(types[types.length - 1]).toBe('FillConfirmed');
        const fill = events[events.length - 1].payload as { signature: string };
        expect(fill.signature).toBe(s.signed!.signature);
      }
      // Only the unsent one was sent by the new process; the other was found on chain.
      expect((rpc.calls.get('sendTransaction') ?? 0) - sendsBefore).toBe(1);
      // Each transaction paid its fee once: one fee for the unsent saga's transaction now.
      const fees = lamportsBefore - rpc.lamports(owner);
      // (The fallback route transaction is a self-transfer, so only the fee leaves the account.)
      const unsentFill = (await store.readStream(sagaStreamId(unsent.opportunityId))).at(-1)!.payload as { feeLamports: string };
      expect(fees).toBe(BigInt(unsentFill.feeLamports));

      // Running recovery again finds nothing left to do.
      expect(await second.app.get(ArbitrageSagaService).recoverUnfinished()).toBe(0);
    } finally {
      await second.close();
    }
  });

  it('abandons as stale, without tripping the circuit breaker, signed sagas whose transactions expired while it was down', async () => {
    const breaker = { RISK_CIRCUIT_BREAKER_CONSECUTIVE_FAILED_FILLS: '2' };
    const first = await startApp({ ...env(), ...breaker });
    const signed = await signedSagas(first, 3);
    await first.close();
    // The engine is down long enough for every blockhash it signed with to expire.
    rpc.advanceBlocks(400);
    const sendsBefore = rpc.calls.get('sendTransaction') ?? 0;
    const second = await startApp({ ...env(), ...breaker }); // recovery runs at start
    try {
      const store = second.app.get<EventStore>(EVENT_STORE);
      for (const s of signed) {
        const types = (await store.readStream(sagaStreamId(s.opportunityId))).map((e) => e.type);
        expect(types.at(-1), `saga ${s.opportunityId}: ${types.join(', ')}`).toBe('OpportunityAbandoned');
        expect(types).not.toContain('FillFailed');
        expect(types).not.toContain('TransactionExpired');
        expect(types).not.toContain('TransactionSubmitted');
      }
      expect((rpc.calls.get('sendTransaction') ?? 0) - sendsBefore, 'an expired transaction is never sent').toBe(0);
      // Three closed sagas against a threshold of two failed fills: the breaker did not trip (it
      // trips while folding a FillFailed or TransactionExpired, and the log holds none).
      const engine = second.app.get<EngineStateView>(ENGINE_STATE);
      expect(await store.readAll({ after: 0n, filter: { eventTypes: ['FillFailed', 'TransactionExpired'] } })).toEqual([]);
      expect(engine.current().mode).toBe('ACTIVE');
      expect(engine.current().consecutiveFailedFills).toBe(0);
      expect(await store.readAll({ after: 0n, filter: { eventTypes: ['EnginePaused'] } })).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it('closes a saga that was detected but not yet signed when it is too old to go on', async () => {
    const first = await startApp(env());
    const c = first.app.get<SimulatedMarket>(OPPORTUNITY_SOURCE).next();
    await first.app.get(CommandBus).execute(new DetectOpportunity(c));
    await first.close();
    await new Promise((r) => setTimeout(r, 300));
    const second = await startApp({ ...env(), ENGINE_MAX_SAGA_AGE_MS: '200' });
    try {
      const events = await second.app.get<EventStore>(EVENT_STORE).readStream(sagaStreamId(c.opportunityId));
      expect(events.map((e) => e.type)).toEqual(['OpportunityDetected', 'OpportunityAbandoned']);
      expect(events[1].payload).toMatchObject({ step: 'quote', reason: expect.stringMatching(/resumed after a restart/) });
    } finally {
      await second.close();
    }
  });
});
