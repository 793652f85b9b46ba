// The offline signer: an Ed25519 key kept in a passphrase-encrypted JSON file (scrypt derives
// the key, AES-256-GCM encrypts the 32-byte seed). Every header field is bound to the
// ciphertext as GCM associated data, so altering any of them, or the ciphertext, fails the
// same way a wrong passphrase does. node:crypto only.
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  scrypt as scryptCb,
  sign as cryptoSign,
  type KeyObject,
} from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { link, mkdir, open as openFile, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import bs58 from 'bs58';
import { checkSignRequest, SignerConfigError, type Signer } from '../signer.port.js';

export interface KeystoreFile {
  version: 1;
  kdf: 'scrypt';
  kdfparams: { N: number; r: number; p: number; salt: string };
  cipher: 'aes-256-gcm';
  iv: string;
  tag: string;
  ciphertext: string;
  publicKey: string;
  keyId: string;
}

export interface CreateKeystoreOptions {
  /** scrypt cost (power of two). 2^17 (~128 MiB, a fraction of a second) unless a test lowers it. */
  scryptN?: number;
  scryptR?: number;
  scryptP?: number;
  keyId?: string;
}

export interface KeystoreInfo {
  path: string;
  keyId: string;
  publicKey: string;
}

export const WRONG_PASSPHRASE = 'keystore passphrase is wrong or the file was altered';

const DEFAULT_N = 2 ** 17;
// PKCS#8 DER of an Ed25519 private key is this 16-byte header followed by the 32-byte seed.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function scrypt(passphrase: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((done, fail) => {
    scryptCb(passphrase.normalize('NFKC'), salt, 32, { N, r, p, maxmem: 128 * N * r * p + 16 * 1024 * 1024 }, (err, key) =>
      err ? fail(err) : done(key),
    );
  });
}

/** The header fields, in a fixed order, that GCM authenticates alongside the ciphertext. */
function associatedData(k: Omit<KeystoreFile, 'iv' | 'tag' | 'ciphertext'>): Buffer {
  const { N, r, p, salt } = k.kdfparams;
  return Buffer.from(JSON.stringify([k.version, k.kdf, N, r, p, salt, k.cipher, k.publicKey, k.keyId]), 'utf8');
}

function checkScryptParams(N: number, r: number, p: number): string | null {
  if (!Number.isSafeInteger(N) || N < 1024 || N > 2 ** 20 || (N & (N - 1)) !== 0) return 'N must be a power of two between 2^10 and 2^20';
  if (!Number.isSafeInteger(r) || r < 1 || r > 32) return 'r must be an integer between 1 and 32';
  if (!Number.isSafeInteger(p) || p < 1 || p > 16) return 'p must be an integer between 1 and 16';
  if (128 * N * r * p > 2 ** 30) return 'N·r·p would need more than 1 GiB of memory';
  return null;
}

function checkPassphrase(passphrase: unknown, path: string): asserts passphrase is string {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new SignerConfigError('MISSING_CONFIG', `keystore ${path}: a non-empty passphrase is required (KEYSTORE_PASSPHRASE)`);
  }
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const spki = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

/**
 * Generates a new Ed25519 key and writes it encrypted to `path` (mode 0600). Refuses to
 * overwrite: an existing keystore may hold the only copy of a funded key.
 */
export async function createKeystore(path: string, passphrase: string, opts: CreateKeystoreOptions = {}): Promise<KeystoreInfo> {
  const abs = resolve(path);
  checkPassphrase(passphrase, abs);
  const N = opts.scryptN ?? DEFAULT_N;
  const r = opts.scryptR ?? 8;
  const p = opts.scryptP ?? 1;
  const bad = checkScryptParams(N, r, p);
  if (bad) throw new SignerConfigError('INVALID_CONFIG', `keystore scrypt parameters: ${bad}`);
  if (await fileExists(abs)) {
    throw new SignerConfigError('KEYSTORE_EXISTS', `a keystore already exists at ${abs}; refusing to overwrite it (move it away first)`);
  }

  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const seed = pkcs8.subarray(PKCS8_PREFIX.length);
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const header = {
    version: 1 as const,
    kdf: 'scrypt' as const,
    kdfparams: { N, r, p, salt: salt.toString('base64') },
    cipher: 'aes-256-gcm' as const,
    publicKey: bs58.encode(rawPublicKey(publicKey)),
    keyId: opts.keyId ?? `keystore-${randomUUID()}`,
  };
  const aesKey = await scrypt(passphrase, salt, N, r, p);
  let file: KeystoreFile;
  try {
    const cipher = createCipheriv('aes-256-gcm', aesKey, iv);
    cipher.setAAD(associatedData(header));
    const ciphertext = Buffer.concat([cipher.update(seed), cipher.final()]);
    file = { ...header, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
  } finally {
    pkcs8.fill(0);
    aesKey.fill(0);
  }

  await mkdir(dirname(abs), { recursive: true, mode: 0o700 });
  // Write a temporary file, then hard-link it into place: link() fails if the target exists,
  // so a keystore appearing meanwhile is never overwritten, and a crash never leaves half a file.
  const tmp = `${abs}.tmp-${randomBytes(6).toString('hex')}`;
  const fh = await openFile(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
  try {
    await fh.writeFile(JSON.stringify(file, null, 2) + '\n', 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SignerConfigError('KEYSTORE_EXISTS', `a keystore already exists at ${abs}; refusing to overwrite it (move it away first)`);
    }
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return { path: abs, keyId: file.keyId, publicKey: file.publicKey };
}

/** Whether a file exists (other errors, e.g. permission, are thrown). */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function b64(value: unknown, bytes: number | { min: number }, field: string, problems: string[]): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    problems.push(`${field} must be base64`);
    return Buffer.alloc(0);
  }
  const buf = Buffer.from(value, 'base64');
  if (typeof bytes === 'number' ? buf.length !== bytes : buf.length < bytes.min) {
    problems.push(`${field} must hold ${typeof bytes === 'number' ? bytes : `at least ${bytes.min}`} bytes`);
  }
  return buf;
}

/** Checks the file's shape before any crypto, so a damaged file gets a message, not a crypto error. */
function parseKeystore(text: string, path: string): { file: KeystoreFile; salt: Buffer; iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const invalid = (why: string) =>
    new SignerConfigError('KEYSTORE_INVALID', `${path} is not a valid Arbiter keystore: ${why}`);
  let raw: any;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid('it is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('it is not a JSON object');
  if (raw.version !== 1) throw invalid(`unsupported version ${JSON.stringify(raw.version)} (expected 1)`);
  const problems: string[] = [];
  if (raw.kdf !== 'scrypt') problems.push('kdf must be "scrypt"');
  if (raw.cipher !== 'aes-256-gcm') problems.push('cipher must be "aes-256-gcm"');
  const kp = raw.kdfparams;
  let salt: Buffer = Buffer.alloc(0);
  if (typeof kp !== 'object' || kp === null) problems.push('kdfparams is missing');
  else {
    const bad = checkScryptParams(kp.N, kp.r, kp.p);
    if (bad) problems.push(`kdfparams: ${bad}`);
    salt = b64(kp.salt, { min: 16 }, 'kdfparams.salt', problems);
  }
  const iv = b64(raw.iv, 12, 'iv', problems);
  const tag = b64(raw.tag, 16, 'tag', problems);
  const ciphertext = b64(raw.ciphertext, 32, 'ciphertext', problems);
  if (typeof raw.publicKey !== 'string' || !/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(raw.publicKey)) problems.push('publicKey must be a base58 Solana address');
  if (typeof raw.keyId !== 'string' || raw.keyId.length === 0 || raw.keyId.length > 200) problems.push('keyId must be a non-empty string');
  if (problems.length) throw invalid(problems.join('; '));
  return { file: raw as KeystoreFile, salt, iv, tag, ciphertext };
}

export class KeystoreSigner implements Signer {
  readonly kind = 'keystore' as const;

  private constructor(
    readonly keyId: string,
    /** Absolute path of the keystore file. */
    readonly path: string,
    private readonly privateKey: KeyObject,
    private readonly rawPublic: Uint8Array,
    private readonly address: string,
    /** Things an operator should fix but that do not stop signing (e.g. loose file permissions). */
    readonly warnings: readonly string[],
  ) {}

  /** Decrypts the keystore at `path`. The seed lives only in the returned signer's KeyObject. */
  static async open(path: string, passphrase: string): Promise<KeystoreSigner> {
    const abs = resolve(path);
    let text: string;
    let mode: number;
    try {
      mode = (await stat(abs)).mode;
      text = await readFile(abs, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new SignerConfigError('KEYSTORE_MISSING', `no keystore at ${abs} (check KEYSTORE_PATH, or create one)`);
      if (code === 'EACCES') throw new SignerConfigError('KEYSTORE_MISSING', `keystore ${abs} cannot be read by this user (permission denied)`);
      if (code === 'EISDIR') throw new SignerConfigError('KEYSTORE_INVALID', `keystore path ${abs} is a directory, not a file`);
      throw new SignerConfigError('KEYSTORE_MISSING', `keystore ${abs} cannot be read (${code ?? 'unknown error'})`);
    }
    checkPassphrase(passphrase, abs);
    const { file, salt, iv, tag, ciphertext } = parseKeystore(text, abs);
    const { N, r, p } = file.kdfparams;

    const aesKey = await scrypt(passphrase, salt, N, r, p);
    let seed: Buffer<ArrayBufferLike> | undefined;
    let pkcs8: Buffer<ArrayBufferLike> | undefined;
    let privateKey: KeyObject;
    try {
      try {
        const decipher = createDecipheriv('aes-256-gcm', aesKey, iv);
        decipher.setAAD(associatedData(file));
        decipher.setAuthTag(tag);
        const head = decipher.update(ciphertext);
        const tail = decipher.final();
        seed = Buffer.concat([head, tail]);
        head.fill(0);
        tail.fill(0);
      } catch {
        throw new SignerConfigError('KEYSTORE_LOCKED', `keystore ${abs}: ${WRONG_PASSPHRASE}`);
      }
      pkcs8 = Buffer.concat([PKCS8_PREFIX, seed]);
      privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    } finally {
      aesKey.fill(0);
      seed?.fill(0);
      pkcs8?.fill(0);
    }

    const rawPublic = rawPublicKey(createPublicKey(privateKey));
    const address = bs58.encode(rawPublic);
    // GCM already binds publicKey to the ciphertext; this catches a keystore written wrongly.
    if (address !== file.publicKey) {
      throw new SignerConfigError('KEYSTORE_INVALID', `keystore ${abs}: its key does not match its recorded public key ${file.publicKey}`);
    }
    const warnings: string[] = [];
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      warnings.push(`keystore ${abs} is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`);
    }
    return new KeystoreSigner(file.keyId, abs, privateKey, rawPublic, address, warnings);
  }

  async publicKey(): Promise<Uint8Array> {
    return new Uint8Array(this.rawPublic);
  }

  async publicKeyBase58(): Promise<string> {
    return this.address;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    checkSignRequest(message);
    return new Uint8Array(cryptoSign(null, message, this.privateKey));
  }

  /** Keeps the private key out of logs and JSON dumps of the signer. */
  toJSON(): Record<string, string> {
    return { kind: this.kind, keyId: this.keyId, publicKey: this.address, path: this.path };
  }
}
