// Minimal argument parsing for the CLI: --flag value, --flag=value, booleans, positionals.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: string[], spec: { values: string[]; booleans: string[] }): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (spec.booleans.includes(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    } else if (spec.values.includes(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      if (flags.has(name)) throw new UsageError(`--${name} given twice`);
      flags.set(name, v);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positionals, flags };
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * A strict ISO-8601 time: a calendar date (UTC midnight), or a date and time with `Z` or an
 * offset. Dates that do not exist (2026-02-30) and anything after the time are refused, where
 * Date.parse would roll over or guess.
 */
export function parseIsoTime(raw: string, flag: string): string {
  const bad = (why: string) => new UsageError(`${flag} must be an ISO-8601 time such as 2026-11-25T12:00:00Z or 2026-11-25 (got "${raw}": ${why})`);
  const m = ISO_TIME.exec(raw);
  if (!m) throw bad('not in that form');
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (month < 1 || month > 12) throw bad(`there is no month ${mo}`);
  if (day < 1 || day > daysInMonth) throw bad(`${y}-${mo} has no day ${d}`);
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw bad('the time of day is out of range');
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4)) > 59)) throw bad('the offset is out of range');
  const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}${zone}`);
  if (Number.isNaN(t)) throw bad('not a time');
  return new Date(t).toISOString();
}
