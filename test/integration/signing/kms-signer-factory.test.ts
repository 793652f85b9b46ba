// createSigner with SIGNER=aws-kms, pointed at the local KMS stand-in through KMS_ENDPOINT:
// credentials from the given env reach the SDK, the key is probed at start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsSigner } from '../../../src/signing/aws-kms/kms-signer.js';
import { createSigner, signerSettingsFrom } from '../../../src/signing/signer.factory.js';
import { SignerConfigError, SignerUnavailableError } from '../../../src/signing/signer.port.js';
import { KmsStandIn } from '../../stand-ins/kms-server.js';

describe('createSigner (aws-kms)', () => {
  const kms = new KmsStandIn('eu-west-1');
  let base: Record<string, string>;
  beforeAll(async () => {
    const endpoint = await kms.start();
    base = { SIGNER: 'aws-kms', AWS_REGION: 'eu-west-1', KMS_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'AKIDFACTORY', AWS_SECRET_ACCESS_KEY: 'x' };
  });
  afterAll(async () => {
    await kms.stop();
  });

  it('opens a KMS signer, probes the key and reports its address', async () => {
    const key = kms.createKey();
    const { signer, notes } = await createSigner(signerSettingsFrom({ ...base, KMS_KEY_ID: key.keyId, KEYSTORE_PASSPHRASE: 'hunter2-secret' }));
    expect(signer).toBeInstanceOf(KmsSigner);
    expect(signer.kind).toBe('aws-kms');
    expect(signer.keyId).toBe(key.keyId);
    const address = await signer.publicKeyBase58();
    expect(notes).toContain(`signer: AWS KMS key ${key.keyId} in eu-west-1 via ${base.KMS_ENDPOINT}, address ${address}`);
    expect(notes.join('\n')).toMatch(/KEYSTORE_PATH and KEYSTORE_PASSPHRASE are ignored/);
    expect(notes.join('\n')).not.toContain('hunter2-secret');
    const last = kms.requests.at(-1)!;
    expect(last.headers.authorization).toMatch(/Credential=AKIDFACTORY\/\d{8}\/eu-west-1\/kms\//);
    (signer as KmsSigner).destroy();
  });

  it('an unknown key fails at start with KEY_NOT_FOUND', async () => {
    const err = await createSigner(signerSettingsFrom({ ...base, KMS_KEY_ID: 'alias/nope' })).catch((e) => e);
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.reason).toBe('KEY_NOT_FOUND');
  });

  it('without the probe, a KMS outage does not stop start-up; signing reports it', async () => {
    const key = kms.createKey();
    kms.failNext(3, 503, 'ServiceUnavailable');
    const { signer } = await createSigner(signerSettingsFrom({ ...base, KMS_KEY_ID: key.keyId }), { probe: false });
    await expect(signer.publicKey()).rejects.toBeInstanceOf(SignerUnavailableError);
    (signer as KmsSigner).destroy();
  });
});
