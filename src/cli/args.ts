// Argument parsing for the CLI and the benchmarks: node:util parseArgs (its tokens), with the
// CLI's rules on top: every option is declared, a value option needs a value (one that does not
// look like another option), a boolean takes none, and only a repeatable option may be given twice.
// Every refusal is a UsageError naming the option, which the CLI answers with the usage and exit 2.
import { parseArgs as parseNodeArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
  /** Every value of each repeatable option, in order. */
  lists: Map<string, string[]>;
}

export interface ArgsSpec {
  values: string[];
  booleans: string[];
  /** Value options that may be given more than once (`--report a --report b`). */
  repeatable?: string[];
}

export function parseArgs(argv: string[], spec: ArgsSpec): ParsedArgs {
  const repeatable = spec.repeatable ?? [];
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const v of spec.values) options[v] = { type: 'string' };
  for (const v of repeatable) options[v] = { type: 'string', multiple: true };
  for (const b of spec.booleans) options[b] = { type: 'boolean' };
  // Not strict: the checks below give the CLI's own messages, and an unknown option is reported
  // by name instead of node's generic text.
  const { tokens } = parseNodeArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const flags = new Map<string, string | true>();
  const lists = new Map<string, string[]>();
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind === 'option-terminator') continue;
    const shown = t.rawName.startsWith('--') ? `--${t.name}` : t.rawName;
    const declared = options[t.name];
    if (!declared || !t.rawName.startsWith('--')) throw new UsageError(`unknown option ${shown}`);
    if (declared.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`--${t.name} takes no value`);
      flags.set(t.name, true);
      continue;
    }
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw new UsageError(`--${t.name} needs a value`);
    if (declared.multiple) {
      lists.set(t.name, [...(lists.get(t.name) ?? []), t.value]);
      continue;
    }
    if (flags.has(t.name)) throw new UsageError(`--${t.name} given twice`);
    flags.set(t.name, t.value);
  }
  return { positionals, flags, lists };
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
