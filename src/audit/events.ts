// Events of the audit context: every evidence bundle exported is recorded (who exported what
// range, when, and the digest of the file they got), so the log answers "who has seen what".
import { defineEvent, type PayloadOf } from '../ledger/event-types.js';
import { array, int, isoTime, nullable, obj, str, uuid } from '../ledger/schema.js';

/** One stream per export. */
export const auditExportStreamId = (exportId: string) => `audit-export-${exportId}`;

const position = str({ pattern: /^\d{1,20}$/ });

export const AuditBundleExported = defineEvent({
  type: 'AuditBundleExported',
  version: 1,
  payload: obj({
    exportId: uuid(),
    actor: str({ min: 1, max: 200 }),
    /** How the bundle was asked for: cli or rest. */
    via: str({ oneOf: ['cli', 'rest'] }),
    selection: obj({
      from: nullable(isoTime()),
      to: nullable(isoTime()),
      streamId: nullable(str({ min: 1, max: 200 })),
      correlationId: nullable(str({ min: 1, max: 200 })),
    }),
    fromPosition: position,
    toPosition: position,
    events: int({ min: 0 }),
    reports: array(str({ oneOf: ['daily_transactions', 'suspicious_activity'] }), { max: 2 }),
    /** SHA-256 of the bundle's lines before its trailer (the trailer's digest). */
    digest: str({ pattern: /^[0-9a-f]{64}$/ }),
  }),
});
export type AuditBundleExportedPayload = PayloadOf<typeof AuditBundleExported>;

export const auditEvents = [AuditBundleExported];
