// The building blocks of event payload declarations, in zod (v4): each event type declares its
// payload once as a z.strictObject made of these, its TypeScript type is inferred from it, and the
// store refuses an event whose payload does not fit. The blocks carry the ledger's messages
// ("must be an integer amount in base units written as a string"); `schemaProblems` lists every
// issue at once, each naming its path, and names every unknown field.
// Money is never a JS number: amounts are `baseUnits()` (integer strings) or `decimal()` strings.
import { z } from 'zod';

/** A payload (or part of one) schema. */
export type Schema = z.ZodType;

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A message for a wrong value, and "is required" when the field is absent. */
const says = (text: string) => (iss: { input?: unknown }) => (iss.input === undefined ? 'is required' : text);

export function str(): z.ZodString;
export function str<const T extends readonly [string, ...string[]]>(opts: { oneOf: T }): z.ZodEnum<{ [K in T[number]]: K }>;
export function str(opts: { min?: number; max?: number; pattern?: RegExp }): z.ZodString;
export function str(opts: { min?: number; max?: number; pattern?: RegExp; oneOf?: readonly string[] } = {}): z.ZodType {
  if (opts.oneOf) return z.enum(opts.oneOf as [string, ...string[]], { error: says(`must be one of ${opts.oneOf.join(', ')}`) });
  let s = z.string({ error: says('must be a string') });
  if (opts.min !== undefined) s = s.min(opts.min, { error: `must have at least ${opts.min} characters` });
  if (opts.max !== undefined) s = s.max(opts.max, { error: `must have at most ${opts.max} characters` });
  if (opts.pattern) s = s.regex(opts.pattern, { error: 'has an invalid format' });
  return s;
}

const UNSIGNED = /^(0|[1-9]\d*)$/;
const SIGNED = /^-?(0|[1-9]\d*)$/;

/** Integer amount in base units, as a string (may be negative when signed: true). */
export const baseUnits = (opts: { signed?: boolean } = {}) => {
  const message = says(`must be an integer amount in base units written as a string${opts.signed ? '' : ' (≥ 0)'}`);
  return z.string({ error: message }).regex(opts.signed ? SIGNED : UNSIGNED, { error: message });
};

/** Decimal number written as a string ("12.345"). */
export const decimal = (opts: { signed?: boolean } = {}) => {
  const message = says('must be a decimal number written as a string');
  return z.string({ error: message }).regex(opts.signed ? /^-?\d+(\.\d+)?$/ : /^\d+(\.\d+)?$/, { error: message });
};

/** A safe integer (counts, bps, slots that fit 2^53); never money. */
export const int = (opts: { min?: number; max?: number } = {}) => {
  let n = z.int({ error: says('must be an integer') });
  if (opts.min !== undefined) n = n.min(opts.min, { error: `must be ≥ ${opts.min}` });
  if (opts.max !== undefined) n = n.max(opts.max, { error: `must be ≤ ${opts.max}` });
  return n;
};

export const bool = () => z.boolean({ error: says('must be true or false') });

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const ISO_MESSAGE = 'must be an ISO-8601 UTC time like 2026-01-31T12:00:00.000Z';
export const isoTime = () =>
  z
    .string({ error: says(ISO_MESSAGE) })
    .regex(ISO, { error: ISO_MESSAGE })
    .refine((v) => !Number.isNaN(Date.parse(v)), { error: ISO_MESSAGE });

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const uuid = () => str({ pattern: UUID_RE });

/**
 * May be absent. A stored null counts as absent too (the hand validators before zod accepted it,
 * so rows written then may hold one); the type says absent only, which is how payloads are built.
 */
export const optional = <T extends z.ZodType>(inner: T) => z.preprocess((v) => (v === null ? undefined : v), inner.optional());

/** Present, and either the value or null. */
export const nullable = <T extends z.ZodType>(inner: T) => inner.nullable();

export const array = <T extends z.ZodType>(item: T, opts: { min?: number; max?: number } = {}) => {
  let a = z.array(item, { error: says('must be an array') });
  if (opts.min !== undefined) a = a.min(opts.min, { error: `must have at least ${opts.min} items` });
  if (opts.max !== undefined) a = a.max(opts.max, { error: `must have at most ${opts.max} items` });
  return a;
};

/** Any JSON value (for raw upstream responses kept for audit); still subject to the storable-JSON rules. */
export const json = () => z.unknown();

/** An object with exactly these fields (unknown fields are refused, each named). */
export const obj = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape, { error: says('must be an object') });

/** An object whose fields are not declared (evidence, check inputs: storable JSON checked elsewhere). */
export const record = <T = Record<string, unknown>>() =>
  z.custom<T>((v) => isObj(v), { error: says('must be an object') });

const pathText = (prefix: string, path: readonly PropertyKey[]) =>
  path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${String(k)}` : String(k)), prefix);

/** Every problem of `value` against `schema`, each "<path> <what is wrong>", unknown fields one by one. */
export function schemaProblems(schema: z.ZodType, value: unknown, prefix = 'payload', problems: string[] = []): string[] {
  const r = schema.safeParse(value);
  if (r.success) return problems;
  for (const issue of r.error.issues) {
    const at = pathText(prefix, issue.path);
    if (issue.code === 'unrecognized_keys') for (const k of issue.keys) problems.push(`${pathText(at, [k])} is not a known field`);
    else problems.push(at ? `${at} ${issue.message}` : issue.message);
  }
  return problems;
}

/**
 * Rules every stored JSON value obeys, whatever its type: no floats (money is never a float),
 * no NaN/Infinity, no bigint (write it as a string), no NUL characters (PostgreSQL jsonb refuses them).
 */
export function storableJsonProblems(value: unknown, path = 'payload', problems: string[] = [], depth = 0): string[] {
  if (depth > 64) {
    problems.push(`${path} is nested deeper than 64 levels`);
    return problems;
  }
  if (value === null || typeof value === 'boolean') return problems;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      problems.push(`${path} is a non-integer or unsafe number (${value}); write amounts as strings`);
    }
    return problems;
  }
  if (typeof value === 'string') {
    if (value.includes('\u0000')) problems.push(`${path} contains a NUL character`);
    return problems;
  }
  if (Array.isArray(value)) {
    value.forEach((x, i) => storableJsonProblems(x, `${path}[${i}]`, problems, depth + 1));
    return problems;
  }
  if (isObj(value)) {
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
      problems.push(`${path} must be a plain object`);
      return problems;
    }
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) problems.push(`${path} has a key with a NUL character`);
      if (v !== undefined) storableJsonProblems(v, `${path}.${k}`, problems, depth + 1);
    }
    return problems;
  }
  problems.push(`${path} is a ${typeof value}, which cannot be stored as JSON`);
  return problems;
}
