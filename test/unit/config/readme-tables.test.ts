// README's configuration tables and the configuration's declaration (src/config/config.ts) say
// the same thing: every variable the code reads is documented, every documented variable is
// read, and where README names a default it is the declared one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_SCHEMA } from '../../../src/config/config.js';
import { settingMeta } from '../../../src/config/settings.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration\n') + 5));

interface Row {
  names: string[];
  defaultCell: string;
}
/** The rows of every table in the Configuration section whose first cell names variables. */
const rows: Row[] = section
  .split('\n')
  .filter((l) => /^\| `[A-Z][A-Z0-9_]*`/.test(l))
  .map((l) => {
    const cells = l.split('|').slice(1, -1).map((c) => c.trim());
    return { names: [...cells[0]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!), defaultCell: cells[1] ?? '' };
  });
const documented = new Map<string, Row>(rows.flatMap((r) => r.names.map((n) => [n, r] as const)));
const declared = Object.keys(ENV_SCHEMA);

describe('README configuration tables', () => {
  it('are found', () => {
    expect(rows.length).toBeGreaterThan(80);
  });

  it('document every variable of the declaration', () => {
    expect(declared.filter((n) => !documented.has(n))).toEqual([]);
  });

  it('document no variable the code does not read', () => {
    expect([...documented.keys()].filter((n) => !(n in ENV_SCHEMA))).toEqual([]);
  });

  it('state the declared default wherever they state a literal one', () => {
    const mismatches: string[] = [];
    let compared = 0;
    for (const [name, row] of documented) {
      if (row.names.length > 1) continue; // one default cell for several variables: described in words
      const literal = /^`([^`]+)`/.exec(row.defaultCell)?.[1];
      // `<ARBITER_DATA_DIR>/…` and `SOLANA_RPC_URL` (another setting) are derived defaults, described in words.
      if (literal === undefined || literal.includes('<') || literal in ENV_SCHEMA) continue;
      compared++;
      const declaredDefault = settingMeta(ENV_SCHEMA[name]!).default;
      if (declaredDefault !== literal) mismatches.push(`${name}: README ${literal}, declared ${declaredDefault ?? 'none'}`);
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(60);
  });

  it('state no default for a variable declared without one (unset, —, or described)', () => {
    const claimed = [...documented].filter(([name, row]) => row.names.length === 1 && settingMeta(ENV_SCHEMA[name]!).default === undefined && /^`[^`<]+`$/.test(row.defaultCell) && !(row.defaultCell.slice(1, -1) in ENV_SCHEMA));
    expect(claimed.map(([n]) => n)).toEqual([]);
  });
});
