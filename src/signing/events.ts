// Events of the signing context. `TransactionSigned` says which key signed which message for
// which opportunity, so an auditor can check the signature against the recorded public key.
// It never carries key material: only the public key, the key's id and the signature.
import { createHash } from 'node:crypto';
import { defineEvent, type PayloadOf } from '../ledger/event-types.js';
import { obj, str } from '../ledger/schema.js';
import bs58 from 'bs58';
import type { Signer, SignerKind } from './signer.port.js';

const SIGNER_KINDS = ['aws-kms', 'keystore'] as const satisfies readonly SignerKind[];

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;

export const TransactionSigned = defineEvent({
  type: 'TransactionSigned',
  version: 1,
  payload: obj({
    opportunityId: str({ min: 1, max: 200 }),
    /** The 64-byte Ed25519 signature in base58 (a Solana transaction signature / id). */
    signature: str({ min: 64, max: 88, pattern: BASE58 }),
    /** The signer's Solana address (base58 of the 32-byte public key). */
    signerPublicKey: str({ min: 32, max: 44, pattern: BASE58 }),
    /** KMS key id/ARN or keystore id: which key, never the key itself. */
    keyId: str({ min: 1, max: 2048 }),
    signerKind: str({ oneOf: SIGNER_KINDS }),
    /** sha256 (hex) of the exact bytes that were signed (the serialized transaction message). */
    messageHash: str({ pattern: /^[0-9a-f]{64}$/ }),
  }),
});
export type TransactionSignedPayload = PayloadOf<typeof TransactionSigned>;

export const signingEvents = [TransactionSigned];

export function messageHash(message: Uint8Array): string {
  return createHash('sha256').update(message).digest('hex');
}

/** Builds the TransactionSigned payload for a signature the signer made over `message`. */
export async function transactionSignedPayload(
  signer: Signer,
  opportunityId: string,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<TransactionSignedPayload> {
  return {
    opportunityId,
    signature: bs58.encode(signature),
    signerPublicKey: await signer.publicKeyBase58(),
    keyId: signer.keyId,
    signerKind: signer.kind,
    messageHash: messageHash(message),
  };
}
