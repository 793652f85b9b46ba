// Tamper evidence. Each event's content is hashed over its canonical JSON (RFC 8785 JCS, on the
// values the store allows: src/shared/canonical-json.ts), and chained to the previous event of its stream:
//   contentHash = sha256(canonicalJson({id,type,version,streamId,recordedAt,metadata,payload}))
//   hash        = sha256(prevHash + "|" + revision + "|" + contentHash)
// and every event also chains to the previous event of the whole log (migrations/007):
//   logHash     = sha256(prevLogHash + "|" + position + "|" + hash)     (64 zeros before the first)
// so one (position, logHash) pair commits to the entire log up to that position, in order; a
// signed seal of it (src/audit, the event in src/ledger/sealing) makes removal, reordering or rewriting before it provable.
// The PostgreSQL adapter computes both steps in SQL with the same formulas, so `verify` can
// recompute them from nothing but the stored rows.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../shared/canonical-json.js';

export const GENESIS_HASH = '0'.repeat(64);

/** The canonical JSON events are hashed over (RFC 8785, safe integers only): see src/shared/canonical-json.ts. */
export { canonicalJson } from '../shared/canonical-json.js';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface HashableEvent {
  id: string;
  type: string;
  version: number;
  streamId: string;
  recordedAt: string;
  metadata: { correlationId: string; causationId: string | null; actor: string; tenant: string };
  payload: unknown;
}

export function contentHash(e: HashableEvent): string {
  return sha256Hex(
    canonicalJson({
      id: e.id,
      type: e.type,
      version: e.version,
      streamId: e.streamId,
      recordedAt: e.recordedAt,
      metadata: {
        correlationId: e.metadata.correlationId,
        causationId: e.metadata.causationId,
        actor: e.metadata.actor,
        tenant: e.metadata.tenant,
      },
      payload: e.payload,
    }),
  );
}

export function chainHash(prevHash: string, revision: bigint, content: string): string {
  return sha256Hex(`${prevHash}|${revision}|${content}`);
}

/** One step of the global chain (see the top of this file). */
export function logChainHash(prevLogHash: string, position: bigint, hash: string): string {
  return sha256Hex(`${prevLogHash}|${position}|${hash}`);
}
