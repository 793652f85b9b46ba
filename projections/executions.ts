// Executions: one row per arbitrage opportunity, from detection to how it ended. What an operator
// looks at first: where each opportunity stands, what it was expected to make and what it made,
// and when every step happened.
//
// Status is the step of the latest event of the opportunity's stream (`arbitrage-<id>`):
//   detected → quoted → approved (risk passed) → screened (compliance let it through, clear or
//   advisory) → signed → submitted → filled | fill_failed | expired
// and the early ends rejected_by_risk, blocked_by_compliance, quote_failed, abandoned.
// Step times are the event's own business time where the payload has one (detectedAt, the last
// leg's quotedAt, assessedAt, submittedAt, confirmedAt / failedAt / expiredAt / abandonedAt) and
// the time the ledger recorded it otherwise (screening, signing). Amounts are numeric base units.
import type { RecordedEvent } from '../src/ledger/envelope.js';
import type { ProjectionDefinition } from '../src/projections/projection.js';
import type { OpportunityDetectedPayload, QuoteReceivedPayload } from '../src/market/events.js';
import type { RiskAssessedPayload } from '../src/risk/events.js';
import type { ComplianceScreenedPayload } from '../src/compliance/events.js';
import type { TransactionSignedPayload } from '../src/signing/events.js';
import type {
  FillConfirmedPayload,
  FillFailedPayload,
  TransactionExpiredPayload,
  TransactionSubmittedPayload,
} from '../src/execution/events.js';
import type { OpportunityAbandonedPayload, QuoteFailedPayload } from '../src/trading/events.js';
import { SAGA_OPEN_PHASES, SAGA_OUTCOMES, type SagaOutcome } from '../src/trading/outcomes.js';
import { col, intText, upsertRows, type Col } from './sql.js';

/** Where an opportunity stands: the saga's open phases, then its outcomes (both from trading/outcomes.ts). */
export const EXECUTION_STATUSES = [...SAGA_OPEN_PHASES.filter((p) => p !== 'prepared'), ...SAGA_OUTCOMES] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** Statuses after which nothing more happens to the opportunity: the saga's outcomes. */
export const FINAL_STATUSES: readonly ExecutionStatus[] = SAGA_OUTCOMES;

const COLS: Col[] = [
  col('opportunity_id', 'text', 'key'),
  col('stream_id', 'text', 'keep'),
  col('status', 'text'),
  col('source', 'text'),
  col('mint_a', 'text'),
  col('mint_b', 'text'),
  col('symbol_a', 'text'),
  col('symbol_b', 'text'),
  col('decimals_a', 'int'),
  col('decimals_b', 'int'),
  col('amount_in', 'numeric'),
  col('expected_out', 'numeric'),
  col('expected_profit', 'numeric'),
  col('slippage_bps', 'int'),
  col('notional_usd_micros', 'numeric'),
  col('risk_approved', 'bool'),
  col('failed_checks', 'jsonb'),
  col('compliance_decision', 'text'),
  col('compliance_flag_ids', 'jsonb'),
  col('signature', 'text'),
  col('signer_public_key', 'text'),
  col('venue', 'text'),
  col('slot', 'numeric'),
  col('amount_out', 'numeric'),
  col('realised_pnl', 'numeric'),
  col('fee_lamports', 'numeric'),
  col('reason', 'text'),
  col('detected_at', 'timestamptz'),
  col('quoted_at', 'timestamptz'),
  col('risk_at', 'timestamptz'),
  col('screened_at', 'timestamptz'),
  col('signed_at', 'timestamptz'),
  col('submitted_at', 'timestamptz'),
  col('finished_at', 'timestamptz'),
  col('first_position', 'bigint', 'keep'),
  col('first_at', 'timestamptz', 'keep'),
  col('last_position', 'bigint', 'max'),
  col('updated_at', 'timestamptz'),
];

type Row = Record<string, unknown>;

/** Folds one event of an opportunity into the batch's patch of its row (only fields the event knows). */
export function foldExecution(row: Row, e: RecordedEvent): void {
  const p = e.payload as Record<string, any>;
  row.updated_at = e.recordedAt;
  row.last_position = e.position;
  switch (e.type) {
    case 'OpportunityDetected': {
      const d = p as OpportunityDetectedPayload;
      Object.assign(row, {
        status: 'detected',
        source: d.source,
        mint_a: d.route.mintA,
        mint_b: d.route.mintB,
        symbol_a: d.route.symbolA,
        symbol_b: d.route.symbolB,
        decimals_a: d.route.decimalsA,
        decimals_b: d.route.decimalsB,
        amount_in: intText(d.amountIn),
        detected_at: d.detectedAt,
      });
      break;
    }
    case 'QuoteReceived': {
      const q = p as QuoteReceivedPayload;
      const first = q.legs[0];
      const last = q.legs[q.legs.length - 1];
      Object.assign(row, {
        status: 'quoted',
        amount_in: intText(first?.inAmount) ?? row.amount_in,
        expected_out: intText(last?.outAmount),
        expected_profit: intText(q.expectedProfit, true),
        slippage_bps: first?.slippageBps ?? null,
        quoted_at: last?.quotedAt ?? e.recordedAt,
      });
      break;
    }
    case 'RiskAssessed': {
      const r = p as RiskAssessedPayload;
      Object.assign(row, {
        status: r.approved ? 'approved' : 'rejected_by_risk',
        risk_approved: r.approved,
        failed_checks: r.failedChecks ?? [],
        notional_usd_micros: intText(r.notionalUsdMicros),
        risk_at: r.assessedAt,
      });
      if (!r.approved) {
        const failed = (r.checks ?? []).filter((c) => !c.passed).map((c) => `${c.name}: ${c.reason}`);
        row.reason = `rejected by risk: ${failed.join('; ') || (r.failedChecks ?? []).join(', ')}`;
        row.finished_at = r.assessedAt;
      }
      break;
    }
    case 'ComplianceScreened': {
      const c = p as ComplianceScreenedPayload;
      const blocked = c.decision === 'blocked';
      Object.assign(row, {
        status: blocked ? 'blocked_by_compliance' : 'screened',
        compliance_decision: c.decision,
        compliance_flag_ids: c.flags ?? [],
        screened_at: e.recordedAt,
      });
      if (blocked) {
        const fired = (c.rulesEvaluated ?? []).filter((r) => r.fired).map((r) => r.rule);
        row.reason = `blocked by compliance: ${fired.join(', ')}`;
        row.finished_at = e.recordedAt;
      }
      break;
    }
    case 'TransactionSigned': {
      const s = p as TransactionSignedPayload;
      Object.assign(row, { status: 'signed', signature: s.signature, signer_public_key: s.signerPublicKey, signed_at: e.recordedAt });
      break;
    }
    case 'TransactionSubmitted': {
      const s = p as TransactionSubmittedPayload;
      Object.assign(row, { status: 'submitted', signature: s.signature, venue: s.venue, submitted_at: s.submittedAt });
      break;
    }
    case 'FillConfirmed': {
      const f = p as FillConfirmedPayload;
      Object.assign(row, {
        status: 'filled',
        signature: f.signature,
        slot: intText(f.slot),
        amount_out: intText(f.amountOut),
        realised_pnl: intText(f.realisedPnl, true),
        fee_lamports: intText(f.feeLamports),
        finished_at: f.confirmedAt,
      });
      break;
    }
    case 'FillFailed': {
      const f = p as FillFailedPayload;
      Object.assign(row, {
        status: 'fill_failed' satisfies SagaOutcome,
        signature: f.signature,
        slot: intText(f.slot),
        fee_lamports: intText(f.feeLamports),
        reason: f.reason,
        finished_at: f.failedAt,
      });
      break;
    }
    case 'TransactionExpired': {
      const x = p as TransactionExpiredPayload;
      Object.assign(row, { status: 'expired', signature: x.signature, reason: x.reason, finished_at: x.expiredAt });
      break;
    }
    case 'QuoteFailed': {
      const q = p as QuoteFailedPayload;
      Object.assign(row, { status: 'quote_failed', reason: `${q.source} ${q.code}: ${q.message}`, finished_at: q.failedAt });
      break;
    }
    case 'OpportunityAbandoned': {
      const a = p as OpportunityAbandonedPayload;
      Object.assign(row, {
        status: 'abandoned',
        reason: `abandoned at step ${a.step}: ${a.reason}`,
        finished_at: a.abandonedAt,
        ...(a.signature ? { signature: a.signature } : {}),
      });
      break;
    }
  }
}

export const executions: ProjectionDefinition = {
  name: 'executions',
  // 2: a failed fill's status is the saga's outcome word, fill_failed (was failed).
  version: 2,
  eventTypes: [
    'OpportunityDetected',
    'QuoteReceived',
    'RiskAssessed',
    'ComplianceScreened',
    'TransactionSigned',
    'TransactionSubmitted',
    'FillConfirmed',
    'FillFailed',
    'TransactionExpired',
    'QuoteFailed',
    'OpportunityAbandoned',
  ],
  tables: ['executions'],
  ddl: `
    CREATE TABLE executions (
      opportunity_id      text COLLATE "C" PRIMARY KEY,
      stream_id           text NOT NULL,
      status              text NOT NULL,
      source              text,
      mint_a              text,
      mint_b              text,
      symbol_a            text,
      symbol_b            text,
      decimals_a          int,
      decimals_b          int,
      amount_in           numeric,
      expected_out        numeric,
      expected_profit     numeric,
      slippage_bps        int,
      notional_usd_micros numeric,
      risk_approved       boolean,
      failed_checks       jsonb,
      compliance_decision text,
      compliance_flag_ids jsonb,
      signature           text,
      signer_public_key   text,
      venue               text,
      slot                numeric,
      amount_out          numeric,
      realised_pnl        numeric,
      fee_lamports        numeric,
      reason              text,
      detected_at         timestamptz,
      quoted_at           timestamptz,
      risk_at             timestamptz,
      screened_at         timestamptz,
      signed_at           timestamptz,
      submitted_at        timestamptz,
      finished_at         timestamptz,
      first_position      bigint NOT NULL UNIQUE,
      first_at            timestamptz NOT NULL,
      last_position       bigint NOT NULL,
      updated_at          timestamptz NOT NULL
    );
    CREATE INDEX executions_status ON executions (status, first_position);
    CREATE INDEX executions_first_at ON executions (first_at);
    CREATE INDEX executions_mint_a ON executions (mint_a);
    CREATE INDEX executions_mint_b ON executions (mint_b);`,
  async apply(tx, events) {
    const rows = new Map<string, Row>();
    for (const e of events) {
      const id = (e.payload as { opportunityId?: unknown }).opportunityId;
      if (typeof id !== 'string') continue;
      let row = rows.get(id);
      if (!row) {
        row = { opportunity_id: id, stream_id: e.streamId, first_position: e.position, first_at: e.recordedAt };
        rows.set(id, row);
      }
      foldExecution(row, e);
    }
    await upsertRows(tx, 'executions', COLS, rows.values());
  },
};
