// `npm run build`: transpiles src/, projections/, bench/ and test/stand-ins/ to dist/ with SWC, file by file, and
// only the files whose source is newer than their output (a start with nothing changed transpiles
// nothing). Types are not checked here: `npm run typecheck` (tsc) does that, and CI runs it before
// the tests. SWC is also what compiles the code under test (vitest.config.ts), with the same
// decorator settings, so the built app and the tested one are the same JavaScript. SWC itself is
// loaded only when a file needs transpiling: a start or CLI call with nothing changed only stats.
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist');
// test/stand-ins too: the round-trip benchmark runs the Jupiter and Solana RPC stand-ins in process.
const dirs = ['src', 'projections', 'bench', 'test/stand-ins'];

/** Same settings as vitest.config.ts (legacy decorators with metadata for Nest's DI), ES2022 modules. */
const options = (file) => ({
  filename: file,
  sourceMaps: true,
  module: { type: 'es6' },
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    keepClassNames: true,
  },
});

async function* sources(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

const mtime = (p) => stat(p).then((s) => s.mtimeMs, () => -1);

const started = performance.now();
const wanted = new Set();
let built = 0;
let swc;
for (const dir of dirs) {
  for await (const file of sources(join(root, dir))) {
    const target = join(out, relative(root, file)).replace(/\.ts$/, '.js');
    wanted.add(target);
    if ((await mtime(target)) >= (await mtime(file))) continue;
    swc ??= await import('@swc/core');
    const { code, map } = await swc.transformFile(file, options(file));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, `${code}\n//# sourceMappingURL=${target.split('/').pop()}.map\n`);
    if (map) await writeFile(`${target}.map`, map);
    built++;
  }
}
// Outputs whose source was deleted or moved would otherwise still be importable.
let removed = 0;
async function prune(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await prune(path);
    else if (entry.name.endsWith('.js') && !wanted.has(path)) {
      await rm(path, { force: true });
      await rm(`${path}.map`, { force: true });
      removed++;
    }
  }
}
for (const dir of dirs) await prune(join(out, dir));
const ms = Math.round(performance.now() - started);
if (built || removed) console.error(`build: ${built} file(s) transpiled, ${removed} stale removed, in ${ms} ms`);
