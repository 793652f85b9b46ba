// Transaction plumbing both venues share (@solana/web3.js 1.x): building the stand-in route
// transaction, turning a VersionedTransaction into a PreparedTransaction, attaching the signer's
// signature, reading the priority fee back out of a message, and checking an Ed25519 signature.
import { createPublicKey, verify } from 'node:crypto';
import {
  ComputeBudgetProgram,
  PublicKey,
  SystemProgram,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
  type VersionedMessage,
} from '@solana/web3.js';
import { createTransferInstruction, getAssociatedTokenAddressSync } from '@solana/spl-token';
import bs58 from 'bs58';
import { VenueError } from './errors.js';
import type { PreparedTransaction, TradeIntent, VenueName } from './venue.port.js';

/** Wrapped SOL: trades in "SOL" are quoted with this mint, settled in lamports. */
export const NATIVE_MINT = 'So11111111111111111111111111111111111111112';
export const MEMO_PROGRAM_ID = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
const COMPUTE_BUDGET_PROGRAM_ID = ComputeBudgetProgram.programId;
/** Solana's base fee per signature, in lamports. */
export const LAMPORTS_PER_SIGNATURE = 5000n;

export function publicKeyOf(text: string, what: string): PublicKey {
  try {
    return new PublicKey(text);
  } catch {
    throw new VenueError('INVALID_REQUEST', `${what} "${text}" is not a Solana address (base58 of 32 bytes)`);
  }
}

export function checkIntent(intent: TradeIntent): void {
  if (typeof intent.opportunityId !== 'string' || intent.opportunityId.length === 0) {
    throw new VenueError('INVALID_REQUEST', 'opportunityId is required');
  }
  publicKeyOf(intent.inputMint, 'inputMint');
  publicKeyOf(intent.outputMint, 'outputMint');
  if (typeof intent.inAmount !== 'bigint' || intent.inAmount <= 0n) {
    throw new VenueError('INVALID_REQUEST', `inAmount must be a bigint > 0 base units (got ${String(intent.inAmount)})`);
  }
  if (typeof intent.expectedOut !== 'bigint' || intent.expectedOut < 0n) {
    throw new VenueError('INVALID_REQUEST', `expectedOut must be a bigint ≥ 0 base units (got ${String(intent.expectedOut)})`);
  }
}

export function signerKeyOf(raw: Uint8Array): PublicKey {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) {
    throw new VenueError('INVALID_REQUEST', `the signer public key must be 32 bytes (got ${raw instanceof Uint8Array ? raw.length : typeof raw})`);
  }
  return new PublicKey(raw);
}

/**
 * The transaction a venue sends when no Jupiter swap transaction came with the intent. It is a
 * real, signable transaction with the route's economics on the input side only: compute budget
 * (limit + priority fee), a memo naming the opportunity (so two trades of the same size in the
 * same blockhash are different transactions, not one deduplicated signature), and a transfer
 * of inAmount of the input mint to `settlement` (lamports for SOL, an SPL Token transfer between
 * associated token accounts otherwise; Token-2022 mints are not covered). With no settlement
 * address the transfer goes to the signer itself and moves nothing. Real routes are the swap
 * transactions Jupiter's POST /swap builds: pass them as `swapTransactionBase64`.
 */
export function buildRouteTransaction(args: {
  intent: TradeIntent;
  payer: PublicKey;
  blockhash: string;
  priorityFeeMicroLamports: bigint;
  computeUnitLimit: number;
  settlement?: PublicKey;
}): VersionedTransaction {
  const { intent, payer, blockhash } = args;
  const to = args.settlement ?? payer;
  const transfer =
    intent.inputMint === NATIVE_MINT
      ? SystemProgram.transfer({ fromPubkey: payer, toPubkey: to, lamports: intent.inAmount })
      : (() => {
          const mint = publicKeyOf(intent.inputMint, 'inputMint');
          return createTransferInstruction(
            getAssociatedTokenAddressSync(mint, payer, true),
            getAssociatedTokenAddressSync(mint, to, true),
            payer,
            intent.inAmount,
          );
        })();
  const message = new TransactionMessage({
    payerKey: payer,
    recentBlockhash: blockhash,
    instructions: [
      ComputeBudgetProgram.setComputeUnitLimit({ units: args.computeUnitLimit }),
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: args.priorityFeeMicroLamports }),
      new TransactionInstruction({
        programId: MEMO_PROGRAM_ID,
        keys: [],
        data: Buffer.from(`arbiter:${intent.opportunityId}`, 'utf8'), // the same text as solana/round-trip.ts tradeMemo
      }),
      transfer,
    ],
  }).compileToV0Message();
  return new VersionedTransaction(message);
}

/** Decodes Jupiter's base64 swap transaction and checks that `payer` alone can sign it. */
export function decodeSwapTransaction(base64: string, payer: PublicKey): VersionedTransaction {
  let tx: VersionedTransaction;
  try {
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.length === 0) throw new Error('empty');
    tx = VersionedTransaction.deserialize(bytes);
  } catch (err) {
    throw new VenueError('INVALID_REQUEST', `swapTransactionBase64 is not a serialized Solana transaction: ${(err as Error).message}`, { cause: err });
  }
  const m = tx.message;
  const feePayer = m.staticAccountKeys[0];
  if (!feePayer?.equals(payer)) {
    throw new VenueError(
      'INVALID_REQUEST',
      `the swap transaction is paid for by ${feePayer?.toBase58() ?? 'nobody'}, not by the signer ${payer.toBase58()}: ask Jupiter /swap with userPublicKey = the signer`,
    );
  }
  if (m.header.numRequiredSignatures !== 1) {
    throw new VenueError('INVALID_REQUEST', `the swap transaction needs ${m.header.numRequiredSignatures} signatures; this venue signs with one key only`);
  }
  return tx;
}

/** The compute unit price (micro-lamports) a message sets, or 0 when it sets none. */
export function computeUnitPriceOf(message: VersionedMessage): bigint {
  for (const ix of message.compiledInstructions) {
    const program = message.staticAccountKeys[ix.programIdIndex];
    // SetComputeUnitPrice is instruction 3 followed by a little-endian u64.
    if (program?.equals(COMPUTE_BUDGET_PROGRAM_ID) && ix.data[0] === 3 && ix.data.length >= 9) {
      return Buffer.from(ix.data).readBigUInt64LE(1);
    }
  }
  return 0n;
}

/** The compute unit limit a message sets, or null when it sets none (the runtime's default then applies). */
export function computeUnitLimitOf(message: VersionedMessage): bigint | null {
  for (const ix of message.compiledInstructions) {
    const program = message.staticAccountKeys[ix.programIdIndex];
    if (program?.equals(COMPUTE_BUDGET_PROGRAM_ID) && ix.data[0] === 2 && ix.data.length >= 5) {
      return BigInt(Buffer.from(ix.data).readUInt32LE(1));
    }
  }
  return null;
}

export function toPrepared(
  venue: VenueName,
  intent: TradeIntent,
  tx: VersionedTransaction,
  lastValidBlockHeight: bigint,
): PreparedTransaction {
  // A fresh VersionedTransaction has zeroed signature slots: the bytes to keep are unsigned.
  const unsigned = new VersionedTransaction(tx.message);
  return {
    venue,
    opportunityId: intent.opportunityId,
    inputMint: intent.inputMint,
    outputMint: intent.outputMint,
    inAmount: intent.inAmount,
    expectedOut: intent.expectedOut,
    signerPublicKey: tx.message.staticAccountKeys[0]!.toBase58(),
    unsignedTx: Buffer.from(unsigned.serialize()).toString('base64'),
    messageBytes: tx.message.serialize(),
    blockhash: tx.message.recentBlockhash,
    lastValidBlockHeight,
    priorityFeeMicroLamports: computeUnitPriceOf(tx.message),
  };
}

/**
 * Puts the signer's signature into the prepared transaction. Refuses a prepared transaction
 * whose messageBytes no longer match its unsignedTx: the signature is over messageBytes, and
 * sending other bytes under it would fail on chain for a reason nobody could see.
 */
export function attachSignature(
  prepared: PreparedTransaction,
  signature: Uint8Array,
): { tx: VersionedTransaction; signature: string } {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) {
    throw new VenueError('INVALID_REQUEST', `an Ed25519 signature has 64 bytes (got ${signature instanceof Uint8Array ? signature.length : typeof signature})`);
  }
  let tx: VersionedTransaction;
  try {
    tx = VersionedTransaction.deserialize(Buffer.from(prepared.unsignedTx, 'base64'));
  } catch (err) {
    throw new VenueError('INVALID_REQUEST', `prepared.unsignedTx is not a serialized transaction: ${(err as Error).message}`, { cause: err });
  }
  if (!Buffer.from(tx.message.serialize()).equals(Buffer.from(prepared.messageBytes))) {
    throw new VenueError('INVALID_REQUEST', 'prepared.messageBytes does not match prepared.unsignedTx: prepare the transaction again');
  }
  const signerIndex = tx.message.staticAccountKeys
    .slice(0, tx.message.header.numRequiredSignatures)
    .findIndex((k) => k.toBase58() === prepared.signerPublicKey);
  if (signerIndex < 0) {
    throw new VenueError('INVALID_REQUEST', `${prepared.signerPublicKey} is not a signer of the prepared transaction`);
  }
  tx.signatures[signerIndex] = Uint8Array.from(signature);
  return { tx, signature: bs58.encode(signature) };
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** True when `signature` is a valid Ed25519 signature of `message` by the 32-byte `publicKey`. */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** Priority fee in lamports: price (µ-lamports per CU) × CU limit, rounded up as the runtime does. */
export function priorityFeeLamports(microLamportsPerCu: bigint, computeUnitLimit: bigint): bigint {
  return (microLamportsPerCu * computeUnitLimit + 999_999n) / 1_000_000n;
}
