// The embedded database's files hold the whole ledger and the API key hashes: only the owner may
// read or write them. PGlite (Emscripten's NODEFS) lays its initial data directory out with mode
// 0666 whatever the umask, so after opening, every directory under it is set to 0700 and every
// file to 0600; files PostgreSQL creates later are 0600 already (its own file mode).
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** mkdir -p with owner-only directories (also tightens the leaf when it already exists). */
export function mkdirPrivate(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/** Sets directories to 0700 and files to 0600 under `root` (symlinks are left alone); bounded depth. */
export function restrictTree(root: string, depth = 0): void {
  if (depth > 32) return;
  const st = lstatSync(root);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== 0o700) chmodSync(root, 0o700);
    for (const name of readdirSync(root)) restrictTree(join(root, name), depth + 1);
  } else if (st.isFile() && (st.mode & 0o777) !== 0o600) {
    chmodSync(root, 0o600);
  }
}
