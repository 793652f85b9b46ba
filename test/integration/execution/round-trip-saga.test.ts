// The saga's sign path for VENUE=solana with route instructions: the handler quotes leg 2 for
// leg 1's minimum out, asks the route port (the real Jupiter adapter against the Jupiter stand-in)
// for both legs with the signer as taker, and the venue (real SolanaVenue against the litesvm RPC
// stand-in) composes, simulates and guards ONE transaction. And the app wires the port in.
import { PublicKey } from '@solana/web3.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdvanceArbitrageHandler } from '../../../src/trading/arbitrage.handlers.js';
import { JupiterQuoteSource } from '../../../src/market/jupiter/jupiter-quote-source.js';
import { JupiterBuildSource } from '../../../src/market/jupiter/jupiter-build-source.js';
import type { PreparedTransaction } from '../../../src/execution/venue.port.js';
import { MAX_ACCOUNTS_STEPS } from '../../../src/trading/round-trip-legs.js';
import { roundTripQuote } from '../../../src/market/quote-source.port.js';
import { SolanaVenue } from '../../../src/execution/solana/solana-venue.js';
import { initialEngineState } from '../../../src/risk/engine-state.js';
import { defaultRiskLimits } from '../../../src/risk/limits.js';
import { startHermesStandIn } from '../../stand-ins/hermes-server.js';
import { startJupiterStandIn, type JupiterStandIn } from '../../stand-ins/jupiter-server.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../../stand-ins/solana-rpc-server.js';
import { testSigner, type TestSigner } from '../../contract/venue.contract.js';
import { setUpRoundTripMarket } from '../../stand-ins/round-trip-market.js';
import { startApp } from '../../support/app.js';

let jup: JupiterStandIn;
let rpc: SolanaRpcStandIn;
let signer: TestSigner;
let mintA: PublicKey;
let mintB: PublicKey;
let traderA: PublicKey;
const retry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };

beforeAll(async () => {
  [jup, rpc] = await Promise.all([startJupiterStandIn(), startSolanaRpcStandIn()]);
  signer = testSigner();
  const trader = new PublicKey(signer.publicKey);
  ({ mintA, mintB, traderA } = setUpRoundTripMarket(jup, rpc, trader, { edgeBps: 100 }));
});
afterAll(() => Promise.all([jup.close(), rpc.close()]));

describe('the saga composes round trips on the Solana venue', () => {
  it('prepare: legs for the signer, leg 2 quoted for leg 1’s minimum out, one guarded transaction with the risk limit’s minimum profit', async () => {
    const jupiter = new JupiterQuoteSource({ basePath: jup.url, retry });
    const venue = new SolanaVenue({ rpcUrl: rpc.url, priorityFeeMicroLamports: 1_000n, computeUnitLimit: 200_000, pollIntervalMs: 5 });
    const engine = initialEngineState(defaultRiskLimits());
    const minProfit = engine.limits.minProfitBaseUnits;
    const none = undefined as never;
    const handler = new AdvanceArbitrageHandler(none, none, jupiter, jupiter, none, none, venue, none, { current: () => engine } as never, none, none, none);
    const quote = await roundTripQuote(jupiter, { mintA: mintA.toBase58(), mintB: mintB.toBase58(), amount: 1_000_000_000n, slippageBps: 50, nextLegSpends: 'minimumOut' });
    expect(quote.legs[1]!.inAmount).toBe(quote.legs[0]!.otherAmountThreshold);
    const s = { opportunityId: 'saga-rt-1', quote: { legs: quote.legs.map((l) => ({ raw: l.raw })) } };
    const intent = { opportunityId: 'saga-rt-1', inputMint: mintA.toBase58(), outputMint: mintA.toBase58(), inAmount: 1_000_000_000n, expectedOut: quote.legs[1]!.outAmount };
    const prepared = await (handler as unknown as { prepareRoundTrip(i: unknown, s: unknown, p: Uint8Array): Promise<import('../../../src/execution/venue.port.js').PreparedTransaction> }).prepareRoundTrip(intent, s, signer.publicKey);
    expect(prepared.roundTrip).toMatchObject({ guardAccount: traderA.toBase58(), minProfitBaseUnits: minProfit, guardAmountBaseUnits: rpc.tokenAmount(traderA) + minProfit });
    expect(prepared.roundTrip!.legs).toHaveLength(2);
    const before = rpc.tokenAmount(traderA);
    const sent = await venue.submit(prepared, signer.sign(prepared.messageBytes));
    const out = await venue.confirm({ ...prepared, signature: (sent as { signature: string }).signature });
    expect(out.status === 'confirmed' && out.realisedPnl).toBe(rpc.tokenAmount(traderA) - before);
    expect(rpc.tokenAmount(traderA) - before).toBeGreaterThan(0n);
  });

  it('an oversize round trip (Swap API v2) is built again with a lower maxAccounts until it fits, and then lands', async () => {
    // Each leg's route carries 20 pool accounts (static keys: the stand-in has no lookup tables):
    // unbounded and at maxAccounts 40 the round trip is over 1232 bytes; at 28 the stand-in keeps 8.
    jup.setRouteAccounts(20);
    try {
      const v2 = new JupiterBuildSource({ basePath: jup.url, buildBasePath: jup.url, apiKey: jup.apiKey, retry });
      const venue = new SolanaVenue({ rpcUrl: rpc.url, priorityFeeMicroLamports: 1_000n, computeUnitLimit: 200_000, pollIntervalMs: 5 });
      const engine = initialEngineState(defaultRiskLimits());
      const none = undefined as never;
      const handler = new AdvanceArbitrageHandler(none, none, v2, v2, none, none, venue, none, { current: () => engine } as never, none, none, none);
      const quote = await roundTripQuote(v2, { mintA: mintA.toBase58(), mintB: mintB.toBase58(), amount: 1_000_000_000n, slippageBps: 50, nextLegSpends: 'minimumOut' });
      const s = { opportunityId: 'saga-rt-oversize', quote: { legs: quote.legs.map((l) => ({ raw: l.raw })) } };
      const intent = { opportunityId: 'saga-rt-oversize', inputMint: mintA.toBase58(), outputMint: mintA.toBase58(), inAmount: 1_000_000_000n, expectedOut: quote.legs[1]!.outAmount };
      const seen = jup.requests.length;
      const prepared = await (handler as unknown as { prepareRoundTrip(i: unknown, s: unknown, p: Uint8Array): Promise<PreparedTransaction> }).prepareRoundTrip(intent, s, signer.publicKey);
      // Both legs built at each step of MAX_ACCOUNTS_STEPS.v2 until one fitted: unbounded, 40, 28.
      const builds = jup.requests.slice(seen).filter((r) => r.path === '/build').map((r) => r.query.maxAccounts ?? 'none');
      expect(MAX_ACCOUNTS_STEPS.v2.slice(0, 3)).toEqual([undefined, 40, 28]);
      expect(builds).toEqual(['none', 'none', '40', '40', '28', '28']);
      const rt = prepared.roundTrip!;
      expect(rt.serializedBytes).toBeLessThanOrEqual(1232);
      expect(rt.legs.map((l) => l.api)).toEqual(['v2', 'v2']);
      // The legs recorded are the ones that fitted: 3 transfer accounts + 8 route accounts each.
      expect(rt.legs.map((l) => (l.raw as { swapInstruction: { accounts: unknown[] } }).swapInstruction.accounts.length)).toEqual([11, 11]);
      const before = rpc.tokenAmount(traderA);
      const sent = await venue.submit(prepared, signer.sign(prepared.messageBytes));
      expect(sent.status).toBe('submitted');
      const out = await venue.confirm({ ...prepared, signature: (sent as { signature: string }).signature });
      expect(out.status).toBe('confirmed');
      expect(out.status === 'confirmed' && out.realisedPnl).toBe(rpc.tokenAmount(traderA) - before);
      expect(rpc.tokenAmount(traderA) - before).toBeGreaterThan(0n);
    } finally {
      jup.setRouteAccounts(0);
    }
  });

  it('the app injects the route-instructions port into the saga: MARKET=live VENUE=solana uses Jupiter v1 (keyless) route instructions', async () => {
    const hermes = await startHermesStandIn();
    const base = {
      ARBITER_DATA_DIR: mkdtempSync(join(tmpdir(), 'arbiter-rt-wiring-')),
      DATABASE_URL: undefined,
      MARKET: 'live',
      VENUE: 'solana',
      SOLANA_RPC_URL: rpc.url,
      JUPITER_URL: jup.url,
      HERMES_URL: hermes.url,
    };
    const app = await startApp(base);
    try {
      const handler = app.app.get(AdvanceArbitrageHandler);
      expect((handler as unknown as { routes: { api: string } }).routes.api).toBe('v1');
    } finally {
      await app.close();
      await hermes.close();
    }
  }, 60_000);
});
