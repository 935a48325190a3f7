// A stock Debian root for the package tests, made once with debootstrap and kept (outside the
// repository) for later runs: `debootstrap --variant=minbase` plus what booting it as a systemd
// machine and the BIRD test need (systemd, systemd-sysv, dbus, bird2), nothing of this project.
// The package's own dependencies are not installed in it: `apt-get install ./pkg.deb` inside the
// machine must resolve them from Debian's repositories. They are downloaded into the root's apt
// cache beforehand (`apt-get install --download-only ./pkg.deb`, which fetches only what is
// missing), so the machine itself needs no network and later runs none at all.
//
// Where: $AHC_TEST_CACHE/debian-<suite> (default /var/cache/anycast-healthchecker-test). The first
// run takes about a minute (debootstrap); later ones find it. Delete the directory to rebuild it.
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { exec, execSync } from '../helpers/exec.js';

const MIRROR = process.env.AHC_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const CACHE = process.env.AHC_TEST_CACHE ?? '/var/cache/anycast-healthchecker-test';
// Bump when the recipe changes: a root made by an older recipe is rebuilt.
const RECIPE = 'minbase+systemd,systemd-sysv,dbus,bird2 v1';
const MARKER = '.ahc-test-root';

/** Is the Debian mirror reachable (for debootstrap, or a dependency missing from the cache)? */
export async function mirrorUnreachableReason(suite: string): Promise<string | null> {
  const url = `${MIRROR}/dists/${suite}/InRelease`;
  try {
    const r = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(10_000) });
    return r.ok ? null : `${url} answered HTTP ${r.status}`;
  } catch (error) {
    return `${url} is unreachable (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`;
  }
}

export function cachedRootPath(suite: string): string {
  return join(CACHE, `debian-${suite}`);
}

export function cachedRootReady(suite: string): boolean {
  const marker = join(cachedRootPath(suite), MARKER);
  return existsSync(marker) && execSync(['cat', marker]).stdout.trim() === RECIPE;
}

/** The cached root, made with debootstrap when missing (needs the mirror). Returns its path. */
export async function ensureDebianRoot(suite: string): Promise<string> {
  const root = cachedRootPath(suite);
  if (cachedRootReady(suite)) return root;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${root}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    await exec(['debootstrap', '--variant=minbase', '--include=systemd,systemd-sysv,dbus,bird2', suite, tmp, MIRROR], {
      timeoutMs: 600_000,
    });
    writeFileSync(join(tmp, MARKER), `${RECIPE}\n`);
    rmSync(root, { recursive: true, force: true });
    renameSync(tmp, root);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  return root;
}

/**
 * Download (not install) into the root's apt cache what installing these .deb files would need
 * from the repositories. Offline when all of it is there already. Throws with apt's output.
 */
export async function predownloadDependencies(root: string, debs: readonly string[]): Promise<void> {
  const inside: string[] = [];
  for (const deb of debs) {
    const target = join(root, 'tmp', basename(deb));
    cpSync(deb, target);
    inside.push(`/tmp/${basename(deb)}`);
  }
  const resolv = join(root, 'etc', 'resolv.conf');
  try {
    cpSync('/etc/resolv.conf', resolv, { dereference: true });
    for (const deb of inside) {
      // one at a time: two versions of the same package cannot be asked for at once
      await exec(['env', 'DEBIAN_FRONTEND=noninteractive', 'chroot', root, 'apt-get', 'install', '--download-only', '-y', '-qq', deb], {
        timeoutMs: 300_000,
      });
    }
  } finally {
    for (const deb of inside) rmSync(join(root, deb), { force: true });
  }
}
