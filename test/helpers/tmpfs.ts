// A tiny tmpfs to make file writes fail for real: fill it (ENOSPC), remount it read-only (EROFS).
// Needs root and mount(8); `tmpfsUnavailableReason()` says why not, so tests can skip.
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, execSync } from './exec.js';

const MOUNT = 'mount';
const UMOUNT = 'umount';

let probeResult: string | null | undefined;

/** Why a tmpfs cannot be mounted here (not root, mount refused), or null. Probed once. */
export function tmpfsUnavailableReason(): string | null {
  if (probeResult !== undefined) return probeResult;
  probeResult = probe();
  return probeResult;
}

function probe(): string | null {
  if (process.platform !== 'linux') return `tmpfs needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const dir = mkdtempSync(join(tmpdir(), 'ahc-tmpfs-probe-'));
  try {
    const r = execSync([MOUNT, '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    if (r.code !== 0) return `cannot mount a tmpfs: ${`${r.stdout}${r.stderr}`.trim() || `exit ${r.code}`}`;
    const ro = execSync([MOUNT, '-o', 'remount,ro', dir]);
    execSync([UMOUNT, dir]);
    if (ro.code !== 0) return `cannot remount a tmpfs read-only: ${`${ro.stdout}${ro.stderr}`.trim()}`;
    return null;
  } finally {
    rmdirSync(dir);
  }
}

/** A mounted tmpfs of `sizeKiB` at `dir` (an existing, empty directory). */
export class Tmpfs {
  private constructor(readonly dir: string) {}

  static async mount(dir: string, sizeKiB = 64): Promise<Tmpfs> {
    await exec([MOUNT, '-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0755`, 'tmpfs', dir]);
    return new Tmpfs(dir);
  }

  remount(mode: 'ro' | 'rw'): Promise<unknown> {
    return exec([MOUNT, '-o', `remount,${mode}`, this.dir]);
  }

  /**
   * Write a file of zeros until the file system is full (ENOSPC); resolves to its path and size.
   * Remove it (`rmSync`) to free the space again.
   */
  fill(name = 'filler'): { path: string; bytes: number } {
    const path = join(this.dir, name);
    const fd = openSync(path, 'w');
    const chunk = Buffer.alloc(1024);
    let bytes = 0;
    try {
      for (;;) {
        try {
          bytes += writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    } finally {
      closeSync(fd);
    }
    return { path, bytes };
  }

  free(filler: { path: string }): void {
    rmSync(filler.path, { force: true });
  }

  /** Unmount (lazily if busy); never throws. */
  unmount(): void {
    execSync([MOUNT, '-o', 'remount,rw', this.dir]);
    if (execSync([UMOUNT, this.dir]).code !== 0) execSync([UMOUNT, '-l', this.dir]);
  }
}
