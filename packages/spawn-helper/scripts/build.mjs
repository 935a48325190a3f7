// Compiles ahc-spawn (src/ahc-spawn.c, the protocol is at its top; src/watch-addresses.c, its
// `--watch-addresses` mode) with the system's C compiler, statically linked (static PIE): it maps no shared
// library, which halves what it holds in memory (0.7 MiB instead of 1.4 MiB resident). It uses
// nothing of libc that needs NSS or dlopen, so the static glibc is safe.
// Also the Node-API addon ahc-release-pages.node (src/release-pages.c): the daemon calls it once its
// checks run, to unmap the node executable's start-up pages (docs/design.md, "Memory: the node
// binary's start-up pages"). It is a shared object, so it links the C library dynamically, as node does.
// The app's build (apps/anycast-healthchecker/scripts/build.mjs) calls buildSpawnHelper() and
// buildReleasePages() to put both next to the bundle; run alone, this builds them in dist/ here.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = (name) => fileURLToPath(new URL(`../src/${name}`, import.meta.url));
const SOURCES = ['ahc-spawn.c', 'watch-addresses.c'].map(source);
const ADDON_SOURCE = source('release-pages.c');
export const CFLAGS = ['-O2', '-Wall', '-Wextra', '-Werror'];
const STATIC = ['-static-pie'];

/**
 * Build `what` into `outFile` with the C compiler (CC, or cc): `compile(cc, tmp)` runs it into a
 * temporary file, which is renamed over `outFile` (a running program keeps the file it has).
 * `compile` returns spawnSync's result and `shown`, the command line a failure names. Throws with
 * a readable message, the temporary file removed. Returns what `compile` returned.
 */
function compileInto(what, outFile, compile) {
  const cc = process.env.CC || 'cc';
  mkdirSync(dirname(outFile), { recursive: true });
  const tmp = `${outFile}.tmp-${process.pid}`;
  const done = compile(cc, tmp);
  const r = done.result;
  if (r.error !== undefined || r.status !== 0) {
    rmSync(tmp, { force: true });
    const why =
      r.error === undefined
        ? `${done.shown} failed (${r.signal ?? `exit code ${r.status}`})`
        : r.error.code === 'ENOENT'
          ? `the C compiler "${cc}" was not found (install gcc, or set CC)`
          : r.error.message;
    throw new Error(`cannot build ${what}: ${why}`);
  }
  renameSync(tmp, outFile);
  return done;
}

/**
 * Compile ahc-spawn to `outFile`. Static when the C library allows it; where it has no static
 * archive (Fedora without glibc-static, say) the helper is linked dynamically, with a warning, and
 * works the same. Throws with a readable message. Returns whether the binary is static.
 */
export function buildSpawnHelper(outFile) {
  const done = compileInto('ahc-spawn', outFile, (cc, tmp) => {
    const compile = (extra, stdio) =>
      spawnSync(cc, [...CFLAGS, ...extra, '-o', tmp, ...SOURCES], { stdio: ['ignore', stdio, stdio], encoding: 'utf8' });
    const shown = `${cc} ${CFLAGS.join(' ')} ${SOURCES.join(' ')}`;
    const r = compile(STATIC, 'pipe');
    if (r.error !== undefined || r.status === 0) return { result: r, shown, linked: 'static' };
    // Compiled but not linked statically? Try a dynamic link, showing its errors if that fails too.
    const plain = compile([], 'inherit');
    if (plain.error === undefined && plain.status === 0) {
      process.stderr.write(
        `warning: ahc-spawn is linked dynamically (${cc} ${STATIC.join(' ')} failed: ${(r.stderr ?? '').trim().split('\n').pop()}); ` +
          'it works the same and holds about 0.7 MiB more (Debian: apt-get install libc6-dev; Fedora: dnf install glibc-static)\n',
      );
    }
    return { result: plain, shown, linked: 'dynamic' };
  });
  return done.linked === 'static';
}

/** Compile the addon to `outFile`, the same way. Throws with a readable message. */
export function buildReleasePages(outFile) {
  compileInto('ahc-release-pages.node', outFile, (cc, tmp) => {
    const args = [...CFLAGS, '-shared', '-fPIC', '-o', tmp, ADDON_SOURCE];
    return { result: spawnSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] }), shown: `${cc} ${args.join(' ')}` };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    buildSpawnHelper(process.argv[2] ?? fileURLToPath(new URL('../dist/ahc-spawn', import.meta.url)));
    buildReleasePages(fileURLToPath(new URL('../dist/ahc-release-pages.node', import.meta.url)));
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
