// Strings PostgreSQL cannot store: text and jsonb refuse the NUL character (U+0000), and UTF-8
// cannot encode a lone UTF-16 surrogate (jsonb refuses its \ud800 escape). Such a string reaching
// a query fails deep inside the database as a 500; every edge (REST body, GraphQL argument or
// variable, CLI argument) checks with this first and answers 400 / exit 2 naming the field.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `s` cannot be stored, or null when it can. */
export function unstorableReason(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(s)) return 'must not contain an unpaired UTF-16 surrogate (not valid Unicode)';
  return null;
}

/**
 * Every string inside `value` (object keys too) that cannot be stored, as "path reason".
 * Depth and count are bounded so a hostile value cannot make this walk long.
 */
export function unstorableStrings(value: unknown, path: string, out: string[] = [], depth = 0): string[] {
  if (out.length >= 20 || depth > 64) return out;
  if (typeof value === 'string') {
    const why = unstorableReason(value);
    if (why) out.push(`${path} ${why}`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => unstorableStrings(v, `${path}[${i}]`, out, depth + 1));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const field = path ? `${path}.${k}` : k;
      const why = unstorableReason(k);
      if (why) out.push(`field name ${JSON.stringify(k)} under ${path || 'the top level'} ${why}`);
      else unstorableStrings(v, field, out, depth + 1);
    }
  }
  return out;
}
