// The one deterministic UUID: the same parts always give the same id, so a retried command,
// a replayed request (Idempotency-Key) or a re-run screening writes the same event or flag id
// instead of a second one. Ids already stored were made this way: the derivation must not change
// (test/unit/ledger/ledger-fixture.test.ts recomputes ids kept from before).
import { createHash } from 'node:crypto';

/**
 * A UUID in the version-5 layout (version nibble 5, RFC 4122 variant) over the first 16 bytes of
 * SHA-256 of `text` (not RFC 4122's SHA-1 name-based UUID: no namespace, a stronger hash).
 */
export function uuidFromText(text: string): string {
  const h = createHash('sha256').update(text, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** The parts joined by NUL (which no part may hold unnoticed: ids of different part lists differ). */
export function deterministicUuid(...parts: string[]): string {
  return uuidFromText(parts.join('\u0000'));
}
