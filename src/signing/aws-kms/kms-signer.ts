// The production signer: an Ed25519 key inside AWS KMS (KeySpec ECC_NIST_EDWARDS25519). KMS
// signs with ED25519_SHA_512 over the RAW message, which is plain RFC 8032 Ed25519 — exactly
// what Solana verifies — and the private key never leaves KMS. Every SDK failure is mapped to
// SignerConfigError (an operator must fix something) or SignerUnavailableError (try later), and
// every answer is parsed against its declaration (kms-answers.ts) before anything uses it.
import {
  GetPublicKeyCommand,
  KMSClient,
  MessageType,
  SignCommand,
  SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import bs58 from 'bs58';
import {
  checkSignRequest,
  ED25519_SPKI_PREFIX,
  ed25519Spki,
  SignerConfigError,
  SignerUnavailableError,
  type Signer,
  type SignerError,
} from '../signer.port.js';
import { checkAnswer, getPublicKeyAnswer, signAnswer, type AnswerCheck } from './kms-answers.js';

export interface KmsSignerOptions {
  /** Key id, key ARN, alias name (alias/…) or alias ARN. */
  keyId: string;
  region: string;
  /** Another KMS endpoint (VPC endpoint, FIPS endpoint, a local stand-in). */
  endpoint?: string;
  /** Static credentials; absent = the SDK's default chain (env, profile, instance role…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** SDK attempts per call including the first (default 3). */
  maxAttempts?: number;
  /** Gives up on a connection or a reply after this long (default 5000 ms). */
  requestTimeoutMs?: number;
}

interface PublicKeyInfo {
  raw: Uint8Array;
  address: string;
  verifier: KeyObject;
}

export class KmsSigner implements Signer {
  readonly kind = 'aws-kms' as const;
  readonly keyId: string;
  private readonly client: KMSClient;
  private readonly ownsClient: boolean;
  private readonly where: string;
  private cached: Promise<PublicKeyInfo> | null = null;

  constructor(opts: KmsSignerOptions | { keyId: string; client: KMSClient }) {
    if (typeof opts?.keyId !== 'string' || opts.keyId.trim() === '') {
      throw new SignerConfigError('MISSING_CONFIG', 'KMS signer needs a key id (KMS_KEY_ID)');
    }
    this.keyId = opts.keyId.trim();
    if ('client' in opts) {
      this.client = opts.client;
      this.ownsClient = false;
      this.where = 'KMS';
    } else {
      if (typeof opts.region !== 'string' || opts.region.trim() === '') {
        throw new SignerConfigError('MISSING_CONFIG', 'KMS signer needs a region (AWS_REGION)');
      }
      const timeout = opts.requestTimeoutMs ?? 5000;
      this.client = new KMSClient({
        region: opts.region,
        endpoint: opts.endpoint,
        credentials: opts.credentials,
        maxAttempts: opts.maxAttempts ?? 3,
        requestHandler: { connectionTimeout: timeout, requestTimeout: timeout },
      });
      this.ownsClient = true;
      this.where = `KMS (${opts.endpoint ?? opts.region})`;
    }
  }

  async publicKey(): Promise<Uint8Array> {
    return new Uint8Array((await this.info()).raw);
  }

  async publicKeyBase58(): Promise<string> {
    return (await this.info()).address;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    checkSignRequest(message);
    // The public key (cached after the first call) lets every signature be checked before use.
    const key = await this.info();
    let reply;
    try {
      reply = await this.client.send(
        new SignCommand({
          KeyId: this.keyId,
          Message: message,
          MessageType: MessageType.RAW,
          SigningAlgorithm: SigningAlgorithmSpec.ED25519_SHA_512,
        }),
      );
    } catch (err) {
      throw this.mapError(err, 'Sign');
    }
    const answer = checkAnswer(signAnswer, reply);
    if (!answer.ok) throw this.badAnswer('Sign', answer);
    const sig = answer.value.Signature;
    if (!cryptoVerify(null, message, key.verifier, sig)) {
      throw new SignerUnavailableError(
        'BAD_UPSTREAM_RESPONSE',
        `${this.where} returned a signature that does not verify with key ${this.keyId}'s public key ${key.address}`,
      );
    }
    return new Uint8Array(sig);
  }

  /** Closes the SDK's connections (only when this signer created the client). */
  destroy(): void {
    if (this.ownsClient) this.client.destroy();
  }

  private info(): Promise<PublicKeyInfo> {
    if (!this.cached) {
      this.cached = this.fetchPublicKey();
      // A failed lookup is not cached: KMS may be back, or the operator may have fixed the key.
      this.cached.catch(() => {
        this.cached = null;
      });
    }
    return this.cached;
  }

  private async fetchPublicKey(): Promise<PublicKeyInfo> {
    let reply;
    try {
      reply = await this.client.send(new GetPublicKeyCommand({ KeyId: this.keyId }));
    } catch (err) {
      throw this.mapError(err, 'GetPublicKey');
    }
    const answer = checkAnswer(getPublicKeyAnswer, reply);
    if (!answer.ok) throw this.badAnswer('GetPublicKey', answer);
    const der = answer.value.PublicKey;
    const raw = der.slice(ED25519_SPKI_PREFIX.length);
    return { raw, address: bs58.encode(raw), verifier: createPublicKey({ key: ed25519Spki(raw), format: 'der', type: 'spki' }) };
  }

  /** A KMS answer with wrong fields: the key's fault (operator) or the reply's (try again). */
  private badAnswer(op: string, answer: Extract<AnswerCheck<unknown>, { ok: false }>): SignerError {
    const key = `KMS key ${this.keyId}`;
    if (answer.keyProblems.length) {
      return new SignerConfigError(
        'WRONG_KEY_SPEC',
        `${key} cannot sign for Solana (it needs an Ed25519 SIGN_VERIFY key): ${[...answer.keyProblems, ...answer.replyProblems].join('; ')}`,
      );
    }
    return new SignerUnavailableError('BAD_UPSTREAM_RESPONSE', `${this.where} sent a wrong ${op} answer for ${key}: ${answer.replyProblems.join('; ')}`);
  }

  private mapError(err: unknown, op: string): SignerError {
    const e = err as { name?: string; message?: string; code?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
    const name = e?.name ?? 'Error';
    // The SDK's messages can run to several lines of advice; the first says what happened.
    const detail = (e?.message ?? String(err)).split('\n')[0]!.slice(0, 300);
    const key = `KMS key ${this.keyId}`;
    const cause = { cause: err };
    switch (name) {
      case 'NotFoundException':
        return new SignerConfigError('KEY_NOT_FOUND', `${key} was not found by ${this.where}; check KMS_KEY_ID and AWS_REGION`, cause);
      case 'AccessDeniedException':
        return new SignerConfigError('ACCESS_DENIED', `${op} on ${key} was denied; grant kms:${op} on it to this identity (${detail})`, cause);
      case 'UnrecognizedClientException':
      case 'InvalidSignatureException':
      case 'IncompleteSignatureException':
      case 'ExpiredTokenException':
      case 'InvalidClientTokenId':
        return new SignerConfigError('ACCESS_DENIED', `${this.where} rejected the AWS credentials (${name}); check them`, cause);
      case 'CredentialsProviderError':
        return new SignerConfigError(
          'MISSING_CONFIG',
          'no AWS credentials found for KMS: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or an instance role',
          cause,
        );
      case 'InvalidKeyUsageException':
        return new SignerConfigError('WRONG_KEY_SPEC', `${key} cannot ${op} with ED25519_SHA_512: it must be an ECC_NIST_EDWARDS25519 SIGN_VERIFY key`, cause);
      case 'DisabledException':
        return new SignerUnavailableError('KEY_DISABLED', `${key} is disabled; enable it in KMS to sign again`, cause);
      case 'KMSInvalidStateException':
        return new SignerUnavailableError('KEY_DISABLED', `${key} cannot be used in its current state (${detail})`, cause);
      case 'KeyUnavailableException':
      case 'DependencyTimeoutException':
      case 'KMSInternalException':
        return new SignerUnavailableError('UPSTREAM_ERROR', `${this.where} could not ${op} with ${key} right now (${name}); try again`, cause);
      case 'ThrottlingException':
      case 'LimitExceededException':
        return new SignerUnavailableError('THROTTLED', `${this.where} throttled ${op} on ${key}; slow down and retry`, cause);
    }
    const status = e?.$metadata?.httpStatusCode;
    if (status === undefined || e?.code !== undefined || name === 'TimeoutError' || name === 'AbortError') {
      // No HTTP reply at all: refused, reset, timed out, name not resolved.
      const why = e?.code ?? name;
      return new SignerUnavailableError('UNREACHABLE', `${this.where} is unreachable for ${op} (${why}: ${detail})`, cause);
    }
    if (status < 300) {
      return new SignerUnavailableError('BAD_UPSTREAM_RESPONSE', `${this.where} sent an unreadable ${op} reply for ${key} (${name}: ${detail})`, cause);
    }
    if (status >= 500 || e?.$fault === 'server') {
      return new SignerUnavailableError('UPSTREAM_ERROR', `${this.where} failed ${op} on ${key} with HTTP ${status} (${name})`, cause);
    }
    return new SignerConfigError('INVALID_CONFIG', `${this.where} rejected ${op} on ${key}: ${name}: ${detail}`, cause);
  }

  toJSON(): Record<string, string> {
    return { kind: this.kind, keyId: this.keyId, where: this.where };
  }
}
