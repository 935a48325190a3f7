import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, readlink, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveWriteTarget, writeFileAtomic } from '../src/index';
import { makeTempDir, removeTempDir } from './fixture';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir('write');
});

afterEach(async () => {
  await removeTempDir(dir);
});

async function tempFiles(directory: string): Promise<string[]> {
  return (await readdir(directory)).filter((name) => name.endsWith('.tmp'));
}

async function expectWriteError(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; osCode: string | null; path: string }> {
  const error = await promise.then(
    () => {
      throw new Error('expected the write to fail');
    },
    (reason: unknown) => reason as { code: string; message: string; osCode: string | null; path: string },
  );
  expect(error.code).toBe('AHC_BIRD_WRITE');
  return error;
}

/** Mount a small tmpfs at `mountpoint`; null when this process may not mount (not root). */
function tryMountTmpfs(mountpoint: string, sizeKiB: number): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0755`, 'tmpfs', mountpoint], { stdio: 'pipe' });
    return null;
  } catch (error) {
    return `cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): ${(error as Error).message.split('\n')[0] ?? ''}`;
  }
}

function unmount(mountpoint: string): void {
  execFileSync('umount', ['-l', mountpoint], { stdio: 'pipe' });
}

/**
 * Run `body` with a 64 KiB tmpfs at `dir/name` holding `anycast-prefixes.conf` = "old\n"
 * (skips the test when it cannot mount); unmounts afterwards.
 */
async function withOldFileOnTmpfs(
  ctx: { skip(note: string): never },
  name: string,
  body: (mountpoint: string, path: string) => Promise<void>,
): Promise<void> {
  const mountpoint = join(dir, name);
  await mkdir(mountpoint);
  const problem = tryMountTmpfs(mountpoint, 64);
  if (problem !== null) ctx.skip(problem);
  try {
    const path = join(mountpoint, 'anycast-prefixes.conf');
    await writeFile(path, 'old\n');
    await body(mountpoint, path);
  } finally {
    unmount(mountpoint);
  }
}

describe('writeFileAtomic', () => {
  it('creates a missing file with mode 0644 and leaves no temp file', async () => {
    const path = join(dir, 'anycast-prefixes.conf');
    await writeFileAtomic(path, 'new\n');
    expect(await readFile(path, 'utf8')).toBe('new\n');
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    expect(await tempFiles(dir)).toEqual([]);
  });

  it('replaces an existing file with a new inode and keeps its mode', async () => {
    const path = join(dir, 'anycast-prefixes.conf');
    await writeFile(path, 'old\n');
    await chmod(path, 0o640);
    const before = await stat(path);
    await writeFileAtomic(path, 'new\n');
    const after = await stat(path);
    expect(await readFile(path, 'utf8')).toBe('new\n');
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o640);
  });

  it('replaces the target of a symlink and keeps the link', async () => {
    await mkdir(join(dir, 'real'));
    const target = join(dir, 'real', 'prefixes.conf');
    const link = join(dir, 'anycast-prefixes.conf');
    await writeFile(target, 'old\n');
    await symlink('real/prefixes.conf', link);
    await writeFileAtomic(link, 'new\n');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('real/prefixes.conf');
    expect(await readFile(target, 'utf8')).toBe('new\n');
    expect(await tempFiles(dir)).toEqual([]);
    expect(await tempFiles(join(dir, 'real'))).toEqual([]);
  });

  it('follows a chain of symlinks to the final file', async () => {
    const target = join(dir, 'final.conf');
    await writeFile(target, 'old\n');
    await symlink('final.conf', join(dir, 'middle.conf'));
    await symlink(join(dir, 'middle.conf'), join(dir, 'first.conf'));
    await writeFileAtomic(join(dir, 'first.conf'), 'new\n');
    expect(await readFile(target, 'utf8')).toBe('new\n');
    expect((await lstat(join(dir, 'middle.conf'))).isSymbolicLink()).toBe(true);
  });

  it('creates the target of a dangling symlink, resolved relative to the link', async () => {
    await mkdir(join(dir, 'state'));
    await mkdir(join(dir, 'etc'));
    const link = join(dir, 'etc', 'anycast-prefixes.conf');
    await symlink('../state/prefixes.conf', link);
    expect(await resolveWriteTarget(link)).toBe(join(dir, 'state', 'prefixes.conf'));
    await writeFileAtomic(link, 'new\n');
    expect(await readFile(join(dir, 'state', 'prefixes.conf'), 'utf8')).toBe('new\n');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
  });

  it('fails with AHC_BIRD_WRITE naming the path and ENOENT when the directory is missing', async () => {
    const path = join(dir, 'missing', 'anycast-prefixes.conf');
    const error = await expectWriteError(writeFileAtomic(path, 'new\n'));
    expect(error.message).toContain(path);
    expect(error.message).toContain('ENOENT');
    expect(error.osCode).toBe('ENOENT');
    expect(error.path).toBe(path);
  });

  it('fails with AHC_BIRD_WRITE naming link and target when a symlink points into a missing directory', async () => {
    const link = join(dir, 'anycast-prefixes.conf');
    await symlink('gone/prefixes.conf', link);
    const error = await expectWriteError(writeFileAtomic(link, 'new\n'));
    expect(error.message).toContain(link);
    expect(error.message).toContain(join(dir, 'gone', 'prefixes.conf'));
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
  });

  it('fails on a symlink loop with ELOOP', async () => {
    await symlink('b', join(dir, 'a'));
    await symlink('a', join(dir, 'b'));
    const error = await expectWriteError(writeFileAtomic(join(dir, 'a'), 'x'));
    expect(error.osCode).toBe('ELOOP');
  });

  it('fails when the path is a directory and removes its temp file', async () => {
    const path = join(dir, 'a-directory');
    await mkdir(path);
    const error = await expectWriteError(writeFileAtomic(path, 'new\n'));
    expect(error.message).toContain(path);
    expect(await tempFiles(dir)).toEqual([]);
  });

  it('writes many times concurrently without collisions; the last rename wins whole', async () => {
    const path = join(dir, 'anycast-prefixes.conf');
    const contents = Array.from({ length: 20 }, (_, i) => `content ${i}\n`.repeat(100));
    await Promise.all(contents.map((content) => writeFileAtomic(path, content)));
    expect(contents).toContain(await readFile(path, 'utf8'));
    expect(await tempFiles(dir)).toEqual([]);
  });

  it('fails with EACCES in a directory the user may not write, old file intact', async (ctx) => {
    if (process.getuid?.() === 0)
      ctx.skip('root ignores permission bits; the read-only tmpfs test covers a directory that cannot be written');
    const sub = join(dir, 'locked');
    await mkdir(sub);
    const path = join(sub, 'anycast-prefixes.conf');
    await writeFile(path, 'old\n');
    await chmod(sub, 0o555);
    try {
      const error = await expectWriteError(writeFileAtomic(path, 'new\n'));
      expect(error.osCode).toBe('EACCES');
      expect(error.message).toContain(path);
      expect(await readFile(path, 'utf8')).toBe('old\n');
    } finally {
      await chmod(sub, 0o755);
    }
  });

  it('fails with ENOSPC on a full file system, old file intact, no temp file left', async (ctx) => {
    await withOldFileOnTmpfs(ctx, 'small', async (mountpoint, path) => {
      const error = await expectWriteError(writeFileAtomic(path, 'x'.repeat(1024 * 1024)));
      expect(error.osCode).toBe('ENOSPC');
      expect(error.message).toContain(path);
      expect(error.message).toContain('ENOSPC');
      expect(await readFile(path, 'utf8')).toBe('old\n');
      expect(await tempFiles(mountpoint)).toEqual([]);
    });
  });

  it('fails with EROFS in a read-only directory, old file intact', async (ctx) => {
    await withOldFileOnTmpfs(ctx, 'readonly', async (mountpoint, path) => {
      execFileSync('mount', ['-o', 'remount,ro', mountpoint], { stdio: 'pipe' });
      const error = await expectWriteError(writeFileAtomic(path, 'new\n'));
      expect(error.osCode).toBe('EROFS');
      expect(error.message).toContain(path);
      expect(await readFile(path, 'utf8')).toBe('old\n');
      expect(await readdir(mountpoint)).toEqual(['anycast-prefixes.conf']);
    });
  });
});

describe('removeStaleTempFiles', () => {
  it('removes temp files of dead writers and keeps those of live ones and unrelated files', async () => {
    const { mkdtempSync, writeFileSync, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join: j } = await import('node:path');
    const { removeStaleTempFiles } = await import('../src/atomic-write');
    const dir = mkdtempSync(j(tmpdir(), 'ahc-stale-'));
    const file = j(dir, 'anycast-prefixes.conf');
    writeFileSync(file, 'x');
    writeFileSync(j(dir, '.anycast-prefixes.conf.999999.abcdef012345.tmp'), 'dead writer');
    writeFileSync(j(dir, `.anycast-prefixes.conf.${process.pid}.abcdef012345.tmp`), 'live writer');
    writeFileSync(j(dir, '.other.conf.999999.abcdef012345.tmp'), 'not ours');
    expect(await removeStaleTempFiles(file)).toEqual(['.anycast-prefixes.conf.999999.abcdef012345.tmp']);
    expect(readdirSync(dir).sort()).toEqual(
      [
        '.anycast-prefixes.conf.' + process.pid + '.abcdef012345.tmp',
        '.other.conf.999999.abcdef012345.tmp',
        'anycast-prefixes.conf',
      ].sort(),
    );
  });
});
