// Events of the audit context: every evidence bundle exported is recorded (who exported what
// range, when, and the digest of the file they got), so the log answers "who has seen what".
import { defineEvent } from '../ledger/event-types.js';
import { array, int, isoTime, obj, optional, str, uuid } from '../ledger/schema.js';

/** One stream per export. */
export const auditExportStreamId = (exportId: string) => `audit-export-${exportId}`;

export interface AuditBundleExportedPayload {
  exportId: string;
  actor: string;
  /** How the bundle was asked for: cli or rest. */
  via: 'cli' | 'rest';
  selection: { from: string | null; to: string | null; streamId: string | null; correlationId: string | null };
  fromPosition: string;
  toPosition: string;
  events: number;
  reports: string[];
  /** SHA-256 of the bundle's lines before its trailer (the trailer's digest). */
  digest: string;
}

const position = str({ pattern: /^\d{1,20}$/ });

export const AuditBundleExported = defineEvent<AuditBundleExportedPayload>({
  type: 'AuditBundleExported',
  version: 1,
  payload: obj({
    exportId: uuid(),
    actor: str({ min: 1, max: 200 }),
    via: str({ oneOf: ['cli', 'rest'] }),
    selection: obj({
      from: optional(isoTime()),
      to: optional(isoTime()),
      streamId: optional(str({ min: 1, max: 200 })),
      correlationId: optional(str({ min: 1, max: 200 })),
    }),
    fromPosition: position,
    toPosition: position,
    events: int({ min: 0 }),
    reports: array(str({ oneOf: ['daily_transactions', 'suspicious_activity'] }), { max: 2 }),
    digest: str({ pattern: /^[0-9a-f]{64}$/ }),
  }),
});

export const auditEvents = [AuditBundleExported];
