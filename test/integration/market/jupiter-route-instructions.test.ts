// Route instructions through the real @jup-ag/api client (v1 POST /swap-instructions) and a plain
// fetch (v2 GET /build) against the Jupiter stand-in. The stand-in's "swap" is a distortion of an
// AMM (pay-in as swapInstruction, payout as cleanupInstruction; see test/stand-ins/jupiter-server.ts).
import { Keypair, PublicKey } from '@solana/web3.js';
import { getAssociatedTokenAddressSync, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarketDataError } from '../../../src/market/errors.js';
import { JupiterBuildSource } from '../../../src/market/jupiter/jupiter-build-source.js';
import { JupiterQuoteSource } from '../../../src/market/jupiter/jupiter-quote-source.js';
import { SOL, USDC } from '../../../src/shared/tokens.js';
import { startJupiterStandIn, type JupiterStandIn } from '../../stand-ins/jupiter-server.js';

const fastRetry = { maxAttempts: 1, baseDelayMs: 5, maxDelayMs: 20 };
let jup: JupiterStandIn;
const taker = Keypair.generate().publicKey;
const solVault = Keypair.generate().publicKey.toBase58();
const usdcVault = Keypair.generate().publicKey.toBase58();
const alt = Keypair.generate().publicKey.toBase58();
// A table holding a pool vault: Jupiter names a table for a leg only when it holds one of its accounts.
const altEntry = solVault;

beforeAll(async () => {
  jup = await startJupiterStandIn();
  jup.setToken(SOL.mint, { decimals: 9, usd8: 15_000_000_000n });
  jup.setToken(USDC.mint, { decimals: 6, usd8: 100_000_000n });
  jup.setPool(SOL.mint, solVault);
  jup.setPool(USDC.mint, usdcVault);
  jup.setLookupTables({ [alt]: [altEntry] });
});
afterAll(() => jup.close());

const req = { inputMint: SOL.mint, outputMint: USDC.mint, amount: 1_000_000_000n, slippageBps: 50 };

describe('Jupiter route instructions', () => {
  it('v1 POST /swap-instructions: the leg as plain instructions for the taker, wrapAndUnwrapSol=false, raw kept', async () => {
    const src = new JupiterQuoteSource({ basePath: jup.url, retry: fastRetry });
    const q = await src.quote(req);
    const leg = await src.legInstructions({ quoteRaw: q.raw, taker: taker.toBase58() });
    const call = jup.requests.find((r) => r.path === '/swap-instructions');
    expect(call?.body).toMatchObject({ userPublicKey: taker.toBase58(), wrapAndUnwrapSol: false });
    expect(leg.api).toBe('v1');
    expect(leg.computeBudgetInstructions).toHaveLength(2);
    expect(leg.swapInstruction.programId).toBe(TOKEN_PROGRAM_ID.toBase58());
    const takerSol = getAssociatedTokenAddressSync(new PublicKey(SOL.mint), taker, true).toBase58();
    expect(leg.swapInstruction.accounts.map((a) => a.pubkey)).toEqual([takerSol, solVault, taker.toBase58()]);
    expect(leg.cleanupInstruction?.accounts[0]?.pubkey).toBe(usdcVault);
    // SPL Token Transfer: tag 3, then the u64 amount: the payout is the quote's outAmount.
    const payout = Buffer.from(leg.cleanupInstruction!.data, 'base64');
    expect(payout[0]).toBe(3);
    expect(payout.readBigUInt64LE(1)).toBe(q.outAmount);
    expect(leg.addressLookupTableAddresses).toEqual([alt]);
    expect(leg.addressesByLookupTableAddress).toBeNull();
    expect((leg.raw as { tokenLedgerInstruction: unknown }).tokenLedgerInstruction).toBeNull();
  });

  it('v2 GET /build: quote and instructions in one call with x-api-key, tables and blockhash from the answer', async () => {
    const src = new JupiterBuildSource({ basePath: jup.url, buildBasePath: jup.url, apiKey: jup.apiKey, retry: fastRetry });
    const q = await src.quote(req);
    const leg = await src.legInstructions({ quoteRaw: q.raw, taker: taker.toBase58(), maxAccounts: 20 });
    const call = jup.requests.filter((r) => r.path === '/build').at(-1);
    expect(call?.query).toMatchObject({ taker: taker.toBase58(), maxAccounts: '20', wrapAndUnwrapSol: 'false', amount: '1000000000' });
    expect(leg.api).toBe('v2');
    expect(leg.addressesByLookupTableAddress).toEqual({ [alt]: [altEntry] });
    expect(leg.blockhash?.lastValidBlockHeight).toBeTypeOf('bigint');
    expect((leg.quoteRaw as { outAmount: string }).outAmount).toBe(q.outAmount.toString());
  });

  it('v2 without a valid key is HTTP 401, a MarketDataError naming the call', async () => {
    const src = new JupiterBuildSource({ basePath: jup.url, buildBasePath: jup.url, apiKey: 'wrong', retry: fastRetry });
    const q = await src.quote(req);
    const e = await src.legInstructions({ quoteRaw: q.raw, taker: taker.toBase58() }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MarketDataError);
    expect((e as MarketDataError).message).toMatch(/GET \/build .*HTTP 401/);
  });

  it('an answer of the wrong shape is MALFORMED_RESPONSE', async () => {
    const src = new JupiterQuoteSource({ basePath: jup.url, retry: fastRetry });
    const q = await src.quote(req);
    jup.fail('wrong-shape', 1);
    const e = await src.legInstructions({ quoteRaw: q.raw, taker: taker.toBase58() }).catch((x: unknown) => x);
    expect((e as MarketDataError).code).toBe('MALFORMED_RESPONSE');
  });
});
