// Signs a @solana/web3.js 1.x transaction (legacy or versioned) through the Signer port: the
// serialized message goes to the signer, the signature is attached to the transaction. The
// signer must be one of the transaction's required signers.
import { PublicKey, Transaction, VersionedTransaction } from '@solana/web3.js';
import bs58 from 'bs58';
import { transactionSignedPayload, type TransactionSignedPayload } from './events.js';
import { InvalidSignRequestError, type Signer } from './signer.port.js';

export interface SignedTransaction {
  /** The base58 signature, which is also the transaction's id once it lands. */
  signature: string;
  /** The exact bytes that were signed. */
  message: Uint8Array;
  signatureBytes: Uint8Array;
}

/** The bytes a signer of `tx` signs. */
export function transactionMessage(tx: Transaction | VersionedTransaction): Uint8Array {
  if (tx instanceof VersionedTransaction) return tx.message.serialize();
  if (tx instanceof Transaction) {
    if (!tx.recentBlockhash) throw new InvalidSignRequestError('the transaction has no recent blockhash; set it before signing');
    if (!tx.feePayer && tx.signatures.length === 0) {
      throw new InvalidSignRequestError('the transaction has no fee payer; set feePayer before signing');
    }
    return tx.serializeMessage();
  }
  throw new InvalidSignRequestError('expected a @solana/web3.js Transaction or VersionedTransaction');
}

/** Signs and attaches the signature; returns the details an event needs. */
export async function signTransactionDetailed(signer: Signer, tx: Transaction | VersionedTransaction): Promise<SignedTransaction> {
  const pubkey = new PublicKey(await signer.publicKey());
  const message = transactionMessage(tx);
  const required =
    tx instanceof VersionedTransaction
      ? tx.message.staticAccountKeys.slice(0, tx.message.header.numRequiredSignatures)
      : tx.signatures.map((s) => s.publicKey);
  if (!required.some((k) => k.equals(pubkey))) {
    throw new InvalidSignRequestError(
      `signer ${pubkey.toBase58()} (${signer.keyId}) is not a required signer of this transaction ` +
        `(required: ${required.map((k) => k.toBase58()).join(', ') || 'none'})`,
    );
  }
  const sig = await signer.sign(message);
  tx.addSignature(pubkey, Buffer.from(sig));
  return { signature: bs58.encode(sig), message, signatureBytes: sig };
}

/** Signs `tx` with `signer`, attaches the signature and returns it in base58. */
export async function signTransaction(signer: Signer, tx: Transaction | VersionedTransaction): Promise<string> {
  return (await signTransactionDetailed(signer, tx)).signature;
}

/** Signs `tx` and returns the signature with the TransactionSigned payload to append. */
export async function signTransactionForLedger(
  signer: Signer,
  tx: Transaction | VersionedTransaction,
  opportunityId: string,
): Promise<{ signature: string; payload: TransactionSignedPayload }> {
  const signed = await signTransactionDetailed(signer, tx);
  const payload = await transactionSignedPayload(signer, opportunityId, signed.message, signed.signatureBytes);
  return { signature: signed.signature, payload };
}
