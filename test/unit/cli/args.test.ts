// The CLI's argument rules over node:util parseArgs: every refusal names the option.
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../../src/cli/args.js';

const spec = { values: ['stream', 'until'], booleans: ['json'], repeatable: ['report'] };
const refusal = (argv: string[]) => {
  try {
    parseArgs(argv, spec);
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
};

describe('parseArgs', () => {
  it('reads --flag value, --flag=value, booleans, repeatable options and positionals', () => {
    const a = parseArgs(['x', '--stream', 's-1', '--until=2026-01-01', '--json', '--report', 'a,b', '--report=c', 'y', '--', '--z'], spec);
    expect(a.positionals).toEqual(['x', 'y', '--z']);
    expect(Object.fromEntries(a.flags)).toEqual({ stream: 's-1', until: '2026-01-01', json: true });
    expect(a.lists.get('report')).toEqual(['a,b', 'c']);
  });

  it('keeps a value that merely starts with a dash when it is written inline', () => {
    expect(parseArgs(['--stream=--odd'], spec).flags.get('stream')).toBe('--odd');
  });

  it('names the option it refuses', () => {
    expect(refusal(['--bogus'])).toBe('unknown option --bogus');
    expect(refusal(['-x'])).toBe('unknown option -x');
    expect(refusal(['--stream'])).toBe('--stream needs a value');
    expect(refusal(['--stream', '--json'])).toBe('--stream needs a value');
    expect(refusal(['--json=yes'])).toBe('--json takes no value');
    expect(refusal(['--stream', 'a', '--stream=b'])).toBe('--stream given twice');
    expect(refusal(['--report'])).toBe('--report needs a value');
  });
});
