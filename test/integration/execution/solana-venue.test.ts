// The Solana venue against a real Solana VM: the web3.js Connection inside SolanaVenue talks
// JSON-RPC to the LiteSVM-backed stand-in, which executes every signed transaction for real
// (signature verification, fees, System and SPL Token programs). Fills are read back from it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ComputeBudgetProgram,
  PublicKey,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import { createTransferInstruction, getAssociatedTokenAddressSync } from '@solana/spl-token';
import { SolanaVenue } from '../../../src/execution/solana/solana-venue.js';
import { attachSignature, NATIVE_MINT } from '../../../src/execution/transaction.js';
import type { FillQuery, PreparedTransaction, TradeIntent } from '../../../src/execution/venue.port.js';
import { startSolanaRpcStandIn, type SolanaRpcStandIn } from '../../stand-ins/solana-rpc-server.js';
import { testSigner, venueContract, type TestSigner } from '../../contract/venue.contract.js';

const SOL = 1_000_000_000n;
const query = (p: PreparedTransaction, signature: string): FillQuery => ({ ...p, signature });

venueContract('solana (web3.js → JSON-RPC → LiteSVM)', async () => {
  const rpc = await startSolanaRpcStandIn();
  const signer = testSigner();
  rpc.airdrop(new PublicKey(signer.publicKey), 100n * SOL);
  const venue = new SolanaVenue({ rpcUrl: rpc.url, priorityFeeMicroLamports: 1000n, computeUnitLimit: 200_000, pollIntervalMs: 0 });
  return {
    venue,
    signer,
    intent: (opportunityId) => ({ opportunityId, inputMint: NATIVE_MINT, outputMint: NATIVE_MINT, inAmount: 2_000_000n, expectedOut: 2_001_000n }),
    loseSubmissions: () => {
      rpc.dropSubmissions = true;
    },
    advancePast: async (height) => {
      if (rpc.blockHeight() <= height) rpc.advanceBlocks(height - rpc.blockHeight() + 1n);
    },
    cleanup: () => rpc.close(),
  };
});

describe('SolanaVenue on LiteSVM', () => {
  let rpc: SolanaRpcStandIn;
  let signer: TestSigner;
  let user: PublicKey;
  let venue: SolanaVenue;
  let n = 0;
  const intent = (over: Partial<TradeIntent> = {}): TradeIntent => ({
    opportunityId: `opp-${++n}`,
    inputMint: NATIVE_MINT,
    outputMint: NATIVE_MINT,
    inAmount: 50_000_000n,
    expectedOut: 50_100_000n,
    ...over,
  });
  const newVenue = (over: Partial<ConstructorParameters<typeof SolanaVenue>[0]> = {}) =>
    new SolanaVenue({ rpcUrl: rpc.url, priorityFeeMicroLamports: 1000n, computeUnitLimit: 200_000, pollIntervalMs: 0, ...over });
  const signAndSubmit = async (v: SolanaVenue, p: PreparedTransaction) => v.submit(p, signer.sign(p.messageBytes));

  beforeEach(async () => {
    rpc = await startSolanaRpcStandIn();
    signer = testSigner();
    user = new PublicKey(signer.publicKey);
    rpc.airdrop(user, 10n * SOL);
    venue = newVenue();
  });
  afterEach(async () => {
    await rpc.close();
  });

  /** What Jupiter's POST /swap returns: an unsigned v0 transaction for the user, base64. */
  function swapTransaction(instructions: Parameters<typeof createTransferInstruction>[], opts: { price?: number; units?: number } = {}): string {
    const message = new TransactionMessage({
      payerKey: user,
      recentBlockhash: PublicKey.default.toBase58(), // stale on purpose: the venue must refresh it
      instructions: [
        ComputeBudgetProgram.setComputeUnitLimit({ units: opts.units ?? 300_000 }),
        ComputeBudgetProgram.setComputeUnitPrice({ microLamports: opts.price ?? 5000 }),
        ...instructions.map((args) => createTransferInstruction(...args)),
      ],
    }).compileToV0Message();
    return Buffer.from(new VersionedTransaction(message).serialize()).toString('base64');
  }

  /** A pool that lets `user` move its tokens (SPL delegate), so a one-signer swap really swaps. */
  function market() {
    const pool = PublicKey.unique();
    const mintA = rpc.createMint(6);
    const mintB = rpc.createMint(9);
    const userA = rpc.setTokenAccount({ mint: mintA, owner: user, amount: 1_000_000n });
    const userB = rpc.setTokenAccount({ mint: mintB, owner: user, amount: 0n });
    const poolA = rpc.setTokenAccount({ mint: mintA, owner: pool, amount: 50_000_000n, delegate: user });
    const poolB = rpc.setTokenAccount({ mint: mintB, owner: pool, amount: 50_000_000n, delegate: user });
    return { pool, mintA, mintB, userA, userB, poolA, poolB };
  }

  it('fills a Jupiter-style swap A → B with the amounts the chain moved, not the quoted ones', async () => {
    const m = market();
    const swap = swapTransaction([
      [m.userA, m.poolA, user, 400_000n],
      [m.poolB, m.userB, user, 409_500n], // the pool paid less than quoted: slippage
    ]);
    const p = await venue.prepare(
      intent({ inputMint: m.mintA.toBase58(), outputMint: m.mintB.toBase58(), inAmount: 400_000n, expectedOut: 410_000n, swapTransactionBase64: swap }),
      signer.publicKey,
    );
    expect(p.blockhash).not.toBe(PublicKey.default.toBase58());
    expect(p.priorityFeeMicroLamports).toBe(5000n);
    const lamportsBefore = rpc.lamports(user);
    const sub = await signAndSubmit(venue, p);
    expect(sub.status).toBe('submitted');
    const out = await venue.confirm(query(p, sub.signature));
    expect(out).toMatchObject({ status: 'confirmed', amountIn: 400_000n, amountOut: 409_500n, realisedPnl: null, fee: 6500n });
    // …and the VM agrees.
    expect(rpc.tokenAmount(m.userA)).toBe(600_000n);
    expect(rpc.tokenAmount(m.userB)).toBe(409_500n);
    expect(lamportsBefore - rpc.lamports(user)).toBe(6500n);
  });

  it('reads a round trip A → A as realised PnL in base units of A', async () => {
    const m = market();
    const swap = swapTransaction([
      [m.userA, m.poolA, user, 400_000n],
      [m.poolA, m.userA, user, 410_250n],
    ]);
    const p = await venue.prepare(
      intent({ inputMint: m.mintA.toBase58(), outputMint: m.mintA.toBase58(), inAmount: 400_000n, expectedOut: 410_000n, swapTransactionBase64: swap }),
      signer.publicKey,
    );
    const sub = await signAndSubmit(venue, p);
    const out = await venue.confirm(query(p, sub.signature));
    expect(out).toMatchObject({ status: 'confirmed', amountIn: 400_000n, amountOut: 410_250n, realisedPnl: 10_250n });
    expect(rpc.tokenAmount(m.userA)).toBe(1_010_250n);
  });

  it('builds and fills its own route transaction for SOL, fee reported apart from the trade', async () => {
    const counterparty = PublicKey.unique();
    rpc.airdrop(counterparty, SOL);
    const v = newVenue({ settlementAddress: counterparty });
    const before = rpc.lamports(user);
    const p = await v.prepare(intent({ inAmount: 50_000_000n }), signer.publicKey);
    const sub = await signAndSubmit(v, p);
    const out = await v.confirm(query(p, sub.signature));
    // 5000 per signature + 1000 µlamports × 200 000 CU = 200 lamports of priority fee.
    expect(out).toMatchObject({ status: 'confirmed', amountIn: 50_000_000n, amountOut: 0n, realisedPnl: -50_000_000n, fee: 5200n });
    expect(before - rpc.lamports(user)).toBe(50_005_200n);
    expect(rpc.lamports(counterparty)).toBe(SOL + 50_000_000n);
  });

  it('builds an SPL Token transfer for a token route', async () => {
    const m = market();
    const counterparty = PublicKey.unique();
    const theirs = rpc.setTokenAccount({ mint: m.mintA, owner: counterparty, amount: 0n });
    const v = newVenue({ settlementAddress: counterparty });
    const p = await v.prepare(intent({ inputMint: m.mintA.toBase58(), outputMint: m.mintA.toBase58(), inAmount: 250_000n }), signer.publicKey);
    const out = await v.confirm(query(p, (await signAndSubmit(v, p)).signature));
    expect(out).toMatchObject({ status: 'confirmed', amountIn: 250_000n, amountOut: 0n, realisedPnl: -250_000n });
    expect(rpc.tokenAmount(theirs)).toBe(250_000n);
    expect(rpc.tokenAmount(getAssociatedTokenAddressSync(m.mintA, user))).toBe(750_000n);
  });

  it('a flipped signature byte is refused by the VM: nothing moves, and the outcome says why', async () => {
    const before = rpc.lamports(user);
    const p = await venue.prepare(intent(), signer.publicKey);
    const sig = signer.sign(p.messageBytes);
    sig[0]! ^= 0x80;
    const sub = await venue.submit(p, sig);
    expect(sub).toMatchObject({ status: 'failed', reason: 'signature verification failed' });
    expect(rpc.rejected.get(sub.signature)).toBe('preflight: Transaction did not pass signature verification');
    expect(rpc.lamports(user)).toBe(before);

    // Without preflight the node forwards it; the VM itself refuses it and it never exists.
    const { tx } = attachSignature(p, sig);
    await venue.connection.sendRawTransaction(tx.serialize(), { skipPreflight: true, maxRetries: 0 });
    expect(rpc.rejected.get(sub.signature)).toBe('dropped: Transaction did not pass signature verification');
    expect(await venue.status(sub.signature)).toBe('unknown');
    expect(rpc.lamports(user)).toBe(before);
  });

  it('a program error is refused at preflight with the program error in the reason', async () => {
    const p = await venue.prepare(intent({ inAmount: 11n * SOL }), signer.publicKey);
    const sub = await signAndSubmit(venue, p);
    expect(sub.status).toBe('failed');
    expect(sub.status === 'failed' && sub.reason).toMatch(/custom program error: 0x1/);
  });

  it('a transaction that lands with an error is a failed fill that still paid its fee', async () => {
    const counterparty = PublicKey.unique();
    rpc.airdrop(counterparty, SOL);
    const v = newVenue({ settlementAddress: counterparty });
    const p = await v.prepare(intent({ inAmount: 11n * SOL }), signer.publicKey);
    const { tx, signature } = attachSignature(p, signer.sign(p.messageBytes));
    const before = rpc.lamports(user);
    await v.connection.sendRawTransaction(tx.serialize(), { skipPreflight: true, maxRetries: 0 }); // lands, fails
    const out = await v.confirm(query(p, signature));
    expect(out).toMatchObject({ status: 'failed', reason: 'instruction 3 (System) failed: ResultWithNegativeLamports (custom program error 0x1): account does not have enough SOL to perform the operation', fee: 5200n });
    // Not a round trip: no layout, so no part; the program and its error are still named.
    expect(out.status === 'failed' && out.failure).toMatchObject({ stage: 'on-chain', instructionIndex: 3, part: null, program: 'System', code: 1, error: 'ResultWithNegativeLamports' });
    expect(before - rpc.lamports(user)).toBe(5200n);
    expect(await v.status(signature)).toBe('failed');
  });

  it('expires while polling when the chain moves past lastValidBlockHeight, rebroadcasting until then', async () => {
    const p = await venue.prepare(intent(), signer.publicKey);
    rpc.dropSubmissions = true;
    const sub = await signAndSubmit(venue, p);
    expect(sub.status).toBe('submitted');
    expect(await venue.status(sub.signature)).toBe('pending');
    rpc.autoAdvanceBlocks = 20; // every getBlockHeight: 20 blocks later
    const out = await venue.confirm(query(p, sub.signature));
    expect(out.status).toBe('expired');
    expect(rpc.blockHeight()).toBeGreaterThan(p.lastValidBlockHeight);
    expect(rpc.calls.get('sendTransaction')).toBeGreaterThan(1); // the rebroadcasts
    expect(await venue.status(sub.signature)).toBe('expired');
  });

  it('a lost first send lands through confirm’s rebroadcast of the same bytes', async () => {
    const p = await venue.prepare(intent(), signer.publicKey);
    rpc.dropSubmissions = true;
    const sub = await signAndSubmit(venue, p);
    rpc.dropSubmissions = false;
    const out = await venue.confirm(query(p, sub.signature));
    expect(out.status).toBe('confirmed');
  });

  it('waits through processed until confirmed', async () => {
    rpc.processedPolls = 3;
    const p = await venue.prepare(intent(), signer.publicKey);
    const sub = await signAndSubmit(venue, p);
    expect(await venue.status(sub.signature)).toBe('pending');
    const out = await venue.confirm(query(p, sub.signature));
    expect(out.status).toBe('confirmed');
    expect(rpc.calls.get('getSignatureStatuses')).toBeGreaterThanOrEqual(4);
  });

  it('after a restart, a resubmit of the same signed transaction fills nothing twice', async () => {
    const counterparty = PublicKey.unique();
    rpc.airdrop(counterparty, SOL);
    const first = newVenue({ settlementAddress: counterparty });
    const p = await first.prepare(intent({ inAmount: 30_000_000n }), signer.publicKey);
    const sig = signer.sign(p.messageBytes);
    const sub = await first.submit(p, sig);
    const fill = await first.confirm(query(p, sub.signature));
    expect(fill.status).toBe('confirmed');

    const restarted = newVenue({ settlementAddress: counterparty }); // empty memory
    expect(await restarted.status(sub.signature)).toBe('confirmed'); // what a resumed saga asks first
    const again = await restarted.submit(p, sig);
    expect(again).toMatchObject({ status: 'submitted', signature: sub.signature, alreadyProcessed: true });
    expect(rpc.rejected.get(sub.signature)).toMatch(/already been processed/);
    const refill = await restarted.confirm(query(p, sub.signature));
    expect({ ...refill, confirmedAt: '' }).toEqual({ ...fill, confirmedAt: '' });
    expect(rpc.lamports(counterparty)).toBe(SOL + 30_000_000n); // paid once
  });

  it('refuses a swap transaction another key pays for', async () => {
    const other = testSigner();
    const message = new TransactionMessage({
      payerKey: new PublicKey(other.publicKey),
      recentBlockhash: PublicKey.default.toBase58(),
      instructions: [ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1 })],
    }).compileToV0Message();
    const swap = Buffer.from(new VersionedTransaction(message).serialize()).toString('base64');
    await expect(venue.prepare(intent({ swapTransactionBase64: swap }), signer.publicKey)).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringMatching(/not by the signer/),
    });
    await expect(venue.prepare(intent({ swapTransactionBase64: 'bm9wZQ==' }), signer.publicKey)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('stops waiting when confirm is aborted', async () => {
    const p = await venue.prepare(intent(), signer.publicKey);
    rpc.dropSubmissions = true;
    const sub = await signAndSubmit(venue, p);
    const ac = new AbortController();
    ac.abort();
    await expect(venue.confirm(query(p, sub.signature), { signal: ac.signal })).rejects.toMatchObject({ code: 'CONFIRM_ABORTED' });
  });
});

describe('SolanaVenue when the node misbehaves', () => {
  let server: Server;
  let reply: (body: string) => { status: number; body: string };
  let url: string;
  const signer = testSigner();
  const intent: TradeIntent = { opportunityId: 'o', inputMint: NATIVE_MINT, outputMint: NATIVE_MINT, inAmount: 1n, expectedOut: 1n };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const r = reply(body);
        res.writeHead(r.status, { 'content-type': 'application/json' });
        res.end(r.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const venue = () => new SolanaVenue({ rpcUrl: url, priorityFeeMicroLamports: 0n, computeUnitLimit: 200_000, pollIntervalMs: 0, rpcTimeoutMs: 2000 });

  it('maps an unreachable node to RPC_UNAVAILABLE (retryable)', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const v = new SolanaVenue({ rpcUrl: `http://127.0.0.1:${port}`, priorityFeeMicroLamports: 0n, computeUnitLimit: 200_000 });
    await expect(v.prepare(intent, signer.publicKey)).rejects.toMatchObject({ code: 'RPC_UNAVAILABLE', retryable: true });
  });

  it('maps HTTP 503 to RPC_UNAVAILABLE and 401 to RPC_ERROR', async () => {
    reply = () => ({ status: 503, body: 'busy' });
    await expect(venue().prepare(intent, signer.publicKey)).rejects.toMatchObject({ code: 'RPC_UNAVAILABLE', message: expect.stringMatching(/503/) });
    reply = () => ({ status: 401, body: 'no key' });
    await expect(venue().prepare(intent, signer.publicKey)).rejects.toMatchObject({ code: 'RPC_ERROR', retryable: false });
  });

  it('maps a reply of the wrong shape or not JSON to MALFORMED_RESPONSE', async () => {
    reply = (b) => ({ status: 200, body: JSON.stringify({ jsonrpc: '2.0', id: JSON.parse(b).id, result: { context: { slot: 1 }, value: { nope: true } } }) });
    await expect(venue().prepare(intent, signer.publicKey)).rejects.toMatchObject({ code: 'MALFORMED_RESPONSE' });
    reply = () => ({ status: 200, body: '<html>' });
    await expect(venue().status('1'.repeat(64))).rejects.toMatchObject({ code: 'MALFORMED_RESPONSE' });
  });

  it('maps a JSON-RPC error of a node that is behind to RPC_UNAVAILABLE', async () => {
    reply = (b) => ({ status: 200, body: JSON.stringify({ jsonrpc: '2.0', id: JSON.parse(b).id, error: { code: -32005, message: 'Node is behind by 42 slots' } }) });
    await expect(venue().prepare(intent, signer.publicKey)).rejects.toMatchObject({ code: 'RPC_UNAVAILABLE', message: expect.stringMatching(/behind/) });
  });
});
