// The building blocks of the configuration declaration (config.ts): one zod schema per
// environment variable, which trims, applies the default, checks and converts. Each carries its
// default as README writes it (`.meta({ default })`), so a test can hold README's configuration
// tables against the declaration. Messages start with "must …"; the loader puts the variable's
// name in front.
import { z } from 'zod';

/** Unset and blank are the same: the default applies. Text is trimmed. */
const blank = (v: unknown) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim()) : v);

export interface SettingMeta {
  /** The default as README's table writes it (absent: none, or one README describes in words). */
  default?: string;
  /** A secret: never echoed in a message or a log. */
  secret?: boolean;
}

const meta = <T extends z.ZodType>(schema: T, m: SettingMeta): T => schema.meta(m as Record<string, unknown>) as T;

const rangeMessage = (min: number | bigint, max?: number | bigint) => (max === undefined ? `must be at least ${min}` : `must be between ${min} and ${max}`);

/** A whole number in [min, max] (digits only, never a float). */
export function int(def: number, min: number, max: number) {
  const inner = z
    .string()
    .regex(/^-?\d+$/, { error: (i) => `must be an integer (got "${String(i.input)}")` })
    .transform(Number)
    .pipe(z.number().min(min, { error: (i) => `${rangeMessage(min, max)} (got ${String(i.input)})` }).max(max, { error: (i) => `${rangeMessage(min, max)} (got ${String(i.input)})` }));
  return meta(z.preprocess(blank, z.string().default(String(def)).pipe(inner)), { default: String(def) });
}

/** A number in [min, max], decimals allowed (rates such as "2.5 per minute"; never money). */
export function decimal(def: number, min: number, max: number) {
  const inner = z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, { error: (i) => `must be a number (got "${String(i.input)}")` })
    .transform(Number)
    .pipe(z.number().min(min, { error: (i) => `${rangeMessage(min, max)} (got ${String(i.input)})` }).max(max, { error: (i) => `${rangeMessage(min, max)} (got ${String(i.input)})` }));
  return meta(z.preprocess(blank, z.string().default(String(def)).pipe(inner)), { default: String(def) });
}

/** A whole number kept as bigint (money, fees), at least min and at most max when given. */
export function bigint(def: bigint, min: bigint, max?: bigint) {
  const inner = z
    .string()
    .regex(/^-?\d+$/, { error: (i) => `must be an integer written with digits only (got "${String(i.input)}")` })
    .transform((s) => BigInt(s))
    .refine((n) => n >= min && (max === undefined || n <= max), { error: (i) => `${rangeMessage(min, max)} (got ${String(i.input)})` });
  return meta(z.preprocess(blank, z.string().default(String(def)).pipe(inner)), { default: String(def) });
}

/** true/false (also 1/0), any case. */
export function bool(def: boolean) {
  return meta(
    z.preprocess(
      (v) => (typeof blank(v) === 'string' ? (blank(v) as string).toLowerCase() : blank(v)),
      z
        .string()
        .default(String(def))
        .pipe(z.enum(['true', 'false', '1', '0'], { error: (i) => `must be true or false (got "${String(i.input)}")` }))
        .transform((s) => s === 'true' || s === '1'),
    ),
    { default: String(def) },
  );
}

/** One of the words (any case); `aliases` map other spellings onto them. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, def: T[number], aliases: Record<string, T[number]> = {}) {
  const list = values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
  return meta(
    z.preprocess(
      (v) => {
        const t = blank(v);
        if (typeof t !== 'string') return t;
        const low = t.toLowerCase();
        return aliases[low] ?? low;
      },
      z.string().default(def).pipe(z.enum(values as unknown as [T[number], ...T[number][]], { error: (i) => `must be ${list} (got "${String(i.input)}")` })),
    ),
    { default: def },
  );
}

/** Free text; null when unset. */
export function text(m: Omit<SettingMeta, 'default'> = {}) {
  return meta(z.preprocess(blank, z.string().optional().transform((s) => s ?? null)), m);
}

/** Free text with a default. */
export function textOr(def: string) {
  return meta(z.preprocess(blank, z.string().default(def)), { default: def });
}

/** A secret taken as given (not trimmed: a passphrase may end in a space); null when unset or empty. */
export function secret() {
  return meta(z.preprocess((v) => (v === '' ? undefined : v), z.string().optional().transform((s) => s ?? null)), { secret: true });
}

/** Only scheme and host of a URL reach a message: URLs often carry a key in the path or query. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return url.length > 12 ? `${url.slice(0, 12)}…` : url;
  }
}

const httpUrlSchema = z.string().refine(
  (s) => {
    try {
      return ['http:', 'https:'].includes(new URL(s).protocol);
    } catch {
      return false;
    }
  },
  { error: (i) => `must be an http:// or https:// URL (got "${redactUrl(String(i.input))}")` },
);

/** An http:// or https:// URL (trailing slashes dropped); null when unset. */
export function httpUrl() {
  return meta(z.preprocess(blank, httpUrlSchema.optional().transform((s) => (s ? s.replace(/\/+$/, '') : null))), {});
}

/** An http:// or https:// URL with a default. */
export function httpUrlOr(def: string) {
  return meta(z.preprocess(blank, z.string().default(def).pipe(httpUrlSchema).transform((s) => s.replace(/\/+$/, ''))), { default: def });
}

/** A comma-separated list of non-empty items; null when unset. */
export function list() {
  return meta(z.preprocess(blank, z.string().optional().transform((s) => (s === undefined ? null : s.split(',').map((x) => x.trim()).filter(Boolean)))), {});
}

/** The metadata a setting's schema carries (default, secret). */
export function settingMeta(schema: z.ZodType): SettingMeta {
  return (schema.meta() ?? {}) as SettingMeta;
}
