// Compiles ahc-spawn (src/ahc-spawn.c, the protocol is at its top; src/watch-addresses.c, its
// `--watch-addresses` mode) with the system's C compiler, statically linked (static PIE): it maps no shared
// library, which halves what it holds in memory (0.7 MiB instead of 1.4 MiB resident). It uses
// nothing of libc that needs NSS or dlopen, so the static glibc is safe.
// The app's build (apps/anycast-healthchecker/scripts/build.mjs) calls buildSpawnHelper() to put
// the binary next to the bundle; run alone, this builds dist/ahc-spawn here.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCES = ['ahc-spawn.c', 'watch-addresses.c'].map((name) => fileURLToPath(new URL(`../src/${name}`, import.meta.url)));
export const CFLAGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-static-pie'];

/** Compile to `outFile` (through a temporary file and a rename: a running helper is not touched). Throws with a readable message. */
export function buildSpawnHelper(outFile) {
  const cc = process.env.CC || 'cc';
  mkdirSync(dirname(outFile), { recursive: true });
  const tmp = `${outFile}.tmp-${process.pid}`;
  const r = spawnSync(cc, [...CFLAGS, '-o', tmp, ...SOURCES], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error !== undefined) {
    rmSync(tmp, { force: true });
    const why = r.error.code === 'ENOENT' ? `the C compiler "${cc}" was not found (install gcc, or set CC)` : r.error.message;
    throw new Error(`cannot build ahc-spawn: ${why}`);
  }
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(
      `cannot build ahc-spawn: ${cc} ${CFLAGS.join(' ')} ${SOURCES.join(' ')} failed (${r.signal ?? `exit code ${r.status}`})`,
    );
  }
  renameSync(tmp, outFile);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    buildSpawnHelper(process.argv[2] ?? fileURLToPath(new URL('../dist/ahc-spawn', import.meta.url)));
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
