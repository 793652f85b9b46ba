// The round trip composed into one v0 transaction and run on the real runtime (litesvm behind the
// Solana RPC stand-in), with the legs' instructions from the Jupiter stand-in through the real
// adapter. DISTORTION (see test/stand-ins/jupiter-server.ts): each leg's pay-in is its
// swapInstruction and its payout, from a pool vault delegated to the trader, its cleanupInstruction.
import { Connection, Keypair, PublicKey, SendTransactionError } from '@solana/web3.js';
import bs58 from 'bs58';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JupiterQuoteSource } from '../../../src/market/jupiter/jupiter-quote-source.js';
import { composeRoundTrip, InFlightAccounts, MAX_TRANSACTION_BYTES, tradeMemo, unitsWithMargin } from '../../../src/execution/solana/round-trip.js';
import { randomUUID } from 'node:crypto';
import { VenueError } from '../../../src/execution/errors.js';
import { startJupiterStandIn, type JupiterStandIn } from '../../stand-ins/jupiter-server.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../../stand-ins/solana-rpc-server.js';

let jup: JupiterStandIn;
let rpc: SolanaRpcStandIn;
let conn: Connection;
const trader = Keypair.generate();
const pool = Keypair.generate().publicKey;
let mintA: PublicKey;
let mintB: PublicKey;
let traderA: PublicKey;
let traderB: PublicKey;
let vaultB: PublicKey;
const START_A = 10_000_000_000n;

beforeAll(async () => {
  [jup, rpc] = await Promise.all([startJupiterStandIn(), startSolanaRpcStandIn()]);
  conn = new Connection(rpc.url, 'confirmed');
  rpc.airdrop(trader.publicKey, 10_000_000_000n);
  mintA = rpc.createMint(9);
  mintB = rpc.createMint(6);
  traderA = rpc.setTokenAccount({ mint: mintA, owner: trader.publicKey, amount: START_A });
  traderB = rpc.setTokenAccount({ mint: mintB, owner: trader.publicKey, amount: 0n });
  const vaultA = rpc.setTokenAccount({ mint: mintA, owner: pool, amount: 1_000_000_000_000n, delegate: trader.publicKey });
  vaultB = rpc.setTokenAccount({ mint: mintB, owner: pool, amount: 1_000_000_000_000n, delegate: trader.publicKey });
  jup.setToken(mintA.toBase58(), { decimals: 9, usd8: 15_000_000_000n });
  jup.setToken(mintB.toBase58(), { decimals: 6, usd8: 100_000_000n });
  jup.setPool(mintA.toBase58(), vaultA.toBase58());
  jup.setPool(mintB.toBase58(), vaultB.toBase58());
});
afterAll(() => Promise.all([jup.close(), rpc.close()]));

const src = () => new JupiterQuoteSource({ basePath: jup.url, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });

/** Leg 1 for the input; leg 2 for leg 1's minimum out (so leg 2 is always funded). */
async function roundTrip(amount: bigint, minProfit: bigint) {
  const s = src();
  const q1 = await s.quote({ inputMint: mintA.toBase58(), outputMint: mintB.toBase58(), amount, slippageBps: 50 });
  const q2 = await s.quote({ inputMint: mintB.toBase58(), outputMint: mintA.toBase58(), amount: q1.otherAmountThreshold, slippageBps: 50 });
  const taker = trader.publicKey.toBase58();
  const legs = [await s.legInstructions({ quoteRaw: q1.raw, taker }), await s.legInstructions({ quoteRaw: q2.raw, taker })] as const;
  const balance = rpc.tokenAmount(traderA);
  const { blockhash } = await conn.getLatestBlockhash();
  const { tx, bytes } = composeRoundTrip({
    payer: trader.publicKey,
    blockhash,
    legs: [legs[0], legs[1]],
    computeUnitLimit: unitsWithMargin(20_000n, 20),
    computeUnitPriceMicroLamports: 1_000n,
    guard: { account: traderA, mint: mintA, decimals: 9, amount: balance + minProfit },
    lookupTables: [],
    memo: tradeMemo(randomUUID()),
  });
  tx.sign([trader]);
  return { tx, bytes, q1, q2, balance };
}

describe('one-transaction round trip with a profit guard', () => {
  it('two trades with the same legs, guard and blockhash are two transactions: the memo after the guard names each', async () => {
    const [a, b] = [await roundTrip(1_000_000_000n, 1n), await roundTrip(1_000_000_000n, 1n)];
    expect(a.tx.message.recentBlockhash).toBe(b.tx.message.recentBlockhash);
    expect(a.balance).toBe(b.balance);
    expect(Buffer.from(a.tx.signatures[0]!).equals(Buffer.from(b.tx.signatures[0]!))).toBe(false);
    const last = (t: typeof a.tx) => t.message.compiledInstructions.at(-1)!;
    expect(a.tx.message.staticAccountKeys[last(a.tx).programIdIndex]!.toBase58()).toBe('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
    expect(Buffer.from(last(a.tx).data).toString('utf8')).toMatch(/^arbiter:[0-9a-f-]{36}$/);
  });

  it('a profitable round trip lands; the input account gains exactly leg 2 out − input, leg 1 surplus stays as inventory', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 100);
    const { tx, bytes, q1, q2, balance } = await roundTrip(1_000_000_000n, 1n);
    expect(bytes).toBeLessThanOrEqual(MAX_TRANSACTION_BYTES);
    const sig = await conn.sendRawTransaction(tx.serialize());
    // The stand-in has no websocket: read the status (a landed transaction is in it at once).
    const status = (await conn.getSignatureStatuses([sig])).value[0];
    expect(status?.err).toBeNull();
    const gain = rpc.tokenAmount(traderA) - balance;
    expect(gain).toBe(q2.outAmount - 1_000_000_000n);
    expect(gain).toBeGreaterThan(0n);
    expect(rpc.tokenAmount(traderB)).toBe(q1.outAmount - q1.otherAmountThreshold);
    const landed = await conn.getTransaction(sig, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' });
    expect(landed?.meta?.err).toBeNull();
  });

  it('an unprofitable one is refused by the guard in preflight (InsufficientFunds); nothing lands, leg 1 undone', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 0);
    const beforeA = rpc.tokenAmount(traderA);
    const beforeB = rpc.tokenAmount(traderB);
    const lamportsBefore = rpc.lamports(trader.publicKey);
    const { tx } = await roundTrip(1_000_000_000n, 1n);
    const e = await conn.sendRawTransaction(tx.serialize()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SendTransactionError);
    // The guard is the last instruction: the round trip has 2 budget + 2 setup + 2×(swap, cleanup) = 8 before it.
    expect((e as SendTransactionError).transactionError.message).toBe('Transaction simulation failed: Error processing Instruction 8: custom program error: 0x1');
    // Nothing landed: no status for its signature, no fee, no balance moved.
    expect((await conn.getSignatureStatuses([bs58.encode(tx.signatures[0]!)])).value[0]).toBeNull();
    expect(rpc.lamports(trader.publicKey)).toBe(lamportsBefore);
    expect(rpc.tokenAmount(traderA)).toBe(beforeA);
    expect(rpc.tokenAmount(traderB)).toBe(beforeB);
  });

  it('the pool moving between quote and send (its vault cannot pay out) is caught by preflight: nothing lands (the landing case: solana-round-trip-venue.test.ts)', async () => {
    jup.setEdgeBps(mintA.toBase58(), mintB.toBase58(), 100);
    const { tx } = await roundTrip(1_000_000_000n, 1n);
    rpc.setTokenAccount({ mint: mintB, owner: pool, amount: 1n, delegate: trader.publicKey }); // drained
    const beforeA = rpc.tokenAmount(traderA);
    const e = await conn.sendRawTransaction(tx.serialize()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SendTransactionError);
    expect(rpc.tokenAmount(traderA)).toBe(beforeA);
    rpc.setTokenAccount({ mint: mintB, owner: pool, amount: 1_000_000_000_000n, delegate: trader.publicKey });
  });

  it('a transaction over 1232 bytes is refused as TRANSACTION_TOO_LARGE (the caller re-quotes with a lower maxAccounts)', () => {
    const wide = (n: number) => ({
      programId: mintA.toBase58(),
      accounts: Array.from({ length: n }, () => ({ pubkey: Keypair.generate().publicKey.toBase58(), isSigner: false, isWritable: false })),
      data: '',
    });
    // Two legs of 25 distinct accounts each and no lookup table: 50 × 32 bytes of keys alone.
    const leg = () => ({ setupInstructions: [], swapInstruction: { ...wide(0), accounts: [{ pubkey: trader.publicKey.toBase58(), isSigner: true, isWritable: true }, ...wide(25).accounts] }, cleanupInstruction: null, otherInstructions: [] });
    const e = (() => {
      try {
        composeRoundTrip({
          payer: trader.publicKey,
          blockhash: Keypair.generate().publicKey.toBase58(),
          legs: [leg(), leg()],
          computeUnitLimit: 200_000,
          computeUnitPriceMicroLamports: 0n,
          guard: { account: traderA, mint: mintA, decimals: 9, amount: 1n },
          lookupTables: [],
          memo: tradeMemo(randomUUID()),
        });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(VenueError);
    expect((e as VenueError).code).toBe('TRANSACTION_TOO_LARGE');
  });

  it('one round trip in flight per input token account', () => {
    const held = new InFlightAccounts();
    held.take('acct', 'opp-1');
    held.take('acct', 'opp-1');
    expect(() => held.take('acct', 'opp-2')).toThrow(VenueError);
    held.release('acct', 'opp-1');
    expect(() => held.take('acct', 'opp-2')).not.toThrow();
  });

  it('units: simulated × margin, capped at the runtime maximum', () => {
    expect(unitsWithMargin(100_000n, 20)).toBe(120_000);
    expect(unitsWithMargin(1_300_000n, 20)).toBe(1_400_000);
  });
});
