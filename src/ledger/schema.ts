// A small validator language for event payloads (and other edge input). Each event type
// declares its payload shape with these; the store refuses an event whose payload does not fit.
// Money is never a JS number: amounts are `baseUnits()` (integer strings) or `decimal()` strings.

export type Check = (value: unknown, path: string, problems: string[]) => void;

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const str =
  (opts: { min?: number; max?: number; pattern?: RegExp; oneOf?: readonly string[] } = {}): Check =>
  (v, path, problems) => {
    if (typeof v !== 'string') return void problems.push(`${path} must be a string`);
    if (opts.min !== undefined && v.length < opts.min) problems.push(`${path} must have at least ${opts.min} characters`);
    if (opts.max !== undefined && v.length > opts.max) problems.push(`${path} must have at most ${opts.max} characters`);
    if (opts.pattern && !opts.pattern.test(v)) problems.push(`${path} has an invalid format`);
    if (opts.oneOf && !opts.oneOf.includes(v)) problems.push(`${path} must be one of ${opts.oneOf.join(', ')}`);
  };

/** Integer amount in base units, as a string (may be negative when signed: true). */
export const baseUnits =
  (opts: { signed?: boolean } = {}): Check =>
  (v, path, problems) => {
    const re = opts.signed ? /^-?(0|[1-9]\d*)$/ : /^(0|[1-9]\d*)$/;
    if (typeof v !== 'string' || !re.test(v)) {
      problems.push(`${path} must be an integer amount in base units written as a string${opts.signed ? '' : ' (≥ 0)'}`);
    }
  };

/** Decimal number written as a string ("12.345"). */
export const decimal =
  (opts: { signed?: boolean } = {}): Check =>
  (v, path, problems) => {
    const re = opts.signed ? /^-?\d+(\.\d+)?$/ : /^\d+(\.\d+)?$/;
    if (typeof v !== 'string' || !re.test(v)) problems.push(`${path} must be a decimal number written as a string`);
  };

export const int =
  (opts: { min?: number; max?: number } = {}): Check =>
  (v, path, problems) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return void problems.push(`${path} must be an integer`);
    if (opts.min !== undefined && v < opts.min) problems.push(`${path} must be ≥ ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) problems.push(`${path} must be ≤ ${opts.max}`);
  };

export const bool = (): Check => (v, path, problems) => {
  if (typeof v !== 'boolean') problems.push(`${path} must be true or false`);
};

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
export const isoTime = (): Check => (v, path, problems) => {
  if (typeof v !== 'string' || !ISO.test(v) || Number.isNaN(Date.parse(v))) {
    problems.push(`${path} must be an ISO-8601 UTC time like 2026-01-31T12:00:00.000Z`);
  }
};

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const uuid = (): Check => str({ pattern: UUID_RE });

export const optional =
  (inner: Check): Check =>
  (v, path, problems) => {
    if (v !== undefined && v !== null) inner(v, path, problems);
  };

export const nullable = optional;

export const array =
  (item: Check, opts: { min?: number; max?: number } = {}): Check =>
  (v, path, problems) => {
    if (!Array.isArray(v)) return void problems.push(`${path} must be an array`);
    if (opts.min !== undefined && v.length < opts.min) problems.push(`${path} must have at least ${opts.min} items`);
    if (opts.max !== undefined && v.length > opts.max) problems.push(`${path} must have at most ${opts.max} items`);
    v.forEach((x, i) => item(x, `${path}[${i}]`, problems));
  };

/** Any JSON value (for raw upstream responses kept for audit); still subject to the no-float rule. */
export const json = (): Check => () => undefined;

export const obj =
  (shape: Record<string, Check>, opts: { allowUnknown?: boolean } = {}): Check =>
  (v, path, problems) => {
    if (!isObj(v)) return void problems.push(`${path} must be an object`);
    for (const [k, check] of Object.entries(shape)) check(v[k], `${path}.${k}`, problems);
    if (!opts.allowUnknown) {
      for (const k of Object.keys(v)) if (!(k in shape)) problems.push(`${path}.${k} is not a known field`);
    }
  };

/** Required wrapper: obj() fields are required unless wrapped in optional(). */
export function required(check: Check): Check {
  return (v, path, problems) => {
    if (v === undefined || v === null) return void problems.push(`${path} is required`);
    check(v, path, problems);
  };
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
