// Address lookup tables end to end on the real runtime: real tables made by the Address Lookup
// Table program inside litesvm (through the RPC stand-in), named by the Jupiter stand-in for the
// legs whose pool accounts they hold, fetched by SolanaVenue with getMultipleAccounts and cached
// (v1) or taken from the answer (v2), resolved by litesvm, and the fill read back from
// getTransaction's balances over static AND loaded keys. Stand-ins, not Solana or Jupiter;
// DISTORTION as in round-trip.test.ts (a leg's payout is its cleanupInstruction).
import { AddressLookupTableProgram, Connection, Keypair, PublicKey, VersionedTransaction, type AddressLookupTableAccount } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JupiterBuildSource } from '../../../src/market/jupiter/jupiter-build-source.js';
import { JupiterQuoteSource } from '../../../src/market/jupiter/jupiter-quote-source.js';
import type { RouteInstructionsSource } from '../../../src/market/route-instructions.port.js';
import { composeRoundTrip, MAX_TRANSACTION_BYTES, tradeMemo } from '../../../src/execution/solana/round-trip.js';
import { balanceRecord, SolanaVenue } from '../../../src/execution/solana/solana-venue.js';
import { ownerDelta } from '../../../src/execution/fill-amounts.js';
import { VenueError } from '../../../src/execution/errors.js';
import type { ConfirmOutcome, PreparedTransaction, TradeIntent } from '../../../src/execution/venue.port.js';
import { startJupiterStandIn, type JupiterStandIn } from '../../stand-ins/jupiter-server.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../../stand-ins/solana-rpc-server.js';
import { testSigner, type TestSigner } from '../../contract/venue.contract.js';
import { setUpRoundTripMarket, type RoundTripMarket } from '../../stand-ins/round-trip-market.js';

let jup: JupiterStandIn;
let rpc: SolanaRpcStandIn;
let conn: Connection;
let signer: TestSigner;
let trader: PublicKey;
let m: RoundTripMarket;
let venue: SolanaVenue;
/** A table holding the pools' vaults and mints (what Jupiter's tables hold for an AMM). */
let poolTable: PublicKey;
/** A table holding none of the legs' accounts: Jupiter must not name it. */
let otherTable: PublicKey;
let clockMs = Date.parse('2026-12-02T12:00:00Z');
const TTL_MS = 60_000;
const AMOUNT = 1_000_000_000n;
const retry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
const b58 = (keys: PublicKey[]) => keys.map((k) => k.toBase58());

beforeAll(async () => {
  [jup, rpc] = await Promise.all([startJupiterStandIn(), startSolanaRpcStandIn()]);
  conn = new Connection(rpc.url, 'confirmed');
  signer = testSigner();
  trader = new PublicKey(signer.publicKey);
  m = setUpRoundTripMarket(jup, rpc, trader, { edgeBps: 100 });
  poolTable = rpc.createLookupTable([m.vaultA, m.vaultB, m.mintA, m.mintB]);
  otherTable = rpc.createLookupTable([Keypair.generate().publicKey, Keypair.generate().publicKey]);
  servePoolTables();
  venue = new SolanaVenue({
    rpcUrl: rpc.url,
    priorityFeeMicroLamports: 1_000n,
    computeUnitLimit: 200_000,
    pollIntervalMs: 5,
    lookupTableTtlMs: TTL_MS,
    now: () => new Date(clockMs),
  });
});
afterAll(() => Promise.all([jup.close(), rpc.close()]));

const v1 = () => new JupiterQuoteSource({ basePath: jup.url, retry });
const v2 = () => new JupiterBuildSource({ basePath: jup.url, buildBasePath: jup.url, apiKey: jup.apiKey, retry });
const gmaCalls = () => rpc.calls.get('getMultipleAccounts') ?? 0;
/** What Jupiter names in most tests: the pool table and one table of unrelated accounts. */
const servePoolTables = () =>
  jup.setLookupTables({ [poolTable.toBase58()]: b58(rpc.lookupTableAddresses(poolTable)), [otherTable.toBase58()]: b58(rpc.lookupTableAddresses(otherTable)) });

/** Leg 1 A → B for AMOUNT; leg 2 B → A for leg 1's minimum out; both legs built for the signer. */
async function roundTrip(opportunityId: string, routes: RouteInstructionsSource = v1()) {
  const q = v1();
  const q1 = await q.quote({ inputMint: m.mintA.toBase58(), outputMint: m.mintB.toBase58(), amount: AMOUNT, slippageBps: 50 });
  const q2 = await q.quote({ inputMint: m.mintB.toBase58(), outputMint: m.mintA.toBase58(), amount: q1.otherAmountThreshold, slippageBps: 50 });
  const taker = trader.toBase58();
  const legs = [await routes.legInstructions({ quoteRaw: q1.raw, taker }), await routes.legInstructions({ quoteRaw: q2.raw, taker })] as const;
  const intent: TradeIntent = {
    opportunityId,
    inputMint: m.mintA.toBase58(),
    outputMint: m.mintA.toBase58(),
    inAmount: AMOUNT,
    expectedOut: q2.outAmount,
    roundTrip: { legs: [legs[0], legs[1]], minProfitBaseUnits: 1n },
  };
  return { q1, q2, intent };
}

async function land(p: PreparedTransaction): Promise<Extract<ConfirmOutcome, { status: 'confirmed' }>> {
  const sent = await venue.submit(p, signer.sign(p.messageBytes));
  if (sent.status !== 'submitted') throw new Error(`not submitted: ${JSON.stringify(sent)}`);
  const out = await venue.confirm({ ...p, signature: sent.signature });
  if (out.status !== 'confirmed') throw new Error(`not confirmed: ${JSON.stringify(out)}`);
  return out;
}

/** The same round trip composed by hand, with and without tables, for its size. */
async function composedBytes(intent: TradeIntent, tables: AddressLookupTableAccount[]): Promise<number> {
  const { blockhash } = await conn.getLatestBlockhash();
  return composeRoundTrip({
    payer: trader,
    blockhash,
    legs: intent.roundTrip!.legs,
    computeUnitLimit: 200_000,
    computeUnitPriceMicroLamports: 1_000n,
    guard: { account: m.traderA, mint: m.mintA, decimals: 9, amount: 1n },
    lookupTables: tables,
    memo: tradeMemo(intent.opportunityId),
  }).bytes;
}

async function tableAccount(key: PublicKey): Promise<AddressLookupTableAccount> {
  const t = (await conn.getAddressLookupTable(key)).value;
  if (!t) throw new Error(`no table ${key.toBase58()}`);
  return t;
}

describe('address lookup tables on the real runtime', () => {
  it('the RPC stand-in serves a real table (made by the ALT program) through getAccountInfo and getMultipleAccounts', async () => {
    const info = await conn.getAccountInfo(poolTable);
    expect(info?.owner.equals(AddressLookupTableProgram.programId)).toBe(true);
    expect(info?.executable).toBe(false);
    const table = await tableAccount(poolTable);
    expect(b58(table.state.addresses)).toEqual(b58([m.vaultA, m.vaultB, m.mintA, m.mintB]));
    expect(table.isActive()).toBe(true);
    expect(table.state.authority).toBeInstanceOf(PublicKey);
    // Extended one block before it is used, as the program requires.
    expect(BigInt(table.state.lastExtendedSlot)).toBeLessThan(rpc.blockHeight());
    const [a, b, none] = await conn.getMultipleAccountsInfo([poolTable, otherTable, Keypair.generate().publicKey]);
    expect(a?.data.equals(info!.data)).toBe(true);
    expect(b?.owner.equals(AddressLookupTableProgram.programId)).toBe(true);
    expect(none).toBeNull();
    // More than one ExtendLookupTable's worth: the stand-in extends in chunks.
    const many = Array.from({ length: 45 }, () => Keypair.generate().publicKey);
    expect(b58(rpc.lookupTableAddresses(rpc.createLookupTable(many)))).toEqual(b58(many));
  });

  it('Jupiter names only the tables holding a leg’s accounts (v1 addresses, v2 with contents)', async () => {
    const { intent } = await roundTrip('alt-names');
    expect(intent.roundTrip!.legs.map((l) => l.addressLookupTableAddresses)).toEqual([[poolTable.toBase58()], [poolTable.toBase58()]]);
    const built = await roundTrip('alt-names-v2', v2());
    expect(built.intent.roundTrip!.legs[0].addressesByLookupTableAddress).toEqual({ [poolTable.toBase58()]: b58([m.vaultA, m.vaultB, m.mintA, m.mintB]) });
  });

  it('a round trip whose vaults and mints are only in the table: smaller with it, lands, and its fill is read over loaded keys', async () => {
    const beforeA = rpc.tokenAmount(m.traderA);
    const beforeB = rpc.tokenAmount(m.traderB);
    const { q1, q2, intent } = await roundTrip('alt-fill');
    const without = await composedBytes(intent, []);
    const withTable = await composedBytes(intent, [await tableAccount(poolTable)]);
    // Four keys (2 vaults, 2 mints) of 32 bytes become 1-byte indexes; the lookup costs 32 + 2 + 4.
    expect(without - withTable).toBe(4 * 32 - (32 + 2 + 4));

    const p = await venue.prepare(intent, signer.publicKey);
    expect(p.roundTrip!.lookupTables).toEqual([poolTable.toBase58()]);
    expect(p.roundTrip!.serializedBytes).toBe(withTable);
    expect(p.roundTrip!.simulatedUnits).toBeGreaterThan(0n);
    const out = await land(p);

    const tx = await conn.getTransaction(out.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    expect(tx?.version).toBe(0);
    const lookups = tx!.transaction.message.addressTableLookups;
    expect(lookups.map((l) => l.accountKey.toBase58())).toEqual([poolTable.toBase58()]);
    // The vaults are written (writable lookups), the mints only read.
    expect(b58(tx!.meta!.loadedAddresses!.writable).sort()).toEqual(b58([m.vaultA, m.vaultB]).sort());
    expect(b58(tx!.meta!.loadedAddresses!.readonly).sort()).toEqual(b58([m.mintA, m.mintB]).sort());
    const staticCount = tx!.transaction.message.staticAccountKeys.length;
    expect(b58(tx!.transaction.message.staticAccountKeys)).not.toContain(m.vaultA.toBase58());
    // The vaults' token balances sit past the static keys, in the order static, writable, readonly.
    const record = balanceRecord(tx!);
    const vaultBalances = tx!.meta!.postTokenBalances!.filter((b) => b.owner === m.pool.toBase58());
    expect(vaultBalances.map((b) => b.accountIndex).every((i) => i >= staticCount)).toBe(true);
    expect(vaultBalances.map((b) => record.accountKeys[b.accountIndex]).sort()).toEqual(b58([m.vaultA, m.vaultB]).sort());
    expect(record.preBalances).toHaveLength(record.accountKeys.length);

    // The fill: realised PnL is the trader's balance change, and leg 2 out − leg 1 in.
    const gainA = rpc.tokenAmount(m.traderA) - beforeA;
    expect(out.realisedPnl).toBe(gainA);
    expect(out.realisedPnl).toBe(q2.outAmount - AMOUNT);
    expect(out.amountIn).toBe(AMOUNT);
    expect(out.amountOut).toBe(q2.outAmount);
    expect(out.fee).toBe(BigInt(tx!.meta!.fee));
    // Per leg, from the balances: leg 1 in = AMOUNT of A, leg 1 out − leg 2 in = B left over
    // (inventory); the pool's side, read only through loaded keys, mirrors both exactly.
    const dB = ownerDelta(record, trader.toBase58(), m.mintB.toBase58());
    expect(dB).toBe(rpc.tokenAmount(m.traderB) - beforeB);
    const leg2In = q1.otherAmountThreshold;
    expect(dB + leg2In).toBe(q1.outAmount); // leg 1 out
    expect(ownerDelta(record, m.pool.toBase58(), m.mintA.toBase58())).toBe(AMOUNT - q2.outAmount); // leg 1 in − leg 2 out
    expect(ownerDelta(record, m.pool.toBase58(), m.mintB.toBase58())).toBe(leg2In - q1.outAmount); // leg 2 in − leg 1 out
  });

  it('a node answer without meta.loadedAddresses cannot be read: MALFORMED_RESPONSE, not a wrong fill', async () => {
    const p = await venue.prepare((await roundTrip('alt-no-loaded')).intent, signer.publicKey);
    const out = await land(p);
    const tx = await conn.getTransaction(out.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    const e = (() => {
      try {
        return balanceRecord({ ...tx!, meta: { ...tx!.meta!, loadedAddresses: undefined } });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(VenueError);
    expect((e as VenueError).code).toBe('MALFORMED_RESPONSE');
    expect((e as Error).message).toMatch(/account index \d+, but the transaction has \d+ accounts/);
  });

  it('v1 tables are fetched with getMultipleAccounts once and reused until the TTL has passed', async () => {
    clockMs += TTL_MS + 1; // whatever earlier tests cached is stale now
    // Each prepare reads the mint and the input account in one getMultipleAccounts; tables add one.
    let calls = gmaCalls();
    await land(await venue.prepare((await roundTrip('alt-cache-1')).intent, signer.publicKey));
    expect(gmaCalls() - calls).toBe(2);
    calls = gmaCalls();
    clockMs += TTL_MS - 1;
    const second = await venue.prepare((await roundTrip('alt-cache-2')).intent, signer.publicKey);
    expect(gmaCalls() - calls).toBe(1);
    expect(second.roundTrip!.lookupTables).toEqual([poolTable.toBase58()]);
    await land(second);
    calls = gmaCalls();
    clockMs += 2;
    await land(await venue.prepare((await roundTrip('alt-cache-3')).intent, signer.publicKey));
    expect(gmaCalls() - calls).toBe(2);
  });

  it('v2 takes the tables from the /build answer: none is fetched', async () => {
    clockMs += TTL_MS + 1;
    const calls = gmaCalls();
    const before = rpc.tokenAmount(m.traderA);
    const p = await venue.prepare((await roundTrip('alt-v2', v2())).intent, signer.publicKey);
    expect(gmaCalls() - calls).toBe(1); // the mint and the input account only
    expect(p.roundTrip!.lookupTables).toEqual([poolTable.toBase58()]);
    const out = await land(p);
    expect(out.realisedPnl).toBe(rpc.tokenAmount(m.traderA) - before);
    const tx = await conn.getTransaction(out.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    expect(tx!.meta!.loadedAddresses!.writable).toHaveLength(2);
  });

  it('a deactivated table is left out: the round trip composes without it (larger) and still lands', async () => {
    clockMs += TTL_MS + 1;
    const retiring = rpc.createLookupTable([m.vaultA, m.vaultB, m.mintA, m.mintB]);
    rpc.deactivateLookupTable(retiring);
    expect((await tableAccount(retiring)).isActive()).toBe(false);
    jup.setLookupTables({ [retiring.toBase58()]: b58(rpc.lookupTableAddresses(retiring)) });
    try {
      const { intent } = await roundTrip('alt-retired');
      expect(intent.roundTrip!.legs[0].addressLookupTableAddresses).toEqual([retiring.toBase58()]);
      const p = await venue.prepare(intent, signer.publicKey);
      expect(p.roundTrip!.lookupTables).toEqual([]);
      expect(p.roundTrip!.serializedBytes).toBe(await composedBytes(intent, []));
      const out = await land(p);
      const tx = await conn.getTransaction(out.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
      expect(tx!.transaction.message.addressTableLookups).toEqual([]);
      expect(tx!.meta!.loadedAddresses).toEqual({ writable: [], readonly: [] });
    } finally {
      servePoolTables();
    }
  });

  it('a cached table that stops resolving fails the simulation once; the cache forgets it and the next prepare leaves it out', async () => {
    clockMs += TTL_MS + 1;
    const doomed = rpc.createLookupTable([m.vaultA, m.vaultB, m.mintA, m.mintB]);
    jup.setLookupTables({ [doomed.toBase58()]: b58(rpc.lookupTableAddresses(doomed)) });
    try {
      const first = await venue.prepare((await roundTrip('alt-doomed-1')).intent, signer.publicKey);
      expect(first.roundTrip!.lookupTables).toEqual([doomed.toBase58()]);
      await land(first); // cached now
      rpc.deactivateLookupTable(doomed);
      const e = await venue.prepare((await roundTrip('alt-doomed-2')).intent, signer.publicKey).catch((x: unknown) => x);
      expect((e as VenueError).code).toBe('SIMULATION_FAILED');
      expect((e as Error).message).toMatch(/AddressLookupTableNotFound/);
      const calls = gmaCalls();
      const again = await venue.prepare((await roundTrip('alt-doomed-3')).intent, signer.publicKey);
      expect(gmaCalls() - calls).toBe(2); // the table was read again, not taken from the cache
      expect(again.roundTrip!.lookupTables).toEqual([]);
      await land(again);
    } finally {
      servePoolTables();
    }
  });

  it('a named table that is not a lookup table account is INVALID_REQUEST before anything is simulated', async () => {
    clockMs += TTL_MS + 1;
    const { intent } = await roundTrip('alt-bogus');
    const [leg1, leg2] = intent.roundTrip!.legs;
    // Leg 1 names a token account as its table.
    const bogus: TradeIntent = { ...intent, roundTrip: { ...intent.roundTrip!, legs: [{ ...leg1, addressLookupTableAddresses: [m.traderB.toBase58()] }, leg2] } };
    const sims = rpc.calls.get('simulateTransaction') ?? 0;
    const e = await venue.prepare(bogus, signer.publicKey).catch((x: unknown) => x);
    expect((e as VenueError).code).toBe('INVALID_REQUEST');
    expect((e as Error).message).toMatch(/is not an address lookup table/);
    expect(rpc.calls.get('simulateTransaction') ?? 0).toBe(sims);
  });
});

describe('a round trip over 1232 bytes without tables', () => {
  /** Accounts each pool's swap reads besides its vault (an AMM's state, oracle, tick arrays…). */
  const extra = { a: Array.from({ length: 18 }, () => Keypair.generate().publicKey), b: Array.from({ length: 18 }, () => Keypair.generate().publicKey) };
  let wideTable: PublicKey;
  beforeAll(() => {
    for (const k of [...extra.a, ...extra.b]) rpc.airdrop(k, 1_000_000n); // real accounts, owned by the System program
    jup.setPoolAccounts(m.mintA.toBase58(), b58(extra.a));
    jup.setPoolAccounts(m.mintB.toBase58(), b58(extra.b));
    wideTable = rpc.createLookupTable([m.vaultA, m.vaultB, m.mintA, m.mintB, ...extra.a, ...extra.b]);
    jup.setLookupTables({ [wideTable.toBase58()]: b58(rpc.lookupTableAddresses(wideTable)) });
  });
  afterAll(() => {
    jup.setPoolAccounts(m.mintA.toBase58(), []);
    jup.setPoolAccounts(m.mintB.toBase58(), []);
  });

  it('does not compose without its tables (TRANSACTION_TOO_LARGE), fits with them, lands and fills', async () => {
    clockMs += TTL_MS + 1;
    const before = rpc.tokenAmount(m.traderA);
    const { q2, intent } = await roundTrip('alt-wide');
    const e = await composedBytes(intent, []).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(VenueError);
    expect((e as VenueError).code).toBe('TRANSACTION_TOO_LARGE');
    const p = await venue.prepare(intent, signer.publicKey);
    expect(p.roundTrip!.lookupTables).toEqual([wideTable.toBase58()]);
    expect(p.roundTrip!.serializedBytes).toBeLessThanOrEqual(MAX_TRANSACTION_BYTES);
    const out = await land(p);
    expect(out.realisedPnl).toBe(rpc.tokenAmount(m.traderA) - before);
    expect(out.realisedPnl).toBe(q2.outAmount - AMOUNT);
    const tx = await conn.getTransaction(out.signature, { commitment: 'confirmed', maxSupportedTransactionVersion: 0 });
    expect(tx!.meta!.loadedAddresses!.readonly.length).toBe(2 + extra.a.length + extra.b.length);
  });

  it('simulateTransaction of the v0 transaction with lookups reports unitsConsumed', async () => {
    clockMs += TTL_MS + 1;
    const p = await venue.prepare((await roundTrip('alt-sim')).intent, signer.publicKey);
    venue.inFlight.releaseAll('alt-sim');
    const tx = VersionedTransaction.deserialize(Buffer.from(p.unsignedTx, 'base64'));
    expect(tx.message.addressTableLookups).toHaveLength(1);
    const sim = await conn.simulateTransaction(tx, { sigVerify: false });
    expect(sim.value.err).toBeNull();
    expect(sim.value.unitsConsumed).toBeGreaterThan(0);
    // The prepared limit is what the simulation at the maximum consumed, plus the margin.
    expect(BigInt(sim.value.unitsConsumed!)).toBe(p.roundTrip!.simulatedUnits);
  });
});
