// A seal key for tests: a real keystore signer (cheap scrypt) in a temporary directory.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeystore, KeystoreSigner } from '../../src/signing/keystore/keystore-signer.js';

export async function testSealSigner(keyId = 'seal-test'): Promise<KeystoreSigner> {
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-seal-'));
  const path = join(dir, 'seal-keystore.json');
  await createKeystore(path, 'seal passphrase', { scryptN: 1024, keyId });
  return KeystoreSigner.open(path, 'seal passphrase');
}
