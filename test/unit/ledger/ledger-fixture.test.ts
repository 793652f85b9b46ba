// Stored hashes and derived ids must never change: test/fixtures/ledger-fixture.json holds a log
// appended through the PostgreSQL adapter, with the hashes it recorded, ids from the deterministic
// UUID and idempotency fingerprints, all made by the code before canonical JSON and the UUID were
// unified (test/fixtures/make-ledger-fixture.ts). Today's code must give every one of them again.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requestFingerprint } from '../../../src/api/http/idempotency.js';
import { deterministicFlagId, type ComplianceRule } from '../../../src/compliance/rules.js';
import { deterministicUuid } from '../../../src/ledger/decide-and-append.js';
import { chainHash, contentHash, GENESIS_HASH, logChainHash } from '../../../src/ledger/hash-chain.js';

interface FixtureEvent {
  streamId: string;
  revision: string;
  position: string;
  id: string;
  type: string;
  version: number;
  recordedAt: string;
  metadata: { correlationId: string; causationId: string | null; actor: string; tenant: string };
  payload: unknown;
  contentHash: string;
  prevHash: string;
  hash: string;
  logHash: string;
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/ledger-fixture.json', import.meta.url), 'utf8')) as {
  events: FixtureEvent[];
  deterministicUuids: { parts: string[]; id: string }[];
  flagIds: { rule: ComplianceRule; opportunityId: string; id: string }[];
  idempotencyFingerprints: { route: string; params: unknown; body: unknown; fingerprint: string }[];
};

describe('the fixture log recomputed with today’s code', () => {
  it('holds a log worth checking', () => {
    expect(fixture.events.length).toBeGreaterThanOrEqual(20);
    expect(new Set(fixture.events.map((e) => e.type)).size).toBeGreaterThanOrEqual(5);
  });

  it('gives every stored content hash, stream chain hash and global chain hash again', () => {
    const streamHeads = new Map<string, string>();
    let logHead = GENESIS_HASH;
    for (const e of fixture.events) {
      const content = contentHash(e);
      expect(content, `${e.type} at ${e.position}`).toBe(e.contentHash);
      const prev = streamHeads.get(e.streamId) ?? GENESIS_HASH;
      expect(e.prevHash).toBe(prev);
      const hash = chainHash(prev, BigInt(e.revision), content);
      expect(hash, `${e.type} at ${e.position}`).toBe(e.hash);
      streamHeads.set(e.streamId, hash);
      logHead = logChainHash(logHead, BigInt(e.position), hash);
      expect(logHead, `log hash at ${e.position}`).toBe(e.logHash);
    }
  });

  it('derives the same ids and fingerprints', () => {
    for (const { parts, id } of fixture.deterministicUuids) expect(deterministicUuid(...parts)).toBe(id);
    for (const { rule, opportunityId, id } of fixture.flagIds) expect(deterministicFlagId(rule, opportunityId)).toBe(id);
    for (const f of fixture.idempotencyFingerprints) expect(requestFingerprint(f.route, f.params, f.body)).toBe(f.fingerprint);
    // The flag ids inside the stored events are the deterministic ones.
    for (const e of fixture.events.filter((x) => x.type === 'ComplianceFlagRaised')) {
      const p = e.payload as { flagId: string; opportunityId: string; rule: ComplianceRule };
      expect(deterministicFlagId(p.rule, p.opportunityId)).toBe(p.flagId);
    }
  });
});
