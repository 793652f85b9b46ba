// The one canonical JSON of Arbiter: RFC 8785 (JSON Canonicalization Scheme, JCS). The hash
// chain hashes events over it, the audit bundle digests rows with it, and the idempotency
// fingerprint of a request body uses it, so "the same value" means one thing everywhere.
//
// RFC 8785 in short: no whitespace; object members sorted by their names' UTF-16 code units;
// strings escaped as ECMAScript's JSON.stringify does (\b \f \n \r \t \" \\, other controls as
// \u00xx, everything else literal); numbers written as ECMAScript's Number.prototype.toString
// (RFC 8785 §3.2.2.3, which is what JSON.stringify does; -0 is "0").
//
// The values the event store allows are a subset: numbers are safe integers (money and counts
// larger than 2^53 travel as strings), so on them `ledger` mode produces exactly RFC 8785 output
// and refuses anything else (a float in an event is a bug, not something to hash). Two leniencies
// kept from before, for values JSON could not carry anyway: object members whose value is
// undefined are left out (as JSON.stringify does), and a lone UTF-16 surrogate is escaped as
// \udxxx (RFC 8785 requires valid Unicode; the API and the store refuse such strings earlier).
export interface CanonicalJsonOptions {
  /**
   * 'ledger' (default): only safe integers, as the store holds them.
   * 'any': every finite number, serialised per RFC 8785 §3.2.2.3 (request bodies, which may hold
   * a float that validation will refuse later).
   */
  numbers?: 'ledger' | 'any';
}

export function canonicalJson(value: unknown, options: CanonicalJsonOptions = {}): string {
  const anyNumber = options.numbers === 'any';
  const write = (v: unknown): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        if (anyNumber ? !Number.isFinite(v) : !Number.isSafeInteger(v)) {
          throw new TypeError(anyNumber ? `canonical JSON takes only finite numbers, got ${v}` : `canonical JSON takes only safe integers, got ${v}`);
        }
        // Number.prototype.toString is RFC 8785's number form (and gives "0" for -0).
        return String(v);
      case 'object': {
        if (Array.isArray(v)) return `[${v.map(write).join(',')}]`;
        const obj = v as Record<string, unknown>;
        // The default sort compares UTF-16 code units, which is the order RFC 8785 §3.2.3 asks for.
        const keys = Object.keys(obj)
          .filter((k) => obj[k] !== undefined)
          .sort();
        return `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k])}`).join(',')}}`;
      }
      default:
        throw new TypeError(`canonical JSON cannot hold a ${typeof v}`);
    }
  };
  return write(value);
}
