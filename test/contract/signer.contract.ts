// One contract for the Signer port, run against every adapter (encrypted keystore; AWS KMS via
// the real SDK against the local stand-in). Signatures are checked three ways: node:crypto,
// @noble/curves (an independent Ed25519, the one @solana/web3.js itself uses) and a real
// web3.js Transaction's verifySignatures().
import { ed25519 } from '@noble/curves/ed25519';
import {
  Keypair,
  PublicKey,
  SystemProgram,
  Transaction,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import bs58 from 'bs58';
import { signingEvents, TransactionSigned } from '../../src/signing/events.js';
import { EventTypeRegistry, newEvent } from '../../src/ledger/event-types.js';
import { signTransaction, signTransactionForLedger } from '../../src/signing/sign-transaction.js';
import { ed25519Spki, InvalidSignRequestError, MAX_MESSAGE_BYTES, type Signer, type SignerKind } from '../../src/signing/signer.port.js';

export interface SignerTarget {
  signer: Signer;
  cleanup(): Promise<void>;
}

const verifyNode = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) =>
  verify(null, msg, createPublicKey({ key: ed25519Spki(pub), format: 'der', type: 'spki' }), sig);

// A real-looking blockhash: any 32 bytes in base58.
const blockhash = () => bs58.encode(randomBytes(32));

export function signerContract(name: string, kind: SignerKind, open: () => Promise<SignerTarget>) {
  describe(`signer contract: ${name}`, () => {
    let target: SignerTarget;
    let signer: Signer;
    beforeAll(async () => {
      target = await open();
      signer = target.signer;
    });
    afterAll(async () => {
      await target?.cleanup();
    });

    it('names its kind and a key id', () => {
      expect(signer.kind).toBe(kind);
      expect(signer.keyId.length).toBeGreaterThan(0);
    });

    it('gives a 32-byte public key whose base58 form is a valid on-curve Solana address', async () => {
      const raw = await signer.publicKey();
      expect(raw).toBeInstanceOf(Uint8Array);
      expect(raw.length).toBe(32);
      const address = await signer.publicKeyBase58();
      const pk = new PublicKey(address);
      expect(pk.toBase58()).toBe(address);
      expect(Buffer.from(pk.toBytes())).toEqual(Buffer.from(raw));
      expect(PublicKey.isOnCurve(pk.toBytes())).toBe(true);
      // Stable across calls.
      expect(await signer.publicKeyBase58()).toBe(address);
    });

    it('makes 64-byte signatures that verify with the public key (node:crypto and @noble/curves)', async () => {
      const pub = await signer.publicKey();
      const msg = randomBytes(300);
      const sig = await signer.sign(msg);
      expect(sig.length).toBe(64);
      expect(verifyNode(pub, msg, sig)).toBe(true);
      expect(ed25519.verify(sig, msg, pub)).toBe(true);
    });

    it('signatures fail verification for a tampered message or a tampered signature', async () => {
      const pub = await signer.publicKey();
      const msg = Buffer.from('transfer 1000000 lamports to the treasury');
      const sig = await signer.sign(msg);
      const tampered = Buffer.from(msg);
      tampered[0]! ^= 0x01;
      expect(verifyNode(pub, tampered, sig)).toBe(false);
      expect(ed25519.verify(sig, tampered, pub)).toBe(false);
      const badSig = Uint8Array.from(sig);
      badSig[10]! ^= 0x80;
      expect(verifyNode(pub, msg, badSig)).toBe(false);
    });

    it('is deterministic (pure Ed25519, no prehash): the same message gives the same signature', async () => {
      const msg = randomBytes(64);
      expect(Buffer.from(await signer.sign(msg))).toEqual(Buffer.from(await signer.sign(msg)));
    });

    it('refuses empty, oversized and non-byte messages with InvalidSignRequestError', async () => {
      await expect(signer.sign(new Uint8Array(0))).rejects.toBeInstanceOf(InvalidSignRequestError);
      await expect(signer.sign(new Uint8Array(MAX_MESSAGE_BYTES + 1))).rejects.toBeInstanceOf(InvalidSignRequestError);
      await expect(signer.sign('hello' as unknown as Uint8Array)).rejects.toThrow(/bytes/);
      const max = randomBytes(MAX_MESSAGE_BYTES);
      expect(verifyNode(await signer.publicKey(), max, await signer.sign(max))).toBe(true);
    });

    it('signs a legacy web3.js Transaction (SystemProgram.transfer) that passes verifySignatures()', async () => {
      const from = new PublicKey(await signer.publicKeyBase58());
      const tx = new Transaction({ feePayer: from, recentBlockhash: blockhash() }).add(
        SystemProgram.transfer({ fromPubkey: from, toPubkey: Keypair.generate().publicKey, lamports: 1_000_000 }),
      );
      const sig = await signTransaction(signer, tx);
      expect(tx.verifySignatures()).toBe(true);
      expect(sig).toBe(bs58.encode(tx.signature!));
      expect(bs58.decode(sig).length).toBe(64);
      // The signature covers the message: changing the transfer breaks it.
      tx.instructions[0]!.data[4]! ^= 0x01;
      expect(tx.verifySignatures()).toBe(false);
    });

    it('co-signs a legacy Transaction with another signer (partial, then complete)', async () => {
      const payer = Keypair.generate();
      const from = new PublicKey(await signer.publicKeyBase58());
      const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash() }).add(
        SystemProgram.transfer({ fromPubkey: from, toPubkey: Keypair.generate().publicKey, lamports: 5n }),
      );
      await signTransaction(signer, tx);
      expect(tx.verifySignatures(true)).toBe(false); // payer's signature still missing
      expect(tx.verifySignatures(false)).toBe(true);
      tx.partialSign(payer);
      expect(tx.verifySignatures()).toBe(true);
    });

    it('signs a VersionedTransaction (v0) whose signature verifies', async () => {
      const from = new PublicKey(await signer.publicKeyBase58());
      const message = new TransactionMessage({
        payerKey: from,
        recentBlockhash: blockhash(),
        instructions: [SystemProgram.transfer({ fromPubkey: from, toPubkey: Keypair.generate().publicKey, lamports: 42 })],
      }).compileToV0Message();
      const vtx = new VersionedTransaction(message);
      const sig = await signTransaction(signer, vtx);
      expect(bs58.encode(vtx.signatures[0]!)).toBe(sig);
      expect(ed25519.verify(vtx.signatures[0]!, vtx.message.serialize(), from.toBytes())).toBe(true);
      // Round trip through the wire format keeps the signature.
      const back = VersionedTransaction.deserialize(vtx.serialize());
      expect(bs58.encode(back.signatures[0]!)).toBe(sig);
    });

    it('refuses to sign a transaction it is not a required signer of', async () => {
      const payer = Keypair.generate();
      const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash() }).add(
        SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 1 }),
      );
      await expect(signTransaction(signer, tx)).rejects.toThrow(/not a required signer/);
    });

    it('produces a TransactionSigned payload the event registry accepts, with no key material', async () => {
      const from = new PublicKey(await signer.publicKeyBase58());
      const tx = new Transaction({ feePayer: from, recentBlockhash: blockhash() }).add(
        SystemProgram.transfer({ fromPubkey: from, toPubkey: Keypair.generate().publicKey, lamports: 7 }),
      );
      const { signature, payload } = await signTransactionForLedger(signer, tx, 'opp-123');
      expect(payload).toEqual({
        opportunityId: 'opp-123',
        signature,
        signerPublicKey: from.toBase58(),
        keyId: signer.keyId,
        signerKind: kind,
        messageHash: createHash('sha256').update(tx.serializeMessage()).digest('hex'),
      });
      const registry = new EventTypeRegistry().register(...signingEvents);
      const ev = newEvent(TransactionSigned, payload, { correlationId: 'opp-123', causationId: null, actor: 'engine', tenant: 't' });
      expect(() => registry.validate(ev)).not.toThrow();
      expect(() => registry.validate({ ...ev, payload: { ...payload, privateKey: 'x' } })).toThrow(/privateKey is not a known field/);
    });
  });
}
