// The KMS signer through the real @aws-sdk/client-kms, against the local stand-in that speaks
// KMS's JSON protocol: the Signer contract, the wire requests the SDK makes, and how every
// KMS failure (unknown key, disabled, denied, wrong key spec, 500s, garbage, server down)
// becomes a typed error.
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsSigner } from '../../../src/signing/aws-kms/kms-signer.js';
import { SignerConfigError, SignerUnavailableError, type SignerError } from '../../../src/signing/signer.port.js';
import { signerContract } from '../../contract/signer.contract.js';
import { KmsStandIn } from '../../stand-ins/kms-server.js';

const credentials = { accessKeyId: 'AKIDSTANDIN', secretAccessKey: 'stand-in-secret' };

signerContract('AWS KMS (stand-in)', 'aws-kms', async () => {
  const kms = new KmsStandIn();
  const endpoint = await kms.start();
  const key = kms.createKey();
  const signer = new KmsSigner({ keyId: key.keyId, region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
  return {
    signer,
    cleanup: async () => {
      signer.destroy();
      await kms.stop();
    },
  };
});

describe('KMS signer against the stand-in', () => {
  const kms = new KmsStandIn();
  let endpoint: string;
  beforeAll(async () => {
    endpoint = await kms.start();
  });
  afterAll(async () => {
    await kms.stop();
  });
  const signerFor = (keyId: string, extra: { maxAttempts?: number } = {}) =>
    new KmsSigner({ keyId, region: 'us-east-1', endpoint, credentials, maxAttempts: extra.maxAttempts ?? 1 });
  const errorOf = async (p: Promise<unknown>): Promise<SignerError> => {
    try {
      await p;
    } catch (e) {
      return e as SignerError;
    }
    throw new Error('expected a rejection');
  };

  it('sends SigV4-signed KMS JSON 1.1 requests: GetPublicKey once, then Sign RAW with ED25519_SHA_512', async () => {
    const key = kms.createKey();
    const signer = signerFor(key.keyId);
    const from = kms.requests.length;
    await signer.sign(Buffer.from('one'));
    await signer.sign(Buffer.from('two'));
    const seen = kms.requests.slice(from);
    expect(seen.map((r) => r.target)).toEqual(['TrentService.GetPublicKey', 'TrentService.Sign', 'TrentService.Sign']);
    for (const r of seen) {
      expect(r.headers['content-type']).toMatch(/^application\/x-amz-json-1\.1/);
      expect(r.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDSTANDIN\/\d{8}\/us-east-1\/kms\/aws4_request/);
    }
    expect(seen[1]!.body).toEqual({
      KeyId: key.keyId,
      Message: Buffer.from('one').toString('base64'),
      MessageType: 'RAW',
      SigningAlgorithm: 'ED25519_SHA_512',
    });
    signer.destroy();
  });

  it('works with a key made through the SDK (CreateKey), addressed by ARN and by alias', async () => {
    const client = new KMSClient({ region: 'us-east-1', endpoint, credentials });
    const made = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY' }));
    const arn = made.KeyMetadata!.Arn!;
    kms.alias('alias/arbiter-test', made.KeyMetadata!.KeyId!);
    const byArn = new KmsSigner({ keyId: arn, client });
    const byAlias = new KmsSigner({ keyId: 'alias/arbiter-test', client });
    expect(await byArn.publicKeyBase58()).toBe(await byAlias.publicKeyBase58());
    expect(byArn.keyId).toBe(arn);
    client.destroy();
  });

  it('an unknown key is a SignerConfigError KEY_NOT_FOUND that names the key', async () => {
    const err = await errorOf(signerFor('00000000-0000-0000-0000-000000000000').sign(Buffer.from('x')));
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.reason).toBe('KEY_NOT_FOUND');
    expect(err.message).toMatch(/KMS key 00000000-0000-0000-0000-000000000000 was not found.*check KMS_KEY_ID/);
  });

  it('a disabled key is a SignerUnavailableError KEY_DISABLED', async () => {
    const key = kms.createKey();
    const signer = signerFor(key.keyId);
    await signer.publicKey();
    key.enabled = false;
    const err = await errorOf(signer.sign(Buffer.from('x')));
    expect(err).toBeInstanceOf(SignerUnavailableError);
    expect(err.reason).toBe('KEY_DISABLED');
    expect(err.message).toMatch(/is disabled; enable it/);
    key.enabled = true;
    expect((await signer.sign(Buffer.from('x'))).length).toBe(64);
  });

  it('access denied is a SignerConfigError ACCESS_DENIED that says which permission', async () => {
    const key = kms.createKey();
    key.denied = true;
    const err = await errorOf(signerFor(key.keyId).publicKey());
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.reason).toBe('ACCESS_DENIED');
    expect(err.message).toMatch(/grant kms:GetPublicKey/);
  });

  it('a key that is not Ed25519 is a SignerConfigError WRONG_KEY_SPEC', async () => {
    const key = kms.createKey('ECC_NIST_P256');
    const err = await errorOf(signerFor(key.keyId).publicKeyBase58());
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.reason).toBe('WRONG_KEY_SPEC');
    expect(err.message).toMatch(/cannot sign for Solana.*KeySpec must be ECC_NIST_EDWARDS25519: Solana needs an Ed25519 key \(got ECC_NIST_P256\)/);
    expect(err.message).toMatch(/PublicKey must be a 44-byte DER SPKI of an Ed25519 key \(got 91 bytes\)/);
  });

  describe('answers of the wrong shape are typed errors naming each wrong field', () => {
    it('a GetPublicKey answer with the wrong key spec and no Ed25519 algorithm is WRONG_KEY_SPEC', async () => {
      const key = kms.createKey();
      kms.reshapeNext({ KeySpec: 'RSA_2048', SigningAlgorithms: ['RSASSA_PSS_SHA_256'] });
      const err = await errorOf(signerFor(key.keyId).publicKey());
      expect(err).toBeInstanceOf(SignerConfigError);
      expect(err.reason).toBe('WRONG_KEY_SPEC');
      expect(err.message).toBe(
        `KMS key ${key.keyId} cannot sign for Solana (it needs an Ed25519 SIGN_VERIFY key): ` +
          'KeySpec must be ECC_NIST_EDWARDS25519: Solana needs an Ed25519 key (got RSA_2048); ' +
          'SigningAlgorithms must list ED25519_SHA_512 (got ["RSASSA_PSS_SHA_256"])',
      );
    });

    it('a GetPublicKey answer without PublicKey or KeyId is BAD_UPSTREAM_RESPONSE listing both', async () => {
      const key = kms.createKey();
      kms.reshapeNext({ PublicKey: undefined, KeyId: undefined });
      const err = await errorOf(signerFor(key.keyId).publicKey());
      expect(err).toBeInstanceOf(SignerUnavailableError);
      expect(err.reason).toBe('BAD_UPSTREAM_RESPONSE');
      expect(err.message).toMatch(
        new RegExp(`sent a wrong GetPublicKey answer for KMS key ${key.keyId}: KeyId must name the key \\(got none\\); PublicKey must be a 44-byte DER SPKI of an Ed25519 key \\(got none\\)$`),
      );
    });

    it('a PublicKey that is not an Ed25519 SPKI is refused', async () => {
      const key = kms.createKey();
      kms.reshapeNext({ PublicKey: key.spki.subarray(12).toString('base64') });
      const err = await errorOf(signerFor(key.keyId).publicKeyBase58());
      expect(err).toBeInstanceOf(SignerUnavailableError);
      expect(err.message).toMatch(/PublicKey must be a 44-byte DER SPKI of an Ed25519 key \(got 32 bytes\)/);
    });

    it('a short signature is BAD_UPSTREAM_RESPONSE, and the signer works again on the next answer', async () => {
      const key = kms.createKey();
      const signer = signerFor(key.keyId);
      await signer.publicKey();
      kms.reshapeNext({ Signature: Buffer.alloc(32, 7).toString('base64') });
      const err = await errorOf(signer.sign(Buffer.from('x')));
      expect(err).toBeInstanceOf(SignerUnavailableError);
      expect(err.reason).toBe('BAD_UPSTREAM_RESPONSE');
      expect(err.message).toMatch(/sent a wrong Sign answer for KMS key .*: Signature must be a 64-byte Ed25519 signature \(got 32 bytes\)$/);
      expect((await signer.sign(Buffer.from('x'))).length).toBe(64);
    });

    it('a Sign answer with no signature and another algorithm lists both fields', async () => {
      const key = kms.createKey();
      const signer = signerFor(key.keyId);
      await signer.publicKey();
      kms.reshapeNext({ Signature: undefined, SigningAlgorithm: 'ECDSA_SHA_256' });
      const err = await errorOf(signer.sign(Buffer.from('x')));
      expect(err).toBeInstanceOf(SignerUnavailableError);
      expect(err.message).toMatch(/Signature must be a 64-byte Ed25519 signature \(got none\); SigningAlgorithm must be ED25519_SHA_512 \(got ECDSA_SHA_256\)$/);
    });
  });

  it('a 500 is a SignerUnavailableError; the SDK retry recovers from one when attempts allow', async () => {
    const key = kms.createKey();
    kms.failNext(1);
    const err = await errorOf(signerFor(key.keyId).publicKey());
    expect(err).toBeInstanceOf(SignerUnavailableError);
    expect(err.reason).toBe('UPSTREAM_ERROR');
    kms.failNext(1);
    expect((await signerFor(key.keyId, { maxAttempts: 2 }).publicKey()).length).toBe(32);
  });

  it('throttling is a SignerUnavailableError THROTTLED', async () => {
    const key = kms.createKey();
    kms.failNext(1, 400, 'ThrottlingException');
    const err = await errorOf(signerFor(key.keyId).publicKey());
    expect(err).toBeInstanceOf(SignerUnavailableError);
    expect(err.reason).toBe('THROTTLED');
  });

  it('a reply that is not JSON is a typed error, not a crash', async () => {
    const key = kms.createKey();
    kms.garbageNext();
    const err = await errorOf(signerFor(key.keyId).publicKey());
    expect(err).toBeInstanceOf(SignerUnavailableError);
    expect(err.reason).toBe('BAD_UPSTREAM_RESPONSE');
    expect(err.message).toMatch(/unreadable GetPublicKey reply/);
    expect(err.message).not.toContain('\n');
  });

  it('an unknown client error from KMS is a SignerConfigError carrying its name and message', async () => {
    const key = kms.createKey();
    kms.failNext(1, 400, 'ValidationException');
    const err = await errorOf(signerFor(key.keyId).publicKey());
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.reason).toBe('INVALID_CONFIG');
    expect(err.message).toMatch(/rejected GetPublicKey.*ValidationException: stand-in failure/);
  });

  it('rejected AWS credentials are a SignerConfigError ACCESS_DENIED', async () => {
    const key = kms.createKey();
    kms.failNext(1, 400, 'UnrecognizedClientException');
    const err = await errorOf(signerFor(key.keyId).publicKey());
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.reason).toBe('ACCESS_DENIED');
    expect(err.message).toMatch(/rejected the AWS credentials/);
  });

  it('a signature made by another key is caught before anyone uses it', async () => {
    const key = kms.createKey();
    const signer = signerFor(key.keyId);
    await signer.publicKey();
    kms.wrongSignatureNext();
    const err = await errorOf(signer.sign(Buffer.from('x')));
    expect(err).toBeInstanceOf(SignerUnavailableError);
    expect(err.reason).toBe('BAD_UPSTREAM_RESPONSE');
    expect(err.message).toMatch(/does not verify/);
  });

  it('a failed public key lookup is not cached: it works once KMS answers again', async () => {
    const key = kms.createKey();
    const signer = signerFor(key.keyId);
    kms.failNext(1);
    await expect(signer.publicKey()).rejects.toBeInstanceOf(SignerUnavailableError);
    expect(Buffer.from(await signer.publicKey())).toEqual(key.spki.subarray(12));
  });

  it('a KMS server that is down is a SignerUnavailableError UNREACHABLE', async () => {
    // A port that was just free and is now closed: connection refused.
    const port = await new Promise<number>((ok) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => ok(p));
      });
    });
    const signer = new KmsSigner({ keyId: 'k', region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials, maxAttempts: 1 });
    const err = await errorOf(signer.sign(Buffer.from('x')));
    expect(err).toBeInstanceOf(SignerUnavailableError);
    expect(err.reason).toBe('UNREACHABLE');
    expect(err.message).toMatch(/unreachable.*ECONNREFUSED/);
    signer.destroy();
  });

  it('a stopped stand-in (server gone mid-life) is SignerUnavailableError too', async () => {
    const other = new KmsStandIn();
    const ep = await other.start();
    const key = other.createKey();
    const signer = new KmsSigner({ keyId: key.keyId, region: 'us-east-1', endpoint: ep, credentials, maxAttempts: 1 });
    expect((await signer.sign(Buffer.from('before'))).length).toBe(64);
    await other.stop();
    await expect(signer.sign(Buffer.from('after'))).rejects.toBeInstanceOf(SignerUnavailableError);
    signer.destroy();
  });

  it('a signer without a key id or region is refused at construction', () => {
    expect(() => new KmsSigner({ keyId: ' ', region: 'us-east-1' })).toThrow(/needs a key id \(KMS_KEY_ID\)/);
    expect(() => new KmsSigner({ keyId: 'k', region: '' })).toThrow(/needs a region \(AWS_REGION\)/);
  });
});
