// The signing port: everything that needs an Ed25519 signature (Solana transactions) asks a
// Signer, never a key. Adapters keep the private key where it lives: inside AWS KMS
// (aws-kms/) or inside an encrypted keystore file (keystore/). Nothing here exposes key material.

export const SIGNER = Symbol('SIGNER');

export type SignerKind = 'aws-kms' | 'keystore';

export interface Signer {
  readonly kind: SignerKind;
  /** Where the key lives: a KMS key id/ARN, or the keystore's own id. Safe to log and record. */
  readonly keyId: string;
  /** The raw 32-byte Ed25519 public key. */
  publicKey(): Promise<Uint8Array>;
  /** The public key as a Solana address (base58). */
  publicKeyBase58(): Promise<string>;
  /** A 64-byte Ed25519 signature (RFC 8032, pure, no prehash) over `message`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Why a signer failed, for callers that react differently (pause, alert, retry). */
export type SignerErrorReason =
  | 'MISSING_CONFIG'
  | 'INVALID_CONFIG'
  | 'KEY_NOT_FOUND'
  | 'WRONG_KEY_SPEC'
  | 'ACCESS_DENIED'
  | 'KEY_DISABLED'
  | 'UNREACHABLE'
  | 'THROTTLED'
  | 'UPSTREAM_ERROR'
  | 'BAD_UPSTREAM_RESPONSE'
  | 'KEYSTORE_MISSING'
  | 'KEYSTORE_EXISTS'
  | 'KEYSTORE_INVALID'
  | 'KEYSTORE_LOCKED'
  | 'INVALID_INPUT';

export abstract class SignerError extends Error {
  abstract readonly code: string;
  constructor(
    readonly reason: SignerErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The signer cannot sign right now, though its configuration may be right: KMS unreachable,
 * throttled, key disabled or pending deletion, a bad upstream reply. Retrying later may work.
 */
export class SignerUnavailableError extends SignerError {
  readonly code = 'SIGNER_UNAVAILABLE';
  constructor(reason: SignerErrorReason, message: string, options?: { cause?: unknown }) {
    super(reason, message, options);
    this.name = 'SignerUnavailableError';
  }
}

/**
 * The signer is configured wrongly and will not work until an operator fixes it: missing
 * settings, unknown key, wrong key spec, access denied, wrong keystore passphrase.
 */
export class SignerConfigError extends SignerError {
  readonly code = 'SIGNER_CONFIG';
  constructor(reason: SignerErrorReason, message: string, options?: { cause?: unknown }) {
    super(reason, message, options);
    this.name = 'SignerConfigError';
  }
}

/** The SPKI DER prefix of an Ed25519 public key (RFC 8410): 12 bytes, then the 32-byte key. */
export const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

/** Wraps a raw 32-byte Ed25519 public key as SPKI DER, the form node:crypto verifies with. */
export function ed25519Spki(raw: Uint8Array): Buffer {
  if (raw.length !== 32) throw new Error(`an Ed25519 public key has 32 bytes, not ${raw.length}`);
  return Buffer.concat([ED25519_SPKI_PREFIX, raw]);
}

/** The caller asked for something no signer will do (empty or oversized message, not bytes). */
export class InvalidSignRequestError extends SignerError {
  readonly code = 'INVALID_SIGN_REQUEST';
  constructor(message: string) {
    super('INVALID_INPUT', message);
    this.name = 'InvalidSignRequestError';
  }
}

/**
 * KMS signs RAW messages of at most 4096 bytes; every adapter holds the same limit so that
 * switching adapters never changes what can be signed. A Solana transaction message is ≤ 1232.
 */
export const MAX_MESSAGE_BYTES = 4096;

export function checkSignRequest(message: unknown): asserts message is Uint8Array {
  if (!(message instanceof Uint8Array)) {
    throw new InvalidSignRequestError('sign() takes the message as bytes (Uint8Array or Buffer)');
  }
  if (message.length === 0) throw new InvalidSignRequestError('refusing to sign an empty message');
  if (message.length > MAX_MESSAGE_BYTES) {
    throw new InvalidSignRequestError(`message has ${message.length} bytes; a signer signs at most ${MAX_MESSAGE_BYTES}`);
  }
}
