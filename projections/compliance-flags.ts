// Compliance flags as cases: one row per flag, its rule, severity and evidence, and where its
// case stands (open → reviewed → closed) with who reviewed or closed it, their notes and when.
// The fold mirrors src/compliance/cases.ts (evolveFlagCase): a re-raised flag is an idempotent
// retry and changes nothing. Case times are when the ledger recorded each step.
import type { RecordedEvent } from '../src/ledger/envelope.js';
import type { ProjectionDefinition } from '../src/projections/projection.js';
import type {
  ComplianceFlagClosedPayload,
  ComplianceFlagRaisedPayload,
  ComplianceFlagReviewedPayload,
} from '../src/compliance/events.js';
import type { SqlExecutor } from '../src/shared/sql/sql-client.js';
import { col, upsertSql, type Col } from './sql.js';

export const FLAG_EVENT_TYPES = ['ComplianceFlagRaised', 'ComplianceFlagReviewed', 'ComplianceFlagClosed'];

/** Columns shared by compliance_flags and the suspicious-activity report. */
export const FLAG_COLS: Col[] = [
  col('flag_id', 'uuid', 'key'),
  col('opportunity_id', 'text', 'keep'),
  col('rule', 'text', 'keep'),
  col('severity', 'text', 'keep'),
  col('evidence', 'jsonb', 'keep'),
  col('raised_at', 'timestamptz', 'keep'),
  col('raised_position', 'bigint', 'keep'),
  col('status', 'text'),
  col('reviewed_by', 'text'),
  col('reviewed_at', 'timestamptz'),
  col('review_note', 'text'),
  col('closed_by', 'text'),
  col('closed_at', 'timestamptz'),
  col('close_note', 'text'),
  col('outcome', 'text'),
  col('last_position', 'bigint', 'max'),
];

/** DDL of the flag columns (the table name and extra columns are the caller's). */
export const FLAG_COLUMNS_DDL = `
      flag_id         uuid PRIMARY KEY,
      opportunity_id  text,
      rule            text,
      severity        text,
      evidence        jsonb,
      raised_at       timestamptz,
      raised_position bigint UNIQUE,
      status          text NOT NULL,
      reviewed_by     text,
      reviewed_at     timestamptz,
      review_note     text,
      closed_by       text,
      closed_at       timestamptz,
      close_note      text,
      outcome         text,
      last_position   bigint NOT NULL`;

const RANK: Record<string, number> = { open: 0, reviewed: 1, closed: 2 };

/**
 * Folds the batch's flag events into one patch per flag. Status only moves forward within a
 * batch; across batches the SQL merge keeps the later event's status (events arrive in order).
 */
export function foldFlags(events: RecordedEvent[]): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const e of events) {
    if (!FLAG_EVENT_TYPES.includes(e.type)) continue;
    const flagId = (e.payload as { flagId: string }).flagId;
    let r = out.get(flagId);
    if (!r) out.set(flagId, (r = { flag_id: flagId }));
    r.last_position = e.position;
    if (e.type === 'ComplianceFlagRaised') {
      const p = e.payload as ComplianceFlagRaisedPayload;
      if (r.raised_position !== undefined) continue; // raised once; a re-append is a retry
      Object.assign(r, {
        opportunity_id: p.opportunityId,
        rule: p.rule,
        severity: p.severity,
        evidence: p.evidence,
        raised_at: e.recordedAt,
        raised_position: e.position,
      });
      if (r.status === undefined) r.status = 'open';
    } else if (e.type === 'ComplianceFlagReviewed') {
      const p = e.payload as ComplianceFlagReviewedPayload;
      Object.assign(r, { reviewed_by: p.actor, reviewed_at: e.recordedAt, review_note: p.note });
      if ((RANK[r.status as string] ?? -1) < RANK.reviewed) r.status = 'reviewed';
    } else {
      const p = e.payload as ComplianceFlagClosedPayload;
      Object.assign(r, { closed_by: p.actor, closed_at: e.recordedAt, close_note: p.note, outcome: p.outcome ?? null, status: 'closed' });
    }
  }
  return out;
}

/** Status in SQL: never move a case backwards (a late retry of the raise keeps a closed case closed). */
export function flagUpsertStatusGuard(sql: string): string {
  return sql.replace(
    'status = COALESCE(EXCLUDED.status, t.status)',
    `status = CASE WHEN t.status = 'closed' OR (t.status = 'reviewed' AND EXCLUDED.status = 'open') THEN t.status ELSE EXCLUDED.status END`,
  );
}

export const complianceFlags: ProjectionDefinition = {
  name: 'compliance',
  version: 1,
  eventTypes: FLAG_EVENT_TYPES,
  tables: ['compliance_flags'],
  ddl: `
    CREATE TABLE compliance_flags (${FLAG_COLUMNS_DDL}
    );
    CREATE INDEX compliance_flags_status ON compliance_flags (status, raised_position);
    CREATE INDEX compliance_flags_raised_at ON compliance_flags (raised_at);
    CREATE INDEX compliance_flags_opportunity ON compliance_flags (opportunity_id);`,
  async apply(tx, events) {
    await upsertFlags(tx, 'compliance_flags', FLAG_COLS, [...foldFlags(events).values()]);
  },
};

/** One statement for the batch's flags, with the status guard. */
export async function upsertFlags(tx: SqlExecutor, table: string, cols: Col[], rows: Record<string, unknown>[]): Promise<void> {
  if (!rows.length) return;
  const arrays = cols.map((c) =>
    rows.map((r) => {
      const v = r[c.name];
      if (v === undefined || v === null) return null;
      if (typeof v === 'bigint') return v.toString();
      return c.type === 'jsonb' ? JSON.stringify(v) : v;
    }),
  );
  await tx.query(flagUpsertStatusGuard(upsertSql(table, cols)), arrays);
}
