// The encrypted keystore signer: the Signer contract, plus what the file must withstand
// (wrong passphrase, tampering, overwriting, loose permissions) and what it must never hold.
import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeystore, KeystoreSigner, WRONG_PASSPHRASE } from '../../../src/signing/keystore/keystore-signer.js';
import { SignerConfigError } from '../../../src/signing/signer.port.js';
import { signerContract } from '../../contract/signer.contract.js';

// A cheap scrypt keeps the suite fast; the format and code path are the same as 2^17.
const FAST = { scryptN: 2 ** 12 };

signerContract('encrypted keystore', 'keystore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-ks-'));
  const path = join(dir, 'keystore.json');
  await createKeystore(path, 'correct horse battery staple', FAST);
  return { signer: await KeystoreSigner.open(path, 'correct horse battery staple'), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('keystore file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arbiter-ks-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const fresh = async (name: string, pass = 'pass-1') => {
    const path = join(dir, name, 'keystore.json');
    const info = await createKeystore(path, pass, FAST);
    return { path, info };
  };
  const errorOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e as SignerConfigError;
    }
    throw new Error('expected a rejection');
  };

  it('is written with mode 0600 in the documented JSON shape, without the seed in clear', async () => {
    const { path, info } = await fresh('shape');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const file = JSON.parse(await readFile(path, 'utf8'));
    expect(Object.keys(file).sort()).toEqual(['cipher', 'ciphertext', 'iv', 'kdf', 'kdfparams', 'keyId', 'publicKey', 'tag', 'version']);
    expect(file).toMatchObject({ version: 1, kdf: 'scrypt', cipher: 'aes-256-gcm', publicKey: info.publicKey, keyId: info.keyId });
    expect(file.kdfparams).toMatchObject({ N: 4096, r: 8, p: 1 });
    expect(Buffer.from(file.ciphertext, 'base64').length).toBe(32);
    expect(Buffer.from(file.iv, 'base64').length).toBe(12);
    expect(Buffer.from(file.tag, 'base64').length).toBe(16);
    const signer = await KeystoreSigner.open(path, 'pass-1');
    expect(await signer.publicKeyBase58()).toBe(info.publicKey);
    expect(signer.keyId).toBe(info.keyId);
    expect(signer.warnings).toEqual([]);
  });

  it('makes a different key each time', async () => {
    const a = await fresh('a');
    const b = await fresh('b');
    expect(a.info.publicKey).not.toBe(b.info.publicKey);
    expect(a.info.keyId).not.toBe(b.info.keyId);
  });

  it('refuses to overwrite an existing keystore', async () => {
    const { path } = await fresh('overwrite');
    const before = await readFile(path, 'utf8');
    const err = await errorOf(createKeystore(path, 'other', FAST));
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.reason).toBe('KEYSTORE_EXISTS');
    expect(err.message).toMatch(/already exists.*refusing to overwrite/);
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('a wrong passphrase gives the clear error, without the passphrase or a crypto message in it', async () => {
    const { path } = await fresh('wrong');
    const err = await errorOf(KeystoreSigner.open(path, 'not-the-passphrase'));
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.reason).toBe('KEYSTORE_LOCKED');
    expect(err.message).toContain(WRONG_PASSPHRASE);
    expect(err.message).not.toContain('not-the-passphrase');
    expect(err.message).not.toMatch(/Unsupported state|authenticate data/i);
    expect(err.cause).toBeUndefined();
  });

  it.each([
    ['ciphertext', (f: any) => ({ ...f, ciphertext: flip(f.ciphertext) })],
    ['tag', (f: any) => ({ ...f, tag: flip(f.tag) })],
    ['iv', (f: any) => ({ ...f, iv: flip(f.iv) })],
    ['salt', (f: any) => ({ ...f, kdfparams: { ...f.kdfparams, salt: flip(f.kdfparams.salt) } })],
    ['keyId', (f: any) => ({ ...f, keyId: 'keystore-someone-else' })],
    ['publicKey (swapped for another valid address)', (f: any) => ({ ...f, publicKey: '11111111111111111111111111111111' })],
    ['kdf cost', (f: any) => ({ ...f, kdfparams: { ...f.kdfparams, N: 2048 } })],
  ])('a file with an altered %s is refused with the clear error', async (_field, alter) => {
    const { path } = await fresh(`tamper-${Math.random().toString(36).slice(2)}`);
    const file = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify(alter(file)));
    const err = await errorOf(KeystoreSigner.open(path, 'pass-1'));
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.message).toContain(WRONG_PASSPHRASE);
  });

  it.each([
    ['not JSON', '{ broken', /not JSON/],
    ['a JSON array', '[]', /not a JSON object/],
    ['another version', JSON.stringify({ version: 2 }), /unsupported version 2/],
    ['missing fields', JSON.stringify({ version: 1, kdf: 'scrypt' }), /cipher must be "aes-256-gcm".*kdfparams is missing.*iv must be base64/],
    [
      'an absurd scrypt cost',
      JSON.stringify({ version: 1, kdf: 'scrypt', cipher: 'aes-256-gcm', kdfparams: { N: 2 ** 30, r: 8, p: 1, salt: 'AAAAAAAAAAAAAAAAAAAAAA==' } }),
      /N must be a power of two/,
    ],
  ])('a damaged file (%s) gets a message saying what is wrong', async (_what, content, pattern) => {
    const path = join(dir, `damaged-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(path, content);
    const err = await errorOf(KeystoreSigner.open(path, 'pass-1'));
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.reason).toBe('KEYSTORE_INVALID');
    expect(err.message).toMatch(/is not a valid Arbiter keystore/);
    expect(err.message).toMatch(pattern);
  });

  it('a missing file gives a clear error naming the path', async () => {
    const path = join(dir, 'nope', 'keystore.json');
    const err = await errorOf(KeystoreSigner.open(path, 'pass-1'));
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.reason).toBe('KEYSTORE_MISSING');
    expect(err.message).toBe(`no keystore at ${path} (check KEYSTORE_PATH, or create one)`);
  });

  it('an empty passphrase is refused when creating and opening', async () => {
    await expect(createKeystore(join(dir, 'empty', 'k.json'), '', FAST)).rejects.toThrow(/non-empty passphrase/);
    const { path } = await fresh('empty-open');
    await expect(KeystoreSigner.open(path, '')).rejects.toThrow(/non-empty passphrase/);
  });

  it('warns, but still opens, when the file is readable by others', async () => {
    const { path } = await fresh('loose');
    await chmod(path, 0o644);
    const signer = await KeystoreSigner.open(path, 'pass-1');
    expect(signer.warnings.join()).toMatch(/readable by other users \(mode 644\); run chmod 600/);
  });

  it('never shows key material when the signer is logged or serialised', async () => {
    const { path } = await fresh('leak');
    const file = JSON.parse(await readFile(path, 'utf8'));
    const signer = await KeystoreSigner.open(path, 'pass-1');
    const shown = JSON.stringify(signer) + (await import('node:util')).inspect(signer, { depth: 5 });
    expect(shown).toContain(file.publicKey);
    expect(shown).not.toContain(file.ciphertext);
    expect(shown).not.toMatch(/pass-1/);
  });
});

function flip(b64: string): string {
  const buf = Buffer.from(b64, 'base64');
  buf[0]! ^= 0x01;
  return buf.toString('base64');
}
