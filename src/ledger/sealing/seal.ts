// Seals: a signed statement "the global hash chain stood at (position, hash)". A seal is appended
// to the log as `LedgerSealed`, and the same (position, hash) can be kept outside the database
// (`arbiter digest`) or anchored on Solana as a memo. Anyone holding one can later prove the log
// still extends it: nothing at or before that position was changed, removed or reordered, because
// the global chain at that position would differ (docs/decisions/0007-tamper-evidence.md).
// The signature is Ed25519 over `sealMessage(...)`, made through the Signer port with a key of
// its own (SEAL_* settings), so a database writer cannot forge one.
import { verify as cryptoVerify } from 'node:crypto';
import type { z } from 'zod';
import { defineEvent, type PayloadOf } from '../event-types.js';
import { obj, optional, schemaProblems, str, isoTime } from '../schema.js';
import bs58 from 'bs58';

/** The stream seals are appended to. */
export const SEAL_STREAM = 'ledger-seals';

/** SPKI DER prefix of an Ed25519 public key (RFC 8410), so node:crypto can verify with a raw key. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ed25519Spki = (raw: Uint8Array) => Buffer.concat([ED25519_SPKI_PREFIX, raw]);

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;
const HEX64 = /^[0-9a-f]{64}$/;
const POSITION = /^(0|[1-9]\d{0,19})$/;

const sealAnchorSchema = obj({
  /** Where the seal was anchored: a Solana memo transaction. */
  chain: str({ oneOf: ['solana'] }),
  /** The transaction signature (its id) in base58. */
  transaction: str({ min: 64, max: 88, pattern: BASE58 }),
  /** The memo text written on chain (sealMemo). */
  memo: str({ min: 1, max: 566 }),
});
export type SealAnchor = z.output<typeof sealAnchorSchema>;

export const LedgerSealed = defineEvent({
  type: 'LedgerSealed',
  version: 1,
  payload: obj({
    /** Global position of the newest event the seal covers (integer string). */
    position: str({ pattern: POSITION }),
    /** The global chain's log hash at that position. */
    hash: str({ pattern: HEX64 }),
    sealedAt: isoTime(),
    /** The seal signer's key id (KMS key or keystore id): its own, not the trading key. */
    keyId: str({ min: 1, max: 2048 }),
    signerKind: str({ oneOf: ['aws-kms', 'keystore'] }),
    /** The seal signer's Ed25519 public key, base58. */
    publicKey: str({ min: 32, max: 44, pattern: BASE58 }),
    /** Ed25519 signature over sealMessage(position, hash, sealedAt), base58. */
    signature: str({ min: 64, max: 88, pattern: BASE58 }),
    /** Absent or null when the seal was not anchored. */
    anchor: optional(sealAnchorSchema.nullable()),
  }),
});
export type LedgerSealedPayload = PayloadOf<typeof LedgerSealed>;

export const sealingEvents = [LedgerSealed];

/** The exact bytes a seal signs. Versioned, so the format can change without ambiguity. */
export function sealMessage(position: bigint | string, hash: string, sealedAt: string): Uint8Array {
  return Buffer.from(`arbiter-ledger-seal:v1:${position}:${hash}:${sealedAt}`, 'utf8');
}

/** The memo an anchor writes on chain: enough to find the seal and compare its hash. */
export function sealMemo(position: bigint | string, hash: string): string {
  return `arbiter-seal:v1:${position}:${hash}`;
}

/** Null when the seal's signature verifies with its public key, else why not. */
export function sealSignatureProblem(p: LedgerSealedPayload): string | null {
  let key: Uint8Array;
  let signature: Uint8Array;
  try {
    key = bs58.decode(p.publicKey);
    signature = bs58.decode(p.signature);
  } catch {
    return 'its public key or signature is not base58';
  }
  if (key.length !== 32 || signature.length !== 64) return 'its public key or signature has the wrong length';
  let ok = false;
  try {
    ok = cryptoVerify(null, sealMessage(p.position, p.hash, p.sealedAt), { key: ed25519Spki(key), format: 'der', type: 'spki' }, signature);
  } catch {
    ok = false;
  }
  return ok ? null : `its signature does not verify with public key ${p.publicKey}`;
}

/**
 * What an auditor keeps: the latest seal, as `arbiter digest` prints it (one JSON object).
 * `verify --digest FILE` reads it back and checks the log still extends it.
 */
export interface SealDigest {
  format: 'arbiter-seal-digest/1';
  /** Global position of the LedgerSealed event itself. */
  sealEventPosition: string;
  sealEventId: string;
  seal: LedgerSealedPayload;
}

export function toDigest(sealEventPosition: bigint, sealEventId: string, seal: LedgerSealedPayload): SealDigest {
  return { format: 'arbiter-seal-digest/1', sealEventPosition: sealEventPosition.toString(), sealEventId, seal };
}

/** Parses and checks a digest file's text; throws an Error saying what is wrong. */
export function parseDigest(text: string): SealDigest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the digest is not JSON (expected the output of `arbiter digest`)');
  }
  const d = value as Partial<SealDigest> | null;
  if (!d || typeof d !== 'object' || d.format !== 'arbiter-seal-digest/1') {
    throw new Error('the digest has no "format": "arbiter-seal-digest/1" (expected the output of `arbiter digest`)');
  }
  if (typeof d.sealEventPosition !== 'string' || !POSITION.test(d.sealEventPosition) || typeof d.sealEventId !== 'string') {
    throw new Error('the digest needs sealEventPosition (integer string) and sealEventId');
  }
  const problems: string[] = [];
  schemaProblems(LedgerSealed.payload, d.seal, 'seal', problems);
  if (problems.length) throw new Error(`the digest's seal is invalid: ${problems.join('; ')}`);
  const why = sealSignatureProblem(d.seal!);
  if (why) throw new Error(`the digest's seal is not genuine: ${why}`);
  return d as SealDigest;
}
