// The console half of `npm run build`: Vite builds console/ into dist/console only when a source
// of it (console/src, index.html, the Vite config) or the lock file is newer than the built
// index.html, so a start with nothing changed spends no time here. Vite's own API, same config.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = join(root, 'dist/console/index.html');
const mtime = (p) => stat(p).then((s) => s.mtimeMs, () => -1);

async function newest(path) {
  const s = await stat(path).catch(() => null);
  if (!s) return -1;
  if (!s.isDirectory()) return s.mtimeMs;
  let m = s.mtimeMs; // a deleted file shows as its folder's change
  for (const entry of await readdir(path)) m = Math.max(m, await newest(join(path, entry)));
  return m;
}

const inputs = ['console/src', 'console/index.html', 'console/vite.config.ts', 'package-lock.json'].map((p) => join(root, p));
const sources = Math.max(...(await Promise.all(inputs.map(newest))));
if ((await mtime(built)) < sources) {
  const started = performance.now();
  const { build } = await import('vite');
  await build({ configFile: join(root, 'console/vite.config.ts'), logLevel: 'warn' });
  console.error(`build: console built in ${Math.round(performance.now() - started)} ms`);
}
