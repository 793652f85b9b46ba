// Regulatory report exports over the read models projections/reports.ts keeps: the daily
// transactions report (one row per fill) and the suspicious-activity report (one row per
// compliance flag), for a half-open time range [from, to), as JSON or RFC 4180 CSV. Values are
// strings exactly as stored (amounts never pass through a float); times are ISO-8601 UTC.
import type { SqlExecutor } from '../shared/sql/sql-client.js';

export const REPORT_KINDS = ['daily_transactions', 'suspicious_activity'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export type ReportFormat = 'json' | 'csv';

/** A report larger than this is refused: ask for a shorter range. */
export const MAX_REPORT_ROWS = 100_000;
/** Longest range one request may cover. */
export const MAX_REPORT_RANGE_DAYS = 366;

export class ReportInputError extends Error {
  readonly code = 'BAD_REPORT_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'ReportInputError';
  }
}

export type ReportRow = Record<string, string | null>;

export interface ReportResult {
  kind: ReportKind;
  from: string;
  to: string;
  columns: string[];
  rows: ReportRow[];
}

export const DAILY_TRANSACTION_COLUMNS = [
  'executed_at', 'trade_date', 'instrument', 'mint_a', 'mint_b', 'side', 'quantity', 'quantity_base_units', 'quantity_mint',
  'proceeds', 'proceeds_base_units', 'proceeds_mint', 'price', 'price_unit', 'realised_pnl', 'realised_pnl_base_units',
  'fee_lamports', 'fee_sol', 'venue', 'signature', 'slot', 'opportunity_id',
] as const;

export const SUSPICIOUS_ACTIVITY_COLUMNS = [
  'raised_at', 'flag_id', 'opportunity_id', 'instrument', 'rule', 'severity', 'evidence', 'status', 'reviewed_by', 'reviewed_at',
  'review_note', 'closed_by', 'closed_at', 'close_note', 'outcome',
] as const;

// Every column leaves PostgreSQL as text: numerics keep their digits, times get one ISO form.
const iso = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${c}`;
const SELECTS: Record<ReportKind, { table: string; time: string; order: string; exprs: string[] }> = {
  daily_transactions: {
    table: 'report_daily_transactions',
    time: 'executed_at',
    order: 'executed_at, signature',
    exprs: DAILY_TRANSACTION_COLUMNS.map((c) => (c === 'executed_at' ? iso(c) : `${c}::text AS ${c}`)),
  },
  suspicious_activity: {
    table: 'report_suspicious_activity',
    time: 'raised_at',
    order: 'raised_at, flag_id',
    exprs: SUSPICIOUS_ACTIVITY_COLUMNS.map((c) => (c.endsWith('_at') ? iso(c) : `${c}::text AS ${c}`)),
  },
};

/** Parses and checks a range; from must be before to and the range at most MAX_REPORT_RANGE_DAYS long. */
export function checkRange(from: Date | string, to: Date | string): { from: Date; to: Date } {
  const f = from instanceof Date ? from : new Date(from);
  const t = to instanceof Date ? to : new Date(to);
  if (Number.isNaN(f.getTime())) throw new ReportInputError(`from is not a valid time: "${String(from)}" (use ISO-8601, e.g. 2026-01-31T00:00:00Z)`);
  if (Number.isNaN(t.getTime())) throw new ReportInputError(`to is not a valid time: "${String(to)}" (use ISO-8601, e.g. 2026-01-31T00:00:00Z)`);
  if (f.getTime() >= t.getTime()) throw new ReportInputError(`from (${f.toISOString()}) must be before to (${t.toISOString()}); the range is [from, to)`);
  if (t.getTime() - f.getTime() > MAX_REPORT_RANGE_DAYS * 86_400_000) {
    throw new ReportInputError(`the range covers more than ${MAX_REPORT_RANGE_DAYS} days: ask for a shorter one`);
  }
  return { from: f, to: t };
}

export async function loadReport(sql: SqlExecutor, kind: ReportKind, from: Date | string, to: Date | string): Promise<ReportResult> {
  if (!REPORT_KINDS.includes(kind)) throw new ReportInputError(`unknown report "${kind}"; reports: ${REPORT_KINDS.join(', ')}`);
  const range = checkRange(from, to);
  const s = SELECTS[kind];
  const { rows } = await sql.query<ReportRow>(
    `SELECT ${s.exprs.join(', ')} FROM ${s.table} WHERE ${s.time} >= $1 AND ${s.time} < $2 ORDER BY ${s.order} LIMIT $3`,
    [range.from.toISOString(), range.to.toISOString(), MAX_REPORT_ROWS + 1],
  );
  if (rows.length > MAX_REPORT_ROWS) {
    throw new ReportInputError(`the ${kind} report for this range has more than ${MAX_REPORT_ROWS} rows: ask for a shorter range`);
  }
  const columns = kind === 'daily_transactions' ? [...DAILY_TRANSACTION_COLUMNS] : [...SUSPICIOUS_ACTIVITY_COLUMNS];
  return { kind, from: range.from.toISOString(), to: range.to.toISOString(), columns, rows };
}

/** One CSV field per RFC 4180: quoted when it holds a comma, a quote, CR or LF (quotes doubled). */
export function csvField(v: string | null | undefined): string {
  if (v === null || v === undefined) return '';
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** RFC 4180 CSV: a header line, then one record per row, every line ending in CRLF. */
export function toCsv(columns: readonly string[], rows: readonly ReportRow[]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** JSON export: the report's identity and its rows, evidence parsed back into an object. */
export function toJson(report: ReportResult): string {
  const rows = report.rows.map((r) => (r.evidence ? { ...r, evidence: JSON.parse(r.evidence) as unknown } : r));
  return JSON.stringify({ report: report.kind, from: report.from, to: report.to, rowCount: rows.length, rows }, null, 2);
}

export function exportReport(report: ReportResult, format: ReportFormat): { contentType: string; content: string } {
  return format === 'csv'
    ? { contentType: 'text/csv; charset=utf-8; header=present', content: toCsv(report.columns, report.rows) }
    : { contentType: 'application/json', content: toJson(report) };
}

export async function exportDailyTransactions(sql: SqlExecutor, from: Date | string, to: Date | string, format: ReportFormat) {
  return exportReport(await loadReport(sql, 'daily_transactions', from, to), format);
}

export async function exportSuspiciousActivity(sql: SqlExecutor, from: Date | string, to: Date | string, format: ReportFormat) {
  return exportReport(await loadReport(sql, 'suspicious_activity', from, to), format);
}
