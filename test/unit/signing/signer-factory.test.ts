// createSigner: which signer the environment asks for, the development keystore made on first
// start, and the errors an operator sees for settings that are missing or do not fit together.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeystore, KeystoreSigner, WRONG_PASSPHRASE } from '../../../src/signing/keystore/keystore-signer.js';
import { createSigner, signerSettingsFrom, PASSPHRASE_FILE } from '../../../src/signing/signer.factory.js';
import { SignerConfigError } from '../../../src/signing/signer.port.js';
import { ConfigError } from '../../../src/config/config.js';

const FAST = { keystoreOptions: { scryptN: 2 ** 12 } };

describe('createSigner (keystore)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arbiter-factory-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('with nothing set, creates a development keystore and passphrase file (0600) and reopens the same key next time', async () => {
    const logged: string[] = [];
    const first = await createSigner(signerSettingsFrom({ ARBITER_DATA_DIR: dir }), { ...FAST, log: (n) => logged.push(n) });
    expect(first.signer.kind).toBe('keystore');
    const passFile = join(dir, PASSPHRASE_FILE);
    expect((await stat(join(dir, 'keystore.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(passFile)).mode & 0o777).toBe(0o600);
    const passphrase = (await readFile(passFile, 'utf8')).trim();
    expect(passphrase.length).toBeGreaterThanOrEqual(40);
    expect(first.notes.join('\n')).toMatch(/created a DEVELOPMENT keystore .*keystore\.json.*passphrase is in .*keystore\.passphrase/);
    expect(logged).toEqual(first.notes);
    expect(first.notes.join('\n')).not.toContain(passphrase);

    const second = await createSigner(signerSettingsFrom({ ARBITER_DATA_DIR: dir }), FAST);
    expect(await second.signer.publicKeyBase58()).toBe(await first.signer.publicKeyBase58());
    expect(second.notes.join('\n')).toMatch(/passphrase read from .*keystore\.passphrase \(development only\)/);
    // The file really is the key's passphrase.
    const direct = await KeystoreSigner.open(join(dir, 'keystore.json'), passphrase);
    expect(await direct.publicKeyBase58()).toBe(await first.signer.publicKeyBase58());
  });

  it('with KEYSTORE_PASSPHRASE on the default path, creates the keystore with it and writes no passphrase file', async () => {
    const env = { ARBITER_DATA_DIR: dir, KEYSTORE_PASSPHRASE: 'operator chosen' };
    const { signer, notes } = await createSigner(signerSettingsFrom(env), FAST);
    await expect(stat(join(dir, PASSPHRASE_FILE))).rejects.toThrow(/ENOENT/);
    expect(notes.join('\n')).toMatch(/with the passphrase from KEYSTORE_PASSPHRASE/);
    const again = await createSigner(signerSettingsFrom(env), FAST);
    expect(await again.signer.publicKeyBase58()).toBe(await signer.publicKeyBase58());
    await expect(createSigner(signerSettingsFrom({ ...env, KEYSTORE_PASSPHRASE: 'wrong' }), FAST)).rejects.toThrow(WRONG_PASSPHRASE);
  });

  it('opens an explicit KEYSTORE_PATH with KEYSTORE_PASSPHRASE', async () => {
    const path = join(dir, 'ops', 'signer.json');
    const info = await createKeystore(path, 's3cret', FAST.keystoreOptions);
    const { signer, notes } = await createSigner(signerSettingsFrom({ SIGNER: 'keystore', KEYSTORE_PATH: path, KEYSTORE_PASSPHRASE: 's3cret' }));
    expect(await signer.publicKeyBase58()).toBe(info.publicKey);
    expect(signer.keyId).toBe(info.keyId);
    expect(notes.at(-1)).toBe(`signer: keystore ${path}, key ${info.keyId}, address ${info.publicKey}`);
  });

  it('an explicit KEYSTORE_PATH that does not exist is an error, not a new key', async () => {
    const path = join(dir, 'missing.json');
    const err = await createSigner(signerSettingsFrom({ KEYSTORE_PATH: path, KEYSTORE_PASSPHRASE: 'x' }), FAST).catch((e) => e);
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.reason).toBe('KEYSTORE_MISSING');
    expect(err.message).toContain(`no keystore at KEYSTORE_PATH=${path}`);
    await expect(stat(path)).rejects.toThrow(/ENOENT/);
  });

  it('an existing keystore without KEYSTORE_PASSPHRASE (and no dev passphrase file) is an error naming the setting', async () => {
    const path = join(dir, 'k.json');
    await createKeystore(path, 'p', FAST.keystoreOptions);
    const err = await createSigner(signerSettingsFrom({ KEYSTORE_PATH: path })).catch((e) => e);
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.message).toMatch(/KEYSTORE_PASSPHRASE is required to open the keystore at/);
  });

  it('a leftover passphrase file without its keystore is refused rather than overwritten', async () => {
    await writeFile(join(dir, PASSPHRASE_FILE), 'old\n', { mode: 0o600 });
    const err = await createSigner(signerSettingsFrom({ ARBITER_DATA_DIR: dir }), FAST).catch((e) => e);
    expect(err).toBeInstanceOf(SignerConfigError);
    expect(err.message).toMatch(/keystore\.passphrase exists but its keystore does not/);
    expect(await readFile(join(dir, PASSPHRASE_FILE), 'utf8')).toBe('old\n');
  });

  it('notes that KMS settings are ignored when SIGNER=keystore', async () => {
    const { notes } = await createSigner(signerSettingsFrom({ ARBITER_DATA_DIR: dir, KMS_KEY_ID: 'k' }), FAST);
    expect(notes[0]).toMatch(/KMS_KEY_ID is ignored/);
  });
});

describe('createSigner (settings)', () => {
  // The configuration refuses these at start (exit 2), before any signer is opened.
  it('refuses an unknown SIGNER', () => {
    const err = (() => { try { return signerSettingsFrom({ SIGNER: 'hsm' }); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(['SIGNER must be keystore or aws-kms (got "hsm")']);
  });

  it('SIGNER=aws-kms lists every missing or bad setting at once', () => {
    const err = (() => { try { return signerSettingsFrom({ SIGNER: 'aws-kms', KMS_ENDPOINT: 'localhost:4566', AWS_ACCESS_KEY_ID: 'AKID' }); } catch (e) { return e; } })() as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    const all = err.problems.join('\n');
    expect(all).toMatch(/SIGNER=aws-kms needs KMS_KEY_ID .* and AWS_REGION/);
    expect(all).toMatch(/KMS_ENDPOINT must be an http:\/\/ or https:\/\/ URL/);
    expect(all).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together/);
  });
});
