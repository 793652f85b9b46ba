// One contract for the venue port, run against every adapter (paper; Solana through the real
// web3.js Connection against the LiteSVM-backed RPC stand-in). Signatures are real Ed25519 ones
// made with node:crypto, the way the Signer port makes them.
import { generateKeyPairSync, sign as edSign, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VersionedTransaction } from '@solana/web3.js';
import { EventTypeRegistry, newEvent } from '../../src/ledger/event-types.js';
import bs58 from 'bs58';
import { VenueError } from '../../src/execution/errors.js';
import { executionEvents, outcomeEvent, transactionSubmittedPayload, TransactionSubmitted } from '../../src/execution/events.js';
import type { FillQuery, PreparedTransaction, TradeIntent, Venue } from '../../src/execution/venue.port.js';

export interface TestSigner {
  publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function testSigner(): TestSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  return { publicKey: new Uint8Array(raw), sign: (m) => new Uint8Array(edSign(null, m, privateKey as KeyObject)) };
}

export interface VenueTarget {
  venue: Venue;
  /** A signer the venue can fill for (funded, where funding exists). */
  signer: TestSigner;
  /** A round-trip trade the signer can afford. */
  intent(opportunityId: string): TradeIntent;
  /** From now on the chain loses every submitted transaction (the node answers, nothing lands). */
  loseSubmissions(): void;
  /** Moves the chain past `height` blocks. */
  advancePast(height: bigint): Promise<void>;
  cleanup(): Promise<void>;
}

const registry = () => new EventTypeRegistry(false).register(...executionEvents);
const meta = { correlationId: 'opp', causationId: null, actor: 'engine', tenant: 'default' };
const query = (p: PreparedTransaction, signature: string): FillQuery => ({ ...p, signature });
let seq = 0;
const oppId = () => `opp-${Date.now().toString(36)}-${++seq}`;

export function venueContract(name: string, open: () => Promise<VenueTarget>) {
  describe(`venue contract: ${name}`, () => {
    let t: VenueTarget;
    beforeAll(async () => {
      t = await open();
    });
    afterAll(async () => {
      await t?.cleanup();
    });

    it('prepares a real Solana transaction paid for by the signer, with its signing bytes and expiry', async () => {
      const intent = t.intent(oppId());
      const p = await t.venue.prepare(intent, t.signer.publicKey);
      const tx = VersionedTransaction.deserialize(Buffer.from(p.unsignedTx, 'base64'));
      expect(Buffer.from(tx.message.serialize()).equals(Buffer.from(p.messageBytes))).toBe(true);
      expect(tx.message.staticAccountKeys[0]!.toBytes()).toEqual(t.signer.publicKey);
      expect(tx.message.recentBlockhash).toBe(p.blockhash);
      expect(tx.signatures[0]!.every((b) => b === 0)).toBe(true);
      expect(p.lastValidBlockHeight).toBeGreaterThan(0n);
      expect(p.venue).toBe(t.venue.name);
      expect(p.priorityFeeMicroLamports).toBeGreaterThan(0n);
      expect(p).toMatchObject({ opportunityId: intent.opportunityId, inAmount: intent.inAmount, inputMint: intent.inputMint });
    });

    it('fills a correctly signed transaction once, with amounts, fee and slot, and valid events', async () => {
      const p = await t.venue.prepare(t.intent(oppId()), t.signer.publicKey);
      const sub = await t.venue.submit(p, t.signer.sign(p.messageBytes));
      expect(sub.status).toBe('submitted');
      if (sub.status !== 'submitted') return;
      expect(sub.alreadyProcessed).toBe(false);
      const out = await t.venue.confirm(query(p, sub.signature));
      expect(out.status).toBe('confirmed');
      if (out.status !== 'confirmed') return;
      expect(out.signature).toBe(sub.signature);
      expect(out.amountIn).toBe(p.inAmount);
      expect(out.amountOut).toBeGreaterThanOrEqual(0n);
      expect(out.realisedPnl).toBe(out.amountOut - out.amountIn);
      expect(out.fee).toBeGreaterThanOrEqual(5000n);
      expect(out.slot).toBeGreaterThan(0n);
      expect(await t.venue.status(sub.signature)).toBe('confirmed');

      const reg = registry();
      reg.validate(newEvent(TransactionSubmitted, transactionSubmittedPayload(p, sub), meta));
      const { event, payload } = outcomeEvent(query(p, sub.signature), out);
      expect(event.type).toBe('FillConfirmed');
      reg.validate(newEvent(event, payload, meta));
    });

    it('refuses a transaction whose signature does not verify (one byte flipped): an outcome, not a crash', async () => {
      const p = await t.venue.prepare(t.intent(oppId()), t.signer.publicKey);
      const sig = t.signer.sign(p.messageBytes);
      sig[10]! ^= 0x01;
      const sub = await t.venue.submit(p, sig);
      expect(sub).toMatchObject({ status: 'failed', reason: 'signature verification failed' });
      expect(['unknown', 'failed']).toContain(await t.venue.status(sub.signature));
      const { event, payload } = outcomeEvent(query(p, sub.signature), { ...(sub as { status: 'failed'; signature: string; reason: string }) });
      expect(event.type).toBe('FillFailed');
      registry().validate(newEvent(event, payload, meta));
    });

    it('refuses a signature made by another key', async () => {
      const p = await t.venue.prepare(t.intent(oppId()), t.signer.publicKey);
      const sub = await t.venue.submit(p, testSigner().sign(p.messageBytes));
      expect(sub).toMatchObject({ status: 'failed', reason: 'signature verification failed' });
    });

    it('never fills the same signature twice: a second submit returns the first outcome', async () => {
      const p = await t.venue.prepare(t.intent(oppId()), t.signer.publicKey);
      const sig = t.signer.sign(p.messageBytes);
      const first = await t.venue.submit(p, sig);
      const second = await t.venue.submit(p, sig);
      expect(first.status).toBe('submitted');
      expect(second).toMatchObject({ status: 'submitted', signature: first.signature, alreadyProcessed: true });
      const a = await t.venue.confirm(query(p, first.signature));
      const b = await t.venue.confirm(query(p, first.signature));
      expect(a.status).toBe('confirmed');
      expect({ ...b, confirmedAt: '' }).toEqual({ ...a, confirmedAt: '' });
    });

    it('answers unknown for a signature it never saw, and expired once the chain is past its last valid block', async () => {
      const p = await t.venue.prepare(t.intent(oppId()), t.signer.publicKey);
      const never = bs58.encode(t.signer.sign(p.messageBytes));
      expect(await t.venue.status(never)).toBe('unknown');
      expect(await t.venue.status(never, p.lastValidBlockHeight)).toBe('unknown');
      await t.advancePast(p.lastValidBlockHeight);
      expect(await t.venue.status(never, p.lastValidBlockHeight)).toBe('expired');
    });

    it('reports expiry when a blockhash is already too old at submit', async () => {
      const p = await t.venue.prepare(t.intent(oppId()), t.signer.publicKey);
      await t.advancePast(p.lastValidBlockHeight);
      const sub = await t.venue.submit(p, t.signer.sign(p.messageBytes));
      expect(sub.status).toBe('expired');
      expect(sub.status === 'expired' && sub.reason).toMatch(/blockhash not found/i);
    });

    it('rejects input no venue can send with a typed error', async () => {
      const p = await t.venue.prepare(t.intent(oppId()), t.signer.publicKey);
      await expect(t.venue.submit(p, new Uint8Array(10))).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
      await expect(t.venue.submit({ ...p, messageBytes: new Uint8Array([1, 2, 3]) }, t.signer.sign(p.messageBytes))).rejects.toBeInstanceOf(VenueError);
      await expect(t.venue.prepare({ ...t.intent(oppId()), inAmount: 0n }, t.signer.publicKey)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
      await expect(t.venue.prepare({ ...t.intent(oppId()), inputMint: 'not-a-mint' }, t.signer.publicKey)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
      await expect(t.venue.prepare(t.intent(oppId()), new Uint8Array(31))).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    });

    // Last: it makes the chain lose every later submission.
    it('expires a submitted transaction that never lands before its last valid block height', async () => {
      const p = await t.venue.prepare(t.intent(oppId()), t.signer.publicKey);
      t.loseSubmissions();
      const sub = await t.venue.submit(p, t.signer.sign(p.messageBytes));
      expect(sub.status).toBe('submitted');
      await t.advancePast(p.lastValidBlockHeight);
      const out = await t.venue.confirm(query(p, sub.signature));
      expect(out).toMatchObject({ status: 'expired', lastValidBlockHeight: p.lastValidBlockHeight });
      expect(await t.venue.status(sub.signature, p.lastValidBlockHeight)).toBe('expired');
      const { event, payload } = outcomeEvent(query(p, sub.signature), out);
      expect(event.type).toBe('TransactionExpired');
      registry().validate(newEvent(event, payload, meta));
    });
  });
}
