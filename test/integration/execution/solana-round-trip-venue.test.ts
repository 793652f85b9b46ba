// The Solana venue's round-trip path end to end on the real client libraries: legs from the Jupiter
// stand-in through the real adapter (v1 /swap-instructions, and v2 /build with x-api-key), composed,
// simulated and sent by SolanaVenue against the RPC stand-in (litesvm). Stand-ins, not Solana or
// Jupiter; DISTORTION as in round-trip.test.ts (a leg's payout is its cleanupInstruction).
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JupiterBuildSource } from '../../../src/market/jupiter/jupiter-build-source.js';
import { JupiterQuoteSource } from '../../../src/market/jupiter/jupiter-quote-source.js';
import type { RouteInstructionsSource } from '../../../src/market/route-instructions.port.js';
import { SolanaVenue } from '../../../src/execution/solana/solana-venue.js';
import { VenueError } from '../../../src/execution/errors.js';
import type { TradeIntent } from '../../../src/execution/venue.port.js';
import { startJupiterStandIn, type JupiterStandIn } from '../../stand-ins/jupiter-server.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../../stand-ins/solana-rpc-server.js';
import { testSigner, type TestSigner } from '../../contract/venue.contract.js';

let jup: JupiterStandIn;
let rpc: SolanaRpcStandIn;
let signer: TestSigner;
let venue: SolanaVenue;
const pool = Keypair.generate().publicKey;
let mintA: PublicKey;
let mintB: PublicKey;
let traderA: PublicKey;
let traderB: PublicKey;
const AMOUNT = 1_000_000_000n;
const retry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };

beforeAll(async () => {
  [jup, rpc] = await Promise.all([startJupiterStandIn(), startSolanaRpcStandIn()]);
  signer = testSigner();
  const trader = new PublicKey(signer.publicKey);
  rpc.airdrop(trader, 10_000_000_000n);
  mintA = rpc.createMint(9);
  mintB = rpc.createMint(6);
  traderA = rpc.setTokenAccount({ mint: mintA, owner: trader, amount: 10_000_000_000n });
  traderB = rpc.setTokenAccount({ mint: mintB, owner: trader, amount: 0n });
  const vaultA = rpc.setTokenAccount({ mint: mintA, owner: pool, amount: 1_000_000_000_000n, delegate: trader });
  const vaultB = rpc.setTokenAccount({ mint: mintB, owner: pool, amount: 1_000_000_000_000n, delegate: trader });
  jup.setToken(mintA.toBase58(), { decimals: 9, usd8: 15_000_000_000n });
  jup.setToken(mintB.toBase58(), { decimals: 6, usd8: 100_000_000n });
  jup.setPool(mintA.toBase58(), vaultA.toBase58());
  jup.setPool(mintB.toBase58(), vaultB.toBase58());
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
    const e = await venue.prepare(await intent('rt-loss', 1n), signer.publicKey).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VenueError);
    expect((e as VenueError).code).toBe('SIMULATION_FAILED');
    expect((e as VenueError).retryable).toBe(false);
    expect((e as Error).message).toMatch(/instruction 8/);
    expect(rpc.calls.get('sendTransaction') ?? 0).toBe(sends);
    expect(rpc.tokenAmount(traderA)).toBe(before);
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
