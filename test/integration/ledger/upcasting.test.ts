// Upcasting on the real PostgreSQL (docs/decisions/0017): a log written partly by a build that
// knew ComplianceScreened at version 1 and partly by one at version 2. Reads hand out version 2
// only (v1 rows with ruleSet: null), the screening memory folds both, and verify still passes
// because the hashes are over the rows as stored, never over their upcast form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ComplianceScreened,
  ComplianceScreenedV1Schema,
  historyFromScreened,
  screeningPayloads,
  type ComplianceScreenedPayload,
  type ComplianceScreenedV1Payload,
} from '../../../src/compliance/events.js';
import { screen, type ComplianceRulesConfig } from '../../../src/compliance/rules.js';
import { buildEventRegistry } from '../../../src/event-catalog.js';
import { defineEvent, EventTypeRegistry, newEvent } from '../../../src/ledger/event-types.js';
import { InvalidEventError } from '../../../src/ledger/errors.js';
import type { RecordedEvent } from '../../../src/ledger/envelope.js';
import { PostgresEventStore } from '../../../src/ledger/postgres/postgres-event-store.js';
import { verifyLog } from '../../../src/ledger/verify.js';
import { freshDatabase, type TestDatabase } from '../../support/db.js';
import { tamper } from '../../support/tamper.js';

const meta = { correlationId: 'corr-up', causationId: null, actor: 'test', tenant: 'default' };
const USD = 1_000_000n;
const rules: ComplianceRulesConfig = {
  largeTxThresholdUsdMicros: 10_000n * USD,
  velocityWindowSeconds: 60,
  velocityMaxCount: 100,
  velocityMaxNotionalUsdMicros: 1_000_000n * USD,
  structuringWindowSeconds: 86_400,
  structuringBandBps: 1_000,
  structuringMinCount: 3,
};

/** ComplianceScreened as the build before decision 0017 declared it. */
const ComplianceScreenedAtV1 = defineEvent({ type: 'ComplianceScreened', version: 1, payload: ComplianceScreenedV1Schema });

const v1Payload = (opportunityId: string, notional: string, decision: 'clear' | 'blocked' = 'clear'): ComplianceScreenedV1Payload => ({
  opportunityId,
  decision,
  rulesEvaluated: [{ rule: 'sanctioned_address', fired: decision === 'blocked' }],
  flags: [],
  at: '2026-03-02T12:00:00.000Z',
  notionalUsdMicros: notional,
  sanctionsListVersion: '0123456789abcdef0123456789abcdef',
});

const v2Payload = (opportunityId: string, notional: bigint): ComplianceScreenedPayload => {
  const trade = { opportunityId, counterparties: [], notionalUsdMicros: notional, at: '2026-03-02T12:00:30.000Z' };
  return screeningPayloads(trade, screen(trade, [], rules, new Set()), rules, 'fedcba9876543210fedcba9876543210').screened;
};

describe('ComplianceScreened v1 → v2 on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  beforeAll(async () => {
    db = await freshDatabase();
    // The old build: its registry knows version 1 only.
    const oldBuild = new PostgresEventStore(db.sql, new EventTypeRegistry(false).register(ComplianceScreenedAtV1));
    await oldBuild.append('compliance-mixed', [newEvent(ComplianceScreenedAtV1, v1Payload('opp-1', '5000000'), meta)], 'any');
    await oldBuild.append('compliance-mixed', [newEvent(ComplianceScreenedAtV1, v1Payload('opp-2', '7000000', 'blocked'), meta)], 'any');
    // The new build appends version 2 to the same stream.
    store = new PostgresEventStore(db.sql, buildEventRegistry());
    await store.append('compliance-mixed', [newEvent(ComplianceScreened, v2Payload('opp-3', 9n * USD), meta)], 'any');
  });
  afterAll(() => db.drop());

  it('refuses to append version 1 once version 2 is current', async () => {
    const stale = { ...newEvent(ComplianceScreened, v2Payload('opp-x', 1n), meta), version: 1 };
    await expect(store.append('compliance-mixed', [stale], 'any')).rejects.toThrow(/must be written at schema version 2, not 1/);
  });

  it('stores v1 rows as written and hands every row out at version 2', async () => {
    const raw = await store.readStream('compliance-mixed', { raw: true });
    expect(raw.map((e) => e.version)).toEqual([1, 1, 2]);
    expect(raw[0].payload).not.toHaveProperty('ruleSet');

    const read = (await store.readStream('compliance-mixed')) as RecordedEvent<ComplianceScreenedPayload>[];
    expect(read.map((e) => e.version)).toEqual([2, 2, 2]);
    expect(read.map((e) => e.payload.ruleSet)).toEqual([null, null, expect.objectContaining({ version: expect.stringMatching(/^[0-9a-f]{32}$/) })]);
    expect(read[2].payload.ruleSet!.thresholds.largeTxThresholdUsdMicros).toBe('10000000000');
    // The same through the global log.
    const all = await store.readAll({ after: 0n, maxCount: 10 });
    expect(all.map((e) => e.version)).toEqual([2, 2, 2]);
  });

  it('folds the mixed log into the screening memory: blocked v1 left out, v1 and v2 trades counted', async () => {
    const history = historyFromScreened(await store.readStream('compliance-mixed'));
    expect(history.map((h) => [h.opportunityId, h.notionalUsdMicros])).toEqual([
      ['opp-1', 5_000_000n],
      ['opp-3', 9_000_000n],
    ]);
  });

  it('verify passes: the hashes of v1 rows are over the stored v1 payload', async () => {
    const r = await verifyLog(store);
    expect(r).toMatchObject({ ok: true, eventsChecked: 3, failure: null });
    expect((await verifyLog(store, { streamId: 'compliance-mixed' })).ok).toBe(true);
  });

  it('a stored v1 row that does not fit version 1 is refused on read, naming the field', async () => {
    await tamper(db.sql, `UPDATE events SET payload = payload || '{"colour":"red"}'::jsonb WHERE stream_id = 'compliance-mixed' AND stream_revision = 0`);
    const err = await store.readStream('compliance-mixed').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidEventError);
    expect((err as Error).message).toMatch(/payload\.colour is not a known field/);
    // And verify, which reads rows as stored, names the same row as altered.
    const r = await verifyLog(store);
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({ streamId: 'compliance-mixed', revision: 0n });
  });
});
