// The parts of KMS's GetPublicKey and Sign answers the signer relies on, declared once in zod.
// The SDK's output types mark every field optional and check nothing, so a wrong key spec, a
// missing public key or a short signature would otherwise surface as a crash far from KMS. Each
// wrong field is named; whether an operator must act (the key itself is wrong) or KMS sent a bad
// reply (try again) is decided by which fields are wrong.
import { z } from 'zod';
import { ED25519_SPKI_PREFIX } from '../signer.port.js';

const ED25519_SPEC = 'ECC_NIST_EDWARDS25519';
const ED25519_ALGORITHM = 'ED25519_SHA_512';
/** A DER SPKI of an Ed25519 key: the 12-byte RFC 8410 prefix, then the 32-byte key. */
const ED25519_SPKI_BYTES = ED25519_SPKI_PREFIX.length + 32;
const ED25519_SIGNATURE_BYTES = 64;

const shown = (v: unknown) =>
  v === undefined ? 'none' : v instanceof Uint8Array ? `${v.length} bytes` : typeof v === 'string' ? v : JSON.stringify(v);
const got = (text: string) => (iss: { input?: unknown }) => `${text} (got ${shown(iss.input)})`;
const bytes = (text: string) => z.instanceof(Uint8Array, { error: got(text) });

const keyId = z.string({ error: got('must name the key') }).min(1, { error: got('must name the key') });

export const getPublicKeyAnswer = z.looseObject({
  KeyId: keyId,
  KeySpec: z.literal(ED25519_SPEC, { error: got(`must be ${ED25519_SPEC}: Solana needs an Ed25519 key`) }),
  // Absent in some older answers; when present it must allow signing.
  KeyUsage: z.literal('SIGN_VERIFY', { error: got('must be SIGN_VERIFY') }).optional(),
  SigningAlgorithms: z
    .array(z.string(), { error: got(`must list ${ED25519_ALGORITHM}`) })
    .refine((a) => a.includes(ED25519_ALGORITHM), { error: got(`must list ${ED25519_ALGORITHM}`) })
    .optional(),
  PublicKey: bytes(`must be a ${ED25519_SPKI_BYTES}-byte DER SPKI of an Ed25519 key`).refine(
    (der) => der.length === ED25519_SPKI_BYTES && ED25519_SPKI_PREFIX.every((b, i) => der[i] === b),
    { error: got(`must be a ${ED25519_SPKI_BYTES}-byte DER SPKI of an Ed25519 key`) },
  ),
});
export type GetPublicKeyAnswer = z.output<typeof getPublicKeyAnswer>;

export const signAnswer = z.looseObject({
  KeyId: keyId,
  Signature: bytes(`must be a ${ED25519_SIGNATURE_BYTES}-byte Ed25519 signature`).refine((s) => s.length === ED25519_SIGNATURE_BYTES, {
    error: got(`must be a ${ED25519_SIGNATURE_BYTES}-byte Ed25519 signature`),
  }),
  SigningAlgorithm: z.literal(ED25519_ALGORITHM, { error: got(`must be ${ED25519_ALGORITHM}`) }).optional(),
});
export type SignAnswer = z.output<typeof signAnswer>;

/** Fields that describe the key itself: wrong ones mean the operator picked the wrong key. */
const KEY_PROPERTIES = new Set(['KeySpec', 'KeyUsage', 'SigningAlgorithms']);

export type AnswerCheck<T> = { ok: true; value: T } | { ok: false; keyProblems: string[]; replyProblems: string[] };

/** Parses an SDK answer; problems come back split into the key's fault and the reply's fault. */
export function checkAnswer<S extends z.ZodType>(schema: S, answer: unknown): AnswerCheck<z.output<S>> {
  const r = schema.safeParse(answer);
  if (r.success) return { ok: true, value: r.data };
  const keyProblems: string[] = [];
  const replyProblems: string[] = [];
  for (const i of r.error.issues) {
    const field = i.path.map(String).join('.');
    const text = field ? `${field} ${i.message}` : i.message;
    (KEY_PROPERTIES.has(String(i.path[0])) ? keyProblems : replyProblems).push(text);
  }
  return { ok: false, keyProblems, replyProblems };
}
