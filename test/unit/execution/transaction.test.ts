import { describe, expect, it } from 'vitest';
import { ComputeBudgetProgram, PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import {
  buildRouteTransaction,
  computeUnitLimitOf,
  computeUnitPriceOf,
  decodeSwapTransaction,
  NATIVE_MINT,
  priorityFeeLamports,
  verifyEd25519,
} from '../../../src/execution/transaction.js';
import { testSigner } from '../../contract/venue.contract.js';

const blockhash = PublicKey.unique().toBase58();

describe('transaction helpers', () => {
  it('reads compute unit price and limit back from a message', () => {
    const payer = PublicKey.unique();
    const tx = buildRouteTransaction({
      intent: { opportunityId: 'o', inputMint: NATIVE_MINT, outputMint: NATIVE_MINT, inAmount: 5n, expectedOut: 5n },
      payer,
      blockhash,
      priorityFeeMicroLamports: 123_456n,
      computeUnitLimit: 250_000,
    });
    expect(computeUnitPriceOf(tx.message)).toBe(123_456n);
    expect(computeUnitLimitOf(tx.message)).toBe(250_000n);
    const bare = new TransactionMessage({ payerKey: payer, recentBlockhash: blockhash, instructions: [] }).compileToV0Message();
    expect(computeUnitPriceOf(bare)).toBe(0n);
    expect(computeUnitLimitOf(bare)).toBeNull();
  });

  it('makes two opportunities of the same size different transactions (memo)', () => {
    const payer = PublicKey.unique();
    const mk = (opportunityId: string) =>
      buildRouteTransaction({ intent: { opportunityId, inputMint: NATIVE_MINT, outputMint: NATIVE_MINT, inAmount: 5n, expectedOut: 5n }, payer, blockhash, priorityFeeMicroLamports: 1n, computeUnitLimit: 1 });
    expect(Buffer.from(mk('a').message.serialize()).equals(Buffer.from(mk('b').message.serialize()))).toBe(false);
  });

  it('priority fee rounds up like the runtime', () => {
    expect(priorityFeeLamports(1000n, 200_000n)).toBe(200n);
    expect(priorityFeeLamports(1n, 1n)).toBe(1n);
    expect(priorityFeeLamports(0n, 1_400_000n)).toBe(0n);
  });

  it('accepts a swap transaction only when the signer alone pays and signs', () => {
    const payer = PublicKey.unique();
    const other = PublicKey.unique();
    const enc = (keys: PublicKey[]) =>
      Buffer.from(
        new VersionedTransaction(
          new TransactionMessage({
            payerKey: keys[0]!,
            recentBlockhash: blockhash,
            instructions: [
              ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 1 }),
              ...keys.slice(1).map((k) => ({ ...ComputeBudgetProgram.setComputeUnitLimit({ units: 1 }), keys: [{ pubkey: k, isSigner: true, isWritable: false }] })),
            ],
          }).compileToV0Message(),
        ).serialize(),
      ).toString('base64');
    expect(decodeSwapTransaction(enc([payer]), payer).message.staticAccountKeys[0]!.equals(payer)).toBe(true);
    expect(() => decodeSwapTransaction(enc([other]), payer)).toThrow(/paid for by/);
    expect(() => decodeSwapTransaction(enc([payer, other]), payer)).toThrow(/needs 2 signatures/);
    expect(() => decodeSwapTransaction('', payer)).toThrow(/not a serialized Solana transaction/);
  });

  it('verifies Ed25519 signatures with node:crypto', () => {
    const s = testSigner();
    const msg = Buffer.from('hello');
    const sig = s.sign(msg);
    expect(verifyEd25519(s.publicKey, msg, sig)).toBe(true);
    sig[63]! ^= 1;
    expect(verifyEd25519(s.publicKey, msg, sig)).toBe(false);
    expect(verifyEd25519(s.publicKey, msg, new Uint8Array(3))).toBe(false);
  });
});
