// The Solana venue's round-trip path end to end on the real client libraries: legs from the Jupiter
// stand-in through the real adapter (v1 /swap-instructions, and v2 /build with x-api-key), composed,
// simulated and sent by SolanaVenue against the RPC stand-in (litesvm). Stand-ins, not Solana or
// Jupiter; DISTORTION as in round-trip.test.ts (a leg's payout is its cleanupInstruction), so a
// pool that moved shows on chain as its vault unable to pay the leg out (SPL Token
// InsufficientFunds at that leg's cleanup), where a real AMM route fails with Jupiter's 6001 at
// the leg's swap; the decoding of 6001 is unit-tested (test/unit/execution/transaction-error.test.ts).
import { PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JupiterBuildSource } from '../../../src/market/jupiter/jupiter-build-source.js';
import { JupiterQuoteSource } from '../../../src/market/jupiter/jupiter-quote-source.js';
import type { RouteInstructionsSource } from '../../../src/market/route-instructions.port.js';
import { SolanaVenue } from '../../../src/execution/solana/solana-venue.js';
import { VenueError } from '../../../src/execution/errors.js';
import type { TradeIntent } from '../../../src/execution/venue.port.js';
import { executionEvents, FillFailed, outcomeEvent, submitOutcomeEvent, type FillFailedPayload } from '../../../src/execution/events.js';
import { EventTypeRegistry, newEvent } from '../../../src/ledger/event-types.js';
import { startJupiterStandIn, type JupiterStandIn } from '../../stand-ins/jupiter-server.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../../stand-ins/solana-rpc-server.js';
import { testSigner, type TestSigner } from '../../contract/venue.contract.js';
import { setUpRoundTripMarket } from '../../stand-ins/round-trip-market.js';

let jup: JupiterStandIn;
let rpc: SolanaRpcStandIn;
let signer: TestSigner;
let venue: SolanaVenue;
let pool: PublicKey;
let mintA: PublicKey;
let mintB: PublicKey;
let traderA: PublicKey;
let traderB: PublicKey;
let vaultA: PublicKey;
const POOL_A = 1_000_000_000_000n;
const AMOUNT = 1_000_000_000n;
const retry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };

beforeAll(async () => {
  [jup, rpc] = await Promise.all([startJupiterStandIn(), startSolanaRpcStandIn()]);
  signer = testSigner();
  const trader = new PublicKey(signer.publicKey);
  ({ pool, mintA, mintB, traderA, traderB, vaultA } = setUpRoundTripMarket(jup, rpc, trader, { edgeBps: 0, vault: POOL_A }));
  venue = new SolanaVenue({ rpcUrl: rpc.url, priorityFeeMicroLamports: 1_000n, computeUnitLimit: 200_000, pollIntervalMs: 5, computeUnitMarginPct: 20 });
});
afterAll(() => Promise.all([jup.close(), rpc.close()]));

const v1 = () => new JupiterQuoteSource({ basePath: jup.url, retry });

/** Leg 1 A → B for the amount; leg 2 B → A for leg 1's minimum out; both legs' instructions for the signer. */
async function intent(opportunityId: string, minProfit: bigint, routes: RouteInstructionsSource = v1()): Promise<TradeIntent> {
  const q = v1();
  const q1 = await q.quote({ inputMint: mintA.toBase58(), outputMint: mintB.toBase58(), amount: AMOUNT, slippageBps: 50 });
  const q2 = await q.quote({ inputMint: mintB.toBase58(), outputMint: mintA.toBase58(), amount: q1.otherAmountThreshold, slippageBps: 50 });
  const taker = new PublicKey(signer.publicKey).toBase58();
  const legs = [await routes.legInstructions({ quoteRaw: q1.raw, taker }), await routes.legInstructions({ quoteRaw: q2.raw, taker })] as const;
  return {
    opportunityId,
    inputMint: mintA.toBase58(),
    outputMint: mintA.toBase58(),
    inAmount: AMOUNT,
    expectedOut: q2.outAmount,
    roundTrip: { legs: [legs[0], legs[1]], minProfitBaseUnits: minProfit },
  };
}

describe('SolanaVenue: a round trip as one simulated, guarded v0 transaction', () => {
  it('a profitable round trip lands; realised PnL is the input account’s balance change, read from the chain', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 100);
    const before = rpc.tokenAmount(traderA);
    const beforeB = rpc.tokenAmount(traderB);
    const p = await venue.prepare(await intent('rt-profit', 1n), signer.publicKey);
    const rt = p.roundTrip!;
    expect(rt.balanceAtPrepareBaseUnits).toBe(before);
    expect(rt.guardAmountBaseUnits).toBe(before + 1n);
    expect(rt.guardAccount).toBe(traderA.toBase58());
    expect(rt.simulatedUnits).toBeGreaterThan(0n);
    expect(BigInt(rt.computeUnitLimit)).toBe((rt.simulatedUnits * 120n + 99n) / 100n);
    expect(rt.serializedBytes).toBeLessThanOrEqual(1232);
    expect(rt.legs.map((l) => l.api)).toEqual(['v1', 'v1']);
    const sent = await venue.submit(p, signer.sign(p.messageBytes));
    expect(sent.status).toBe('submitted');
    const out = await venue.confirm({ ...p, signature: (sent as { signature: string }).signature });
    expect(out.status).toBe('confirmed');
    const gain = rpc.tokenAmount(traderA) - before;
    expect(gain).toBeGreaterThan(0n);
    if (out.status !== 'confirmed') return;
    expect(out.realisedPnl).toBe(gain);
    expect(out.amountIn).toBe(AMOUNT);
    expect(out.amountOut).toBe(AMOUNT + gain);
    // Leg 1 delivered more than leg 2 spent (its minimum out): the rest is inventory of B.
    expect(rpc.tokenAmount(traderB)).toBeGreaterThan(beforeB);
  });

  it('v2 /build legs (x-api-key, tables from the answer) compose and land the same way', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 100);
    const before = rpc.tokenAmount(traderA);
    const v2 = new JupiterBuildSource({ basePath: jup.url, buildBasePath: jup.url, apiKey: jup.apiKey, retry });
    const p = await venue.prepare(await intent('rt-v2', 1n, v2), signer.publicKey);
    expect(p.roundTrip!.legs.map((l) => l.api)).toEqual(['v2', 'v2']);
    const sent = await venue.submit(p, signer.sign(p.messageBytes));
    const out = await venue.confirm({ ...p, signature: (sent as { signature: string }).signature });
    expect(out.status).toBe('confirmed');
    expect(out.status === 'confirmed' && out.realisedPnl).toBe(rpc.tokenAmount(traderA) - before);
  });

  it('an unprofitable round trip fails its simulation at the guard: SIMULATION_FAILED, nothing signed or sent', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 0);
    const sends = rpc.calls.get('sendTransaction') ?? 0;
    const before = rpc.tokenAmount(traderA);
    const lamportsBefore = rpc.lamports(new PublicKey(signer.publicKey));
    const e = await venue.prepare(await intent('rt-loss', 1n), signer.publicKey).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VenueError);
    expect((e as VenueError).code).toBe('SIMULATION_FAILED');
    expect((e as VenueError).retryable).toBe(false);
    expect((e as Error).message).toMatch(/the profit guard \(instruction 8, SPL Token\) failed: InsufficientFunds/);
    // Nothing was sent: no sendTransaction reached the node, no fee was charged, no balance moved.
    expect(rpc.calls.get('sendTransaction') ?? 0).toBe(sends);
    expect(rpc.lamports(new PublicKey(signer.publicKey))).toBe(lamportsBefore);
    expect(rpc.tokenAmount(traderA)).toBe(before);
  });

  const registry = new EventTypeRegistry(false).register(...executionEvents);
  const meta = { correlationId: 'c', causationId: null, actor: 'engine', tenant: 'default' };

  it('the pool moves after preflight (its vault can no longer pay leg 2 out): the transaction lands failed, reverts atomically (leg 1 undone), FillFailed names leg 2 and the fee', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 100);
    const payer = new PublicKey(signer.publicKey);
    const before = { a: rpc.tokenAmount(traderA), b: rpc.tokenAmount(traderB), lamports: rpc.lamports(payer) };
    const p = await venue.prepare(await intent('rt-moved', 1n), signer.publicKey);
    // Preflight passes on the pool as quoted; then another trade drains the vault that pays leg 2 out.
    rpc.beforeNextLanding = () => rpc.setTokenAccount({ mint: mintA, owner: pool, amount: 1n, delegate: payer });
    const sent = await venue.submit(p, signer.sign(p.messageBytes));
    expect(sent.status).toBe('submitted');
    const out = await venue.confirm({ ...p, signature: (sent as { signature: string }).signature });
    rpc.setTokenAccount({ mint: mintA, owner: pool, amount: POOL_A, delegate: payer });
    expect(out.status).toBe('failed');
    if (out.status !== 'failed') return;
    // Leg 1 had paid in A and been paid B, leg 2 had paid B in: all of it undone, only the fee left.
    expect(rpc.tokenAmount(traderA)).toBe(before.a);
    expect(rpc.tokenAmount(traderB)).toBe(before.b);
    expect(out.fee).toBeGreaterThan(0n);
    expect(before.lamports - rpc.lamports(payer)).toBe(out.fee!);
    expect(out.failure).toMatchObject({ stage: 'on-chain', instructionIndex: 7, part: 'leg-2', group: 'cleanup', program: 'SPL Token', code: 1, error: 'InsufficientFunds', transactionError: { InstructionError: [7, { Custom: 1 }] } });
    const { event, payload } = outcomeEvent({ ...p, signature: out.signature }, out, '2026-01-31T12:00:00.000Z');
    expect(event).toBe(FillFailed);
    const f = payload as FillFailedPayload;
    expect(f.feeLamports).toBe(out.fee!.toString());
    expect(f.slot).toBe(out.slot!.toString());
    expect(f.reason).toMatch(/^leg 2 cleanup \(instruction 7, SPL Token\) failed: InsufficientFunds \(custom program error 0x1\)/);
    expect(f.failure).toMatchObject({ part: 'leg-2', group: 'cleanup', error: 'InsufficientFunds' });
    registry.validate(newEvent(FillFailed, JSON.parse(JSON.stringify(payload)), meta));
    // The hold on the input account is released: the next round trip prepares.
    const next = await venue.prepare(await intent('rt-after-moved', 1n), signer.publicKey);
    venue.inFlight.releaseAll(next.opportunityId);
  });

  it('the input account loses balance after preflight: the guard refuses on chain (SPL Token InsufficientFunds at the guard), FillFailed with the fee', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 100);
    const payer = new PublicKey(signer.publicKey);
    // A minimum profit of 2 (not 1): the same legs, balance and blockhash as the failed round trip
    // before would give the very same bytes, one signature, which the chain has processed already.
    const p = await venue.prepare(await intent('rt-guard', 2n), signer.publicKey);
    const drained = rpc.tokenAmount(traderA) - 100_000_000n; // more than the round trip's profit
    rpc.beforeNextLanding = () => rpc.setTokenAccount({ mint: mintA, owner: payer, amount: drained });
    const lamportsBefore = rpc.lamports(payer);
    const sent = await venue.submit(p, signer.sign(p.messageBytes));
    expect(sent.status).toBe('submitted');
    const out = await venue.confirm({ ...p, signature: (sent as { signature: string }).signature });
    expect(out.status).toBe('failed');
    if (out.status !== 'failed') return;
    expect(rpc.tokenAmount(traderA)).toBe(drained);
    expect(lamportsBefore - rpc.lamports(payer)).toBe(out.fee!);
    expect(out.failure).toMatchObject({ instructionIndex: 8, part: 'guard', group: null, program: 'SPL Token', code: 1, error: 'InsufficientFunds' });
    expect(out.reason).toMatch(/profit did not arrive/);
    const { payload } = outcomeEvent({ ...p, signature: out.signature }, out);
    expect(payload).toMatchObject({ feeLamports: out.fee!.toString(), failure: { part: 'guard' } });
    registry.validate(newEvent(FillFailed, JSON.parse(JSON.stringify(payload)), meta));
  });

  it('a leg that fails in preflight is refused before it lands: FillFailed names the part, with no fee (nothing landed)', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 100);
    const payer = new PublicKey(signer.publicKey);
    const p = await venue.prepare(await intent('rt-preflight', 3n), signer.publicKey);
    // Moved between prepare's simulation and the send: the node's preflight sees it.
    rpc.setTokenAccount({ mint: mintA, owner: pool, amount: 1n, delegate: payer });
    const lamportsBefore = rpc.lamports(payer);
    const sent = await venue.submit(p, signer.sign(p.messageBytes));
    rpc.setTokenAccount({ mint: mintA, owner: pool, amount: POOL_A, delegate: payer });
    expect(sent.status).toBe('failed');
    if (sent.status !== 'failed') return;
    expect(sent.failure).toMatchObject({ stage: 'preflight', instructionIndex: 7, part: 'leg-2', group: 'cleanup', program: 'SPL Token', error: 'InsufficientFunds' });
    expect(sent.reason).toMatch(/^refused by preflight \(never landed, no fee\): leg 2 cleanup/);
    expect(rpc.lamports(payer)).toBe(lamportsBefore);
    const { event, payload } = submitOutcomeEvent(p, sent)!;
    expect(event).toBe(FillFailed);
    expect('feeLamports' in payload).toBe(false);
    registry.validate(newEvent(FillFailed, JSON.parse(JSON.stringify(payload)), meta));
  });

  it('one round trip in flight per input token account: a second is ACCOUNT_BUSY (retryable) until the first has its outcome', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 100);
    const first = await venue.prepare(await intent('rt-first', 1n), signer.publicKey);
    const e = await venue.prepare(await intent('rt-second', 1n), signer.publicKey).catch((x: unknown) => x);
    expect((e as VenueError).code).toBe('ACCOUNT_BUSY');
    expect((e as VenueError).retryable).toBe(true);
    const sent = await venue.submit(first, signer.sign(first.messageBytes));
    await venue.confirm({ ...first, signature: (sent as { signature: string }).signature });
    const second = await venue.prepare(await intent('rt-second', 1n), signer.publicKey);
    expect(second.roundTrip!.balanceAtPrepareBaseUnits).toBe(rpc.tokenAmount(traderA));
  });
});

describe('SolanaVenue: inventory from the chain, and its sale as a single-leg swap', () => {
  it('confirm() reads what the round trip left of its intermediate from the confirmed balances (static and loaded keys)', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 100);
    venue.inFlight.releaseAll('rt-second'); // prepared above and never sent: it never lands
    const beforeB = rpc.tokenAmount(traderB);
    const i = await intent('rt-inventory', 1n);
    const p = await venue.prepare(i, signer.publicKey);
    const sent = await venue.submit(p, signer.sign(p.messageBytes));
    const out = await venue.confirm({ ...p, signature: (sent as { signature: string }).signature, intermediateMint: mintB.toBase58() });
    expect(out.status).toBe('confirmed');
    const left = rpc.tokenAmount(traderB) - beforeB;
    expect(left).toBeGreaterThan(0n);
    expect(out.status === 'confirmed' && out.intermediateChangeBaseUnits).toBe(left);
  });

  it('a single-leg Jupiter swap B → A (an inventory sale) is composed, simulated, sent once and read back from the balances', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 0);
    const heldB = rpc.tokenAmount(traderB);
    expect(heldB).toBeGreaterThan(0n);
    const beforeA = rpc.tokenAmount(traderA);
    const q = await v1().quote({ inputMint: mintB.toBase58(), outputMint: mintA.toBase58(), amount: heldB, slippageBps: 50 });
    const swap = await v1().legInstructions({ quoteRaw: q.raw, taker: new PublicKey(signer.publicKey).toBase58() });
    const sends = rpc.calls.get('sendTransaction') ?? 0;
    const p = await venue.prepare({ opportunityId: 'sale-1', inputMint: mintB.toBase58(), outputMint: mintA.toBase58(), inAmount: heldB, expectedOut: q.outAmount, swap }, signer.publicKey);
    expect(p.roundTrip).toBeUndefined();
    const sent = await venue.submit(p, signer.sign(p.messageBytes));
    expect(sent.status).toBe('submitted');
    expect(rpc.calls.get('sendTransaction')).toBe(sends + 1);
    const out = await venue.confirm({ ...p, signature: (sent as { signature: string }).signature });
    expect(out.status).toBe('confirmed');
    if (out.status !== 'confirmed') return;
    expect(rpc.tokenAmount(traderB)).toBe(0n);
    expect(out.amountIn).toBe(heldB);
    expect(out.amountOut).toBe(rpc.tokenAmount(traderA) - beforeA);
    expect(out.amountOut).toBeGreaterThan(0n);
    expect(out.realisedPnl).toBeNull();
  });

  it('a single leg of one mint to itself is refused before anything is built', async () => {
    const q = await v1().quote({ inputMint: mintB.toBase58(), outputMint: mintA.toBase58(), amount: 1_000n, slippageBps: 50 });
    const swap = await v1().legInstructions({ quoteRaw: q.raw, taker: new PublicKey(signer.publicKey).toBase58() });
    const e = await venue.prepare({ opportunityId: 'sale-bad', inputMint: mintA.toBase58(), outputMint: mintA.toBase58(), inAmount: 1_000n, expectedOut: 1n, swap }, signer.publicKey).catch((x: unknown) => x);
    expect((e as VenueError).code).toBe('INVALID_REQUEST');
  });
});
