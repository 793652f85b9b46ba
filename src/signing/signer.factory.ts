// Opens the signer its settings choose (the `signer` or `seal.signer` section of the one
// configuration, checked at start):
//   SIGNER=keystore (default)  KEYSTORE_PATH, KEYSTORE_PASSPHRASE
//   SIGNER=aws-kms             KMS_KEY_ID, AWS_REGION, KMS_ENDPOINT (optional)
// With no KEYSTORE_PATH and no KEYSTORE_PASSPHRASE, a development keystore is created on first
// start under the data directory, with its generated passphrase in a sibling file. That is for
// development only: the passphrase sits next to the key it protects.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open as openFile, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { KmsSigner } from './aws-kms/kms-signer.js';
import { createKeystore, fileExists, KeystoreSigner, type CreateKeystoreOptions } from './keystore/keystore-signer.js';
import { SignerConfigError, type Signer } from './signer.port.js';
import { loadConfig, type SignerSettings } from '../config/config.js';


export interface CreatedSigner {
  signer: Signer;
  /** What was chosen and done, for the start-up log. Never holds a secret. */
  notes: string[];
}

export interface CreateSignerOptions {
  /** Ask KMS for the public key at once, so a wrong key id fails at start (default true). */
  probe?: boolean;
  /** Where each note goes as it happens (e.g. a Nest Logger); notes are also returned. */
  log?: (note: string) => void;
  /** For tests: a cheaper scrypt when the development keystore is created. */
  keystoreOptions?: CreateKeystoreOptions;
}

export const PASSPHRASE_FILE = 'keystore.passphrase';

export async function createSigner(settings: SignerSettings, opts: CreateSignerOptions = {}): Promise<CreatedSigner> {
  const notes: string[] = [];
  const note = (n: string) => {
    notes.push(n);
    opts.log?.(n);
  };
  if (settings.kind === 'keystore') return { signer: await openKeystoreSigner(settings, note, opts), notes };
  return { signer: await openKmsSigner(settings, note, opts), notes };
}

/** For tools and tests: the trading signer's settings as the one configuration reads them from `env`. */
export function signerSettingsFrom(env: Record<string, string | undefined>): SignerSettings {
  return loadConfig(env).signer;
}

async function openKmsSigner(s: Extract<SignerSettings, { kind: 'aws-kms' }>, note: (n: string) => void, opts: CreateSignerOptions): Promise<Signer> {
  // The configuration checked KMS_KEY_ID, AWS_REGION, KMS_ENDPOINT and the credentials at start.
  if (s.keystoreIgnored) note('SIGNER=aws-kms: KEYSTORE_PATH and KEYSTORE_PASSPHRASE are ignored');
  const signer = new KmsSigner({
    keyId: s.keyId,
    region: s.region,
    endpoint: s.endpoint ?? undefined,
    // Credentials named in the configuration are passed on; otherwise the SDK's default chain applies.
    credentials: s.credentials ? { accessKeyId: s.credentials.accessKeyId, secretAccessKey: s.credentials.secretAccessKey, sessionToken: s.credentials.sessionToken ?? undefined } : undefined,
  });
  const where = `AWS KMS key ${s.keyId} in ${s.region}${s.endpoint ? ` via ${s.endpoint}` : ''}`;
  if (opts.probe ?? true) {
    try {
      note(`signer: ${where}, address ${await signer.publicKeyBase58()}`);
    } catch (err) {
      signer.destroy();
      throw err;
    }
  } else {
    note(`signer: ${where}`);
  }
  return signer;
}

async function openKeystoreSigner(s: Extract<SignerSettings, { kind: 'keystore' }>, note: (n: string) => void, opts: CreateSignerOptions): Promise<Signer> {
  const explicitPath = s.keystorePath;
  const path = resolve(explicitPath ?? join(s.dataDir, 'keystore.json'));
  let passphrase = s.passphrase;
  if (s.kmsKeyId) note('SIGNER=keystore: KMS_KEY_ID is ignored (set SIGNER=aws-kms to use KMS)');
  const present = await fileExists(path);
  const passFile = join(dirname(path), PASSPHRASE_FILE);

  if (!present) {
    if (explicitPath) {
      // An explicit path that is missing is more likely a missing mount than a wish for a new key.
      throw new SignerConfigError(
        'KEYSTORE_MISSING',
        `SIGNER=keystore: no keystore at KEYSTORE_PATH=${path}; create one (createKeystore) or unset KEYSTORE_PATH for a development keystore`,
      );
    }
    if (passphrase) {
      const info = await createKeystore(path, passphrase, opts.keystoreOptions);
      note(`signer: created keystore ${path} (address ${info.publicKey}) with the passphrase from KEYSTORE_PASSPHRASE`);
    } else {
      passphrase = randomBytes(32).toString('base64url');
      await writePassphraseFile(passFile, passphrase);
      const info = await createKeystore(path, passphrase, opts.keystoreOptions);
      note(
        `signer: created a DEVELOPMENT keystore ${path} (address ${info.publicKey}); its generated passphrase is in ${passFile}. ` +
          'Do not use it for real funds: set KEYSTORE_PASSPHRASE, or SIGNER=aws-kms.',
      );
    }
  } else if (!passphrase) {
    if (!explicitPath && (await fileExists(passFile))) {
      passphrase = (await readFile(passFile, 'utf8')).trim();
      note(`signer: development keystore ${path}, passphrase read from ${passFile} (development only)`);
    } else {
      throw new SignerConfigError('MISSING_CONFIG', `SIGNER=keystore: KEYSTORE_PASSPHRASE is required to open the keystore at ${path}`);
    }
  }

  const signer = await KeystoreSigner.open(path, passphrase!);
  for (const w of signer.warnings) note(`warning: ${w}`);
  note(`signer: keystore ${path}, key ${signer.keyId}, address ${await signer.publicKeyBase58()}`);
  return signer;
}

async function writePassphraseFile(path: string, passphrase: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let fh;
  try {
    fh = await openFile(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SignerConfigError(
        'KEYSTORE_EXISTS',
        `${path} exists but its keystore does not; remove the stale passphrase file or restore the keystore`,
      );
    }
    throw err;
  }
  try {
    await fh.writeFile(passphrase + '\n', 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

