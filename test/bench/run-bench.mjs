#!/usr/bin/env node
// Benchmark launcher: bundles every test/bench/*.bench.ts with esbuild into dist/bench/ and runs
// the bundles one after another (never in parallel: they measure CPU and memory).
// Usage: node test/bench/run-bench.mjs [name ...]   (e.g. `memory` runs only memory.bench.ts)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, '..', '..');
const outDir = join(repoRoot, 'dist', 'bench');

const wanted = process.argv.slice(2);
const entries = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(basename(f, '.bench.ts')))
  .sort()
  .map((f) => join(benchDir, f));
if (entries.length === 0) {
  process.stderr.write(`no benchmark matches ${wanted.join(', ')} in ${benchDir}\n`);
  process.exit(2);
}

await build({
  entryPoints: entries,
  outdir: outDir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  packages: 'external',
  logLevel: 'warning',
});

let failed = 0;
for (const entry of entries) {
  const bundle = join(outDir, `${basename(entry, '.ts')}.mjs`);
  const run = spawnSync(process.execPath, ['--enable-source-maps', bundle], { stdio: 'inherit', cwd: repoRoot });
  if (run.status !== 0) {
    failed += 1;
    process.stderr.write(`${basename(entry)} failed (exit ${run.status ?? run.signal})\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
