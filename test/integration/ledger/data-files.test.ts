// The embedded database's files are the owner's only: after PGlite creates (or reopens) its data
// directory and writes to it, no file is readable or writable by group or others and every
// directory is 0700.
import { mkdtempSync, readdirSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../src/shared/sql/migrator.js';
import { PgliteSqlClient } from '../../../src/shared/sql/pglite-client.js';

function modes(root: string, out: { path: string; mode: number; dir: boolean }[] = []) {
  const st = lstatSync(root);
  out.push({ path: root, mode: st.mode & 0o777, dir: st.isDirectory() });
  if (st.isDirectory()) for (const n of readdirSync(root)) modes(join(root, n), out);
  return out;
}

describe('embedded data files', () => {
  it('are created 0600 in 0700 directories, and stay so after writes and a reopen', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'arbiter-modes-')), 'data', 'pglite');
    let sql = await PgliteSqlClient.open(dir);
    await migrate(sql);
    await sql.query('CREATE TABLE t (x int)');
    await sql.query('INSERT INTO t SELECT generate_series(1, 1000)');
    await sql.close();
    sql = await PgliteSqlClient.open(dir);
    await sql.query('CREATE TABLE t2 AS SELECT * FROM t');
    await sql.close();
    const all = modes(join(dir, '..'));
    expect(all.length).toBeGreaterThan(100);
    const open = all.filter((f) => (f.dir ? f.mode !== 0o700 : (f.mode & 0o077) !== 0));
    expect(open.map((f) => `${f.mode.toString(8)} ${f.path}`).slice(0, 5)).toEqual([]);
  }, 180_000);
});
