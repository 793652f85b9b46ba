import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSanctionsList, SanctionsList, SanctionsListError, type ReloadResult } from '../../../src/compliance/sanctions-list.js';

const A = 'Addr1111111111111111111111111111111111111111';
const B = 'Addr2222222222222222222222222222222222222222';
const C = 'Addr3333333333333333333333333333333333333333';

let dir: string;
let file: string;
let list: SanctionsList | null = null;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arbiter-sanctions-'));
  file = join(dir, 'sanctions.txt');
});
afterEach(async () => {
  list?.close();
  list = null;
  await rm(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<SanctionsListError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SanctionsListError);
    return e as SanctionsListError;
  }
  throw new Error('expected a SanctionsListError');
}

describe('parseSanctionsList', () => {
  it('reads one address per line, skipping blank lines and # comments (whole-line and trailing)', () => {
    expect(parseSanctionsList(`# OFAC extract\n\n${A}\n  ${B}  # added 2026-01-02\r\n#${C}\n`, 'f')).toEqual([A, B]);
  });
  it('reads a JSON array of strings', () => {
    expect(parseSanctionsList(`  ["${A}", " ${B} "]`, 'f')).toEqual([A, B]);
  });
  it('names the line of a malformed entry', () => {
    expect(() => parseSanctionsList(`${A}\n${B} ${C}\n`, 'list.txt')).toThrow(/Sanctions list list.txt: line 2: .* contains whitespace/);
  });
  it('names the JSON problem', () => {
    expect(() => parseSanctionsList('["a", 3]', 'l.json')).toThrow(/item 1 must be a non-empty address string/);
    expect(() => parseSanctionsList('[ "a", ', 'l.json')).toThrow(/looks like a JSON array but does not parse/);
  });
  it('refuses an empty list unless allowed', () => {
    expect(() => parseSanctionsList('# nothing yet\n', 'f')).toThrow(/contains no address/);
    expect(parseSanctionsList('# nothing yet\n', 'f', { allowEmpty: true })).toEqual([]);
  });
});

describe('SanctionsList from a file', () => {
  it('given a file, when loaded, then it answers lookups exactly and records a content version', async () => {
    await writeFile(file, `${A}\n${B}\n`);
    list = await SanctionsList.load(file);
    expect(list.has(A)).toBe(true);
    expect(list.has(` ${B}`)).toBe(true);
    expect(list.has(C)).toBe(false);
    expect(list.has(A.toLowerCase())).toBe(false);
    expect(list.size).toBe(2);
    expect(list.version).toMatch(/^[0-9a-f]{32}$/);
    expect(list.path).toBe(file);
  });

  it('given a missing file, when loaded, then the error names the file and the variable to check', async () => {
    const e = await failure(SanctionsList.load(join(dir, 'nope.txt')));
    expect(e.message).toMatch(/nope\.txt: cannot be read \(file not found\); check COMPLIANCE_SANCTIONS_FILE/);
  });

  it('when the file changes and reload is called, then the new list is in force', async () => {
    await writeFile(file, `${A}\n`);
    list = await SanctionsList.load(file);
    const v1 = list.version;
    await writeFile(file, `${B}\n${C}\n`);
    const r = await list.reload();
    expect(r).toEqual({ changed: true, size: 2, version: list.version });
    expect(list.version).not.toBe(v1);
    expect(list.has(A)).toBe(false);
    expect(list.has(C)).toBe(true);
    expect((await list.reload()).changed).toBe(false);
  });

  it('when the new file is bad, then reload throws a clear error and the previous list stays in force', async () => {
    await writeFile(file, `${A}\n`);
    list = await SanctionsList.load(file);
    const v1 = list.version;
    await writeFile(file, `${B}\nnot an address\n`);
    const e = await failure(list.reload());
    expect(e.message).toContain('line 2');
    expect(list.has(A)).toBe(true);
    expect(list.has(B)).toBe(false);
    expect(list.version).toBe(v1);
    await writeFile(file, '');
    expect((await failure(list.reload())).message).toContain('contains no address');
    expect(list.has(A)).toBe(true);
  });

  it('with watch on, when the file is replaced by rename, then the list reloads by itself', async () => {
    await writeFile(file, `${A}\n`);
    list = await SanctionsList.load(file);
    const reloaded = new Promise<ReloadResult>((resolve, reject) => {
      list!.watch({ debounceMs: 20, onReload: (r) => r.changed && resolve(r), onError: reject });
    });
    const tmp = join(dir, 'sanctions.txt.new');
    await writeFile(tmp, `${C}\n`);
    await rename(tmp, file);
    const r = await reloaded;
    expect(r.size).toBe(1);
    expect(list.has(C)).toBe(true);
    expect(list.has(A)).toBe(false);
  });

  it('with watch on, when a bad file is written, then onError reports it and the old list stays', async () => {
    await writeFile(file, `${A}\n`);
    list = await SanctionsList.load(file);
    const failed = new Promise<Error>((resolve) => {
      list!.watch({ debounceMs: 20, onError: resolve });
    });
    await writeFile(file, '["broken"');
    const e = await failed;
    expect(e).toBeInstanceOf(SanctionsListError);
    expect(list.has(A)).toBe(true);
  });

  it('an in-memory list needs no file and cannot be watched', () => {
    const l = SanctionsList.fromAddresses([A, ' ']);
    expect(l.has(A)).toBe(true);
    expect(l.size).toBe(1);
    expect(() => l.watch()).toThrow(/not loaded from a file/);
  });
});
