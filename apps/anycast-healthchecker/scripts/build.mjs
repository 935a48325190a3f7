// Bundles the program and the check-worker entry with esbuild. The worker bundle is separate
// and small on purpose: every worker thread loads it. Then compiles the check spawner, ahc-spawn,
// and the addon ahc-release-pages.node (C, packages/spawn-helper) into dist next to the bundle,
// where the daemon looks for them.
import { build } from 'esbuild';
import { buildReleasePages, buildSpawnHelper } from '../../../packages/spawn-helper/scripts/build.mjs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  // Paths below are relative to the app directory, whatever the caller's working directory.
  absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
  define: { __AHC_VERSION__: JSON.stringify(pkg.version) },
  // yargs' string-width creates an Intl.Segmenter on import (about 2.6 MiB resident); see the shim.
  // yargs' `assert` import: Node's pulls in its diff machinery (about 1 MiB resident); see the shim.
  alias: { 'string-width': './src/shims/string-width.ts', assert: './src/shims/assert.ts' },
  // Some CommonJS dependencies (pino, yargs) call require() for Node built-ins.
  banner: { js: "import { createRequire as __ahcCreateRequire } from 'node:module'; const require = __ahcCreateRequire(import.meta.url);" },
};
await build({ ...common, entryPoints: { main: 'src/main.ts' }, outdir: 'dist', outExtension: { '.js': '.mjs' } });
await build({
  ...common,
  entryPoints: { 'check-worker': 'src/check-worker.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  minify: true,
});
// V8 keeps a script's source for as long as it runs, one byte per character if every character
// is Latin-1 and two otherwise: one "→" in a comment doubled main.mjs's 0.55 MiB in every
// daemon. esbuild escapes non-ASCII in code but keeps comments as written, so check.
for (const name of ['main.mjs', 'check-worker.mjs']) {
  const text = readFileSync(new URL(`../dist/${name}`, import.meta.url), 'utf8');
  const at = text.search(/[^\x00-\xff]/);
  if (at >= 0) {
    const line = text.slice(0, at).split('\n').length;
    process.stderr.write(
      `dist/${name}:${line}: a character beyond Latin-1 (${JSON.stringify(text[at])}); write it in ASCII in the source\n`,
    );
    process.exit(1);
  }
}
try {
  buildSpawnHelper(fileURLToPath(new URL('../dist/ahc-spawn', import.meta.url)));
  buildReleasePages(fileURLToPath(new URL('../dist/ahc-release-pages.node', import.meta.url)));
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
