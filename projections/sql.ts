// Shared by the read-model projections: one `INSERT … SELECT FROM unnest(…) ON CONFLICT` statement
// per table per batch (a rebuild must apply ≥ 50 000 events/s, so never a statement per event),
// and small conversions that keep money out of floats and the rows deterministic.
import type { SqlExecutor } from '../src/shared/sql/sql-client.js';

/**
 * How a column merges into an existing row on conflict:
 * key   – part of the conflict target;
 * set   – the batch's value wins when it has one (COALESCE(new, old));
 * keep  – the first value ever written stays (COALESCE(old, new));
 * add   – summed (counters and amounts folded per batch);
 * max / min – GREATEST / LEAST (nulls ignored);
 * put   – overwritten, null included.
 */
export type Merge = 'key' | 'set' | 'keep' | 'add' | 'max' | 'min' | 'put';

export interface Col {
  name: string;
  /** PostgreSQL type of the column, used for the array cast: text, numeric, bigint, int, bool, jsonb, timestamptz, date. */
  type: string;
  merge: Merge;
}

export const col = (name: string, type: string, merge: Merge = 'set'): Col => ({ name, type, merge });

function mergeExpr(c: Col, table: string): string {
  const o = `${table}.${c.name}`;
  const n = `EXCLUDED.${c.name}`;
  switch (c.merge) {
    case 'set':
      return `COALESCE(${n}, ${o})`;
    case 'keep':
      return `COALESCE(${o}, ${n})`;
    case 'add':
      return `COALESCE(${o}, 0) + COALESCE(${n}, 0)`;
    case 'max':
      return `GREATEST(${o}, ${n})`;
    case 'min':
      return `LEAST(${o}, ${n})`;
    case 'put':
      return n;
    default:
      throw new Error(`column ${c.name} is a key`);
  }
}

const sqlCache = new Map<string, string>();

/** The upsert statement for `table` (built once per table and column list). */
export function upsertSql(table: string, cols: Col[]): string {
  const cacheKey = `${table}|${cols.map((c) => `${c.name}:${c.type}:${c.merge}`).join(',')}`;
  const hit = sqlCache.get(cacheKey);
  if (hit) return hit;
  const keys = cols.filter((c) => c.merge === 'key').map((c) => c.name);
  const rest = cols.filter((c) => c.merge !== 'key');
  const alias = 't';
  const text =
    `INSERT INTO ${table} AS ${alias} (${cols.map((c) => c.name).join(', ')})
     SELECT * FROM unnest(${cols.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')})
     ON CONFLICT (${keys.join(', ')}) ` +
    (rest.length ? `DO UPDATE SET ${rest.map((c) => `${c.name} = ${mergeExpr(c, alias)}`).join(', ')}` : 'DO NOTHING');
  sqlCache.set(cacheKey, text);
  return text;
}

/**
 * Inserts rows (new keys only: rows of an append-only table) as one JSON document expanded by
 * jsonb_to_recordset. Faster than unnest when rows carry JSON values: no array-literal escaping.
 */
export async function insertJsonRows(tx: SqlExecutor, table: string, cols: Col[], rows: Record<string, unknown>[]): Promise<number> {
  if (!rows.length) return 0;
  const names = cols.map((c) => c.name).join(', ');
  const doc = JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  await tx.query(
    `INSERT INTO ${table} (${names}) SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS x(${cols.map((c) => `${c.name} ${c.type}`).join(', ')})`,
    [doc],
  );
  return rows.length;
}

function param(v: unknown, type: string): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return v.toString();
  if (type === 'jsonb') return JSON.stringify(v);
  return v;
}

/**
 * Writes rows (objects keyed by column name) with one statement. Rows must have distinct keys:
 * PostgreSQL refuses to touch one row twice in a statement, so callers fold the batch first.
 */
export async function upsertRows(tx: SqlExecutor, table: string, cols: Col[], rows: Iterable<Record<string, unknown>>): Promise<number> {
  const arrays: unknown[][] = cols.map(() => []);
  let n = 0;
  for (const r of rows) {
    cols.forEach((c, i) => arrays[i].push(param(r[c.name], c.type)));
    n++;
  }
  if (n) await tx.query(upsertSql(table, cols), arrays);
  return n;
}

/** Signed integer text, or null when the value is absent or malformed (the registry validated it on append). */
export function intText(v: unknown, signed = false): string | null {
  return typeof v === 'string' && (signed ? /^-?\d+$/ : /^\d+$/).test(v) ? v : null;
}

export function big(v: unknown, signed = false): bigint | null {
  const t = intText(v, signed);
  return t === null ? null : BigInt(t);
}

/** The UTC day of an ISO-8601 UTC time (what the event validators guarantee). */
export function utcDayOf(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().slice(0, 10);
}

/** Base units as a decimal string with `decimals` places: 1234567, 6 → "1.234567"; -5, 2 → "-0.05". */
export function toDecimal(units: bigint, decimals: number): string {
  const neg = units < 0n;
  const digits = (neg ? -units : units).toString();
  if (decimals <= 0) return `${neg ? '-' : ''}${digits}`;
  const padded = digits.padStart(decimals + 1, '0');
  return `${neg ? '-' : ''}${padded.slice(0, -decimals)}.${padded.slice(-decimals)}`;
}

/**
 * (num / 10^numDecimals) ÷ (den / 10^denDecimals) as a decimal string with `scale` places,
 * rounded half away from zero, in bigint arithmetic. Null when den is 0.
 */
export function ratioDecimal(num: bigint, numDecimals: number, den: bigint, denDecimals: number, scale = 12): string | null {
  if (den === 0n) return null;
  let n = num * 10n ** BigInt(denDecimals + scale);
  let d = den * 10n ** BigInt(numDecimals);
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const neg = n < 0n;
  const a = neg ? -n : n;
  let q = a / d;
  if ((a % d) * 2n >= d) q += 1n;
  return toDecimal(neg ? -q : q, scale);
}
