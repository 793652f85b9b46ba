// Anchoring port: puts a seal's (position, hash) somewhere outside the database, where whoever
// controls the database cannot reach it. The offline default is no anchor (seals are still
// signed and kept in the log; `arbiter digest` lets an auditor keep one by hand). The Solana
// adapter writes the seal as a memo transaction (solana/solana-memo-anchor.ts).
import type { SealAnchor } from '../ledger/sealing/seal.js';

export const SEAL_ANCHOR = Symbol('SEAL_ANCHOR');

export interface SealAnchorPort {
  readonly name: string;
  /** Writes the memo outside; resolves once it is confirmed there. */
  anchor(memo: string): Promise<SealAnchor>;
  /** Null when the anchor is found outside and carries exactly `memo`, else why not. */
  check(anchor: SealAnchor): Promise<string | null>;
}
