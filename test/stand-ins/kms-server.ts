// A local stand-in for AWS KMS, speaking its JSON 1.1 protocol (POST /, x-amz-target
// TrentService.<Op>, application/x-amz-json-1.1, blobs in base64) for CreateKey, GetPublicKey,
// Sign and DescribeKey, with keys held by node:crypto. It does not check SigV4 signatures,
// only that an Authorization header is present, so a test knows the real SDK signed the request.
// Failure switches (disable a key, deny access, answer 500, answer garbage, reshape an answer)
// exercise error mapping.
import { createPublicKey, generateKeyPairSync, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInKey {
  keyId: string;
  arn: string;
  keySpec: 'ECC_NIST_EDWARDS25519' | 'ECC_NIST_P256';
  privateKey: KeyObject;
  /** DER SPKI, as KMS returns it. */
  spki: Buffer;
  enabled: boolean;
  denied: boolean;
}

export interface SeenRequest {
  target: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

type Failure =
  | { kind: 'status'; status: number; type: string }
  | { kind: 'garbage' }
  | { kind: 'bad-signature' }
  | { kind: 'reshape'; fields: Record<string, unknown> };

const ACCOUNT = '111122223333';

export class KmsStandIn {
  readonly keys = new Map<string, StandInKey>();
  readonly requests: SeenRequest[] = [];
  private readonly aliases = new Map<string, string>();
  private failures: Failure[] = [];
  private server: Server | null = null;
  endpoint = '';

  constructor(readonly region = 'us-east-1') {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const reply = this.handle(req.method ?? '', req.url ?? '', req.headers, Buffer.concat(chunks).toString('utf8'));
        res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
        res.end(reply.body);
      });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((ok) => s.close(() => ok()));
  }

  /** Makes a key directly (tests may also use CreateKey through the SDK). */
  createKey(keySpec: StandInKey['keySpec'] = 'ECC_NIST_EDWARDS25519'): StandInKey {
    const keyId = randomUUID();
    const { privateKey } =
      keySpec === 'ECC_NIST_EDWARDS25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key: StandInKey = {
      keyId,
      arn: `arn:aws:kms:${this.region}:${ACCOUNT}:key/${keyId}`,
      keySpec,
      privateKey,
      spki: createPublicKey(privateKey).export({ format: 'der', type: 'spki' }),
      enabled: true,
      denied: false,
    };
    this.keys.set(keyId, key);
    return key;
  }

  alias(name: string, keyId: string): void {
    this.aliases.set(name, keyId);
  }

  /** The next `count` requests get HTTP `status` with error `type` (default an internal error). */
  failNext(count = 1, status = 500, type = 'KMSInternalException'): void {
    for (let i = 0; i < count; i++) this.failures.push({ kind: 'status', status, type });
  }

  /** The next request gets a 200 whose body is not JSON. */
  garbageNext(): void {
    this.failures.push({ kind: 'garbage' });
  }

  /** The next Sign returns a well-formed signature made by some other key. */
  wrongSignatureNext(): void {
    this.failures.push({ kind: 'bad-signature' });
  }

  /**
   * The next answer (GetPublicKey or Sign) is a 200 whose JSON has `fields` laid over the real
   * reply: a value replaces the field, `undefined` removes it. Blobs are base64 text, as on the
   * wire. For answers a real KMS should never send (wrong key spec, short signature, no key).
   */
  reshapeNext(fields: Record<string, unknown>): void {
    this.failures.push({ kind: 'reshape', fields });
  }

  private find(id: unknown): StandInKey | undefined {
    if (typeof id !== 'string') return undefined;
    let s = id;
    if (s.startsWith('alias/')) s = this.aliases.get(s) ?? '';
    const m = /^arn:aws:kms:[^:]+:\d+:key\/(.+)$/.exec(s);
    if (m) s = m[1]!;
    return this.keys.get(s);
  }

  private handle(method: string, url: string, headers: IncomingHttpHeaders, raw: string): { status: number; body: string } {
    const error = (status: number, type: string, message: string) => ({ status, body: JSON.stringify({ __type: type, message }) });
    const target = String(headers['x-amz-target'] ?? '');
    let body: Record<string, unknown> = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      return error(400, 'SerializationException', 'request body is not JSON');
    }
    this.requests.push({ target, headers, body });
    if (method !== 'POST' || url !== '/') return error(404, 'UnknownOperationException', `${method} ${url}`);
    if (!String(headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
      return error(400, 'SerializationException', 'content-type must be application/x-amz-json-1.1');
    }
    if (!String(headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      return error(400, 'MissingAuthenticationTokenException', 'Request is missing Authentication Token');
    }
    const failure = this.failures.shift();
    if (failure?.kind === 'status') return error(failure.status, failure.type, 'stand-in failure on request');
    if (failure?.kind === 'garbage') return { status: 200, body: '<html>not json' };

    const reply = this.answer(target, body, failure);
    if (failure?.kind !== 'reshape' || reply.status !== 200) return reply;
    const reshaped = { ...(JSON.parse(reply.body) as Record<string, unknown>), ...failure.fields };
    for (const [k, v] of Object.entries(failure.fields)) if (v === undefined) delete reshaped[k];
    return { status: 200, body: JSON.stringify(reshaped) };
  }

  private answer(target: string, body: Record<string, unknown>, failure: Failure | undefined): { status: number; body: string } {
    const error = (status: number, type: string, message: string) => ({ status, body: JSON.stringify({ __type: type, message }) });
    const op = target.replace(/^TrentService\./, '');
    if (op === 'CreateKey') {
      const spec = (body.KeySpec ?? 'SYMMETRIC_DEFAULT') as string;
      if (spec !== 'ECC_NIST_EDWARDS25519' && spec !== 'ECC_NIST_P256') return error(400, 'ValidationException', `stand-in cannot make ${spec} keys`);
      if (body.KeyUsage !== 'SIGN_VERIFY') return error(400, 'ValidationException', 'KeyUsage must be SIGN_VERIFY');
      return { status: 200, body: JSON.stringify({ KeyMetadata: this.metadata(this.createKey(spec)) }) };
    }
    const key = this.find(body.KeyId);
    if (!key) return error(400, 'NotFoundException', `Key '${String(body.KeyId)}' does not exist`);
    if (key.denied) {
      return error(400, 'AccessDeniedException', `User: arn:aws:iam::${ACCOUNT}:user/test is not authorized to perform: kms:${op} on resource: ${key.arn}`);
    }
    if (op === 'DescribeKey') return { status: 200, body: JSON.stringify({ KeyMetadata: this.metadata(key) }) };
    if (!key.enabled) return error(400, 'DisabledException', `${key.arn} is disabled.`);
    if (op === 'GetPublicKey') {
      const algorithms = key.keySpec === 'ECC_NIST_EDWARDS25519' ? ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] : ['ECDSA_SHA_256'];
      return {
        status: 200,
        body: JSON.stringify({
          KeyId: key.arn,
          PublicKey: key.spki.toString('base64'),
          CustomerMasterKeySpec: key.keySpec,
          KeySpec: key.keySpec,
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: algorithms,
        }),
      };
    }
    if (op === 'Sign') {
      if (typeof body.Message !== 'string') return error(400, 'ValidationException', 'Message is required');
      const message = Buffer.from(body.Message, 'base64');
      if (message.length < 1 || message.length > 4096) return error(400, 'ValidationException', 'Message must be 1 to 4096 bytes');
      if (key.keySpec !== 'ECC_NIST_EDWARDS25519' || body.SigningAlgorithm !== 'ED25519_SHA_512') {
        return error(400, 'InvalidKeyUsageException', `${String(body.SigningAlgorithm)} is not valid for ${key.arn}`);
      }
      if ((body.MessageType ?? 'RAW') !== 'RAW') return error(400, 'ValidationException', 'ED25519_SHA_512 requires MessageType RAW');
      const signer = failure?.kind === 'bad-signature' ? generateKeyPairSync('ed25519').privateKey : key.privateKey;
      const signature = cryptoSign(null, message, signer);
      return { status: 200, body: JSON.stringify({ KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: 'ED25519_SHA_512' }) };
    }
    return error(400, 'UnknownOperationException', `stand-in does not implement ${target}`);
  }

  private metadata(key: StandInKey): Record<string, unknown> {
    return {
      AWSAccountId: ACCOUNT,
      KeyId: key.keyId,
      Arn: key.arn,
      CreationDate: Math.floor(Date.now() / 1000),
      Enabled: key.enabled,
      KeyState: key.enabled ? 'Enabled' : 'Disabled',
      KeyUsage: 'SIGN_VERIFY',
      KeySpec: key.keySpec,
      CustomerMasterKeySpec: key.keySpec,
      KeyManager: 'CUSTOMER',
      Origin: 'AWS_KMS',
      SigningAlgorithms: key.keySpec === 'ECC_NIST_EDWARDS25519' ? ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] : ['ECDSA_SHA_256'],
    };
  }
}
