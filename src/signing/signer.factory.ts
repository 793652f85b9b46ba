// Chooses and opens the signer from the environment:
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

type Env = Record<string, string | undefined>;

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

const text = (env: Env, name: string): string | null => {
  const v = env[name];
  return v === undefined || v.trim() === '' ? null : v.trim();
};

export async function createSigner(env: Env = process.env, opts: CreateSignerOptions = {}): Promise<CreatedSigner> {
  const notes: string[] = [];
  const note = (n: string) => {
    notes.push(n);
    opts.log?.(n);
  };
  const kind = (text(env, 'SIGNER') ?? 'keystore').toLowerCase();
  if (kind === 'keystore') return { signer: await openKeystoreSigner(env, note, opts), notes };
  if (kind === 'aws-kms' || kind === 'kms') return { signer: await openKmsSigner(env, note, opts), notes };
  throw new SignerConfigError('INVALID_CONFIG', `SIGNER must be "keystore" or "aws-kms" (got "${env.SIGNER}")`);
}

async function openKmsSigner(env: Env, note: (n: string) => void, opts: CreateSignerOptions): Promise<Signer> {
  const keyId = text(env, 'KMS_KEY_ID');
  const region = text(env, 'AWS_REGION');
  const endpoint = text(env, 'KMS_ENDPOINT');
  const problems: string[] = [];
  if (!keyId) problems.push('KMS_KEY_ID is required (key id, key ARN or alias/name of an ECC_NIST_EDWARDS25519 key)');
  if (!region) problems.push('AWS_REGION is required (e.g. us-east-1)');
  if (endpoint && !/^https?:\/\/[^\s/]+/.test(endpoint)) problems.push(`KMS_ENDPOINT must be an http(s) URL (got "${endpoint}")`);
  const accessKeyId = text(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = text(env, 'AWS_SECRET_ACCESS_KEY');
  if (!!accessKeyId !== !!secretAccessKey) problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together');
  if (problems.length) {
    throw new SignerConfigError('MISSING_CONFIG', `SIGNER=aws-kms is not configured:\n  - ${problems.join('\n  - ')}`);
  }
  if (text(env, 'KEYSTORE_PATH') || text(env, 'KEYSTORE_PASSPHRASE')) note('SIGNER=aws-kms: KEYSTORE_PATH and KEYSTORE_PASSPHRASE are ignored');
  const signer = new KmsSigner({
    keyId: keyId!,
    region: region!,
    endpoint: endpoint ?? undefined,
    // Credentials named in the given env are passed on; otherwise the SDK's default chain applies.
    credentials:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, sessionToken: text(env, 'AWS_SESSION_TOKEN') ?? undefined }
        : undefined,
  });
  if (opts.probe ?? true) {
    try {
      note(`signer: AWS KMS key ${keyId} in ${region}${endpoint ? ` via ${endpoint}` : ''}, address ${await signer.publicKeyBase58()}`);
    } catch (err) {
      signer.destroy();
      throw err;
    }
  } else {
    note(`signer: AWS KMS key ${keyId} in ${region}${endpoint ? ` via ${endpoint}` : ''}`);
  }
  return signer;
}

async function openKeystoreSigner(env: Env, note: (n: string) => void, opts: CreateSignerOptions): Promise<Signer> {
  const explicitPath = text(env, 'KEYSTORE_PATH');
  const dataDir = resolve(text(env, 'ARBITER_DATA_DIR') ?? './data');
  const path = resolve(explicitPath ?? join(dataDir, 'keystore.json'));
  let passphrase = env.KEYSTORE_PASSPHRASE && env.KEYSTORE_PASSPHRASE !== '' ? env.KEYSTORE_PASSPHRASE : null;
  if (text(env, 'KMS_KEY_ID')) note('SIGNER=keystore: KMS_KEY_ID is ignored (set SIGNER=aws-kms to use KMS)');
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

