/**
 * Replace a file atomically: BIRD (or a reader such as monitoring) sees the old content or the
 * new content, never a partial file, and a failed write leaves the old file intact.
 */
import { constants } from 'node:fs';
import { AhcError, ERR, describeError, errnoCode } from '@ahc/errors';
import { lstat, open, readdir, readlink, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

let tempCounter = 0;

/**
 * Hex digits unique within this process (a counter) and unlikely to repeat across processes
 * (Math.random); the file is opened with O_EXCL anyway. Not node:crypto, whose loading costs the
 * main thread about 2 MiB of memory for nothing else.
 */
function uniqueHex(): string {
  tempCounter += 1;
  return `${tempCounter.toString(16)}${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}`;
}

/**
 * Thrown when a file (the BIRD prefix file, the textfile, the pidfile) cannot be written. Its
 * name and code (AHC_BIRD_WRITE, docs/errors.md) are kept from when only the BIRD file used it.
 */
export class BirdWriteError extends AhcError<{ readonly path: string; readonly osCode: string | null }> {
  override name = 'BirdWriteError';
  /** The path the caller asked to write. */
  readonly path: string;
  /** The OS error code (ENOSPC, EACCES, EROFS, ENOENT, ...), or null. */
  readonly osCode: string | null;
  constructor(message: string, path: string, osCode: string | null, options?: { cause?: unknown }) {
    super(ERR.AHC_BIRD_WRITE, message, { cause: options?.cause, details: { path, osCode } });
    this.path = path;
    this.osCode = osCode;
  }
}

const MAX_SYMLINK_HOPS = 40;
const DEFAULT_MODE = 0o644;

/**
 * The file a write to `path` must replace: `path` itself, or the final target when it is a
 * symlink (also when that target does not exist yet, a dangling link).
 */
export async function resolveWriteTarget(path: string): Promise<string> {
  return (await resolveTarget(path)).target;
}

/** The target, and its permission bits when it exists (from the same lstat when `path` is no symlink). */
async function resolveTarget(path: string): Promise<{ target: string; mode: number | null }> {
  let current = resolve(path);
  for (let hop = 0; hop <= MAX_SYMLINK_HOPS; hop += 1) {
    let info;
    try {
      info = await lstat(current);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { target: current, mode: null };
      throw error;
    }
    if (!info.isSymbolicLink()) return { target: current, mode: info.mode & 0o7777 };
    let target: string;
    try {
      target = await realpath(current);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      // Dangling: follow one hop by hand, relative to the link's own directory.
      current = resolve(dirname(current), await readlink(current));
      continue;
    }
    return {
      target,
      mode: await stat(target).then(
        (s) => s.mode & 0o7777,
        () => null,
      ),
    };
  }
  const error: NodeJS.ErrnoException = new Error(`ELOOP: too many symbolic links, ${path}`);
  error.code = 'ELOOP';
  throw error;
}

async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems cannot fsync a directory; the rename itself has happened.
    const code = errnoCode(error);
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
  } finally {
    await handle.close();
  }
}

/** What replaceFileAtomic did: the new file is in place; `durable` tells when its rename is on disk. */
export interface ReplacedFile {
  /**
   * Settles once the directory's fsync has made the rename itself survive a power failure:
   * null, or the BirdWriteError that fsync failed with. Never rejects.
   */
  readonly durable: Promise<BirdWriteError | null>;
}

/**
 * Write `content` to `path` atomically: a unique temp file in the target's directory, fsync,
 * rename over the target, fsync the directory. A symlink at `path` is kept and its target is
 * replaced. The new file gets the mode of the file it replaces, or 0644.
 * Throws BirdWriteError (AHC_BIRD_WRITE) naming the path and the OS error; the temp file is
 * removed and the old file stays intact.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const error = await (await replaceFileAtomic(path, content)).durable;
  if (error !== null) throw error;
}

/**
 * writeFileAtomic, resolved as soon as the new file is in place: the temp file is written and
 * fsynced, then renamed over the target, so a reader (BIRD) sees the whole new content from now
 * on and a power failure leaves the old content or the new, never a torn file. The directory's
 * fsync, which only makes the rename durable, goes on in the background (`durable`): BIRD need
 * not wait for it (docs/design.md, "Failover latency").
 * Throws as writeFileAtomic does for everything up to the rename.
 */
export async function replaceFileAtomic(path: string, content: string): Promise<ReplacedFile> {
  let target = path;
  let temp: string | null = null;
  const fail = (error: unknown, what = ''): BirdWriteError => {
    const where = target === resolve(path) || target === path ? path : `${path} (symlink to ${target})`;
    return new BirdWriteError(`cannot write ${where}: ${what}${describeError(error)}`, path, errnoCode(error), { cause: error });
  };
  let directory: string;
  try {
    const resolved = await resolveTarget(path);
    target = resolved.target;
    directory = dirname(target);
    const mode = resolved.mode ?? DEFAULT_MODE;
    const candidate = join(directory, `.${basename(target)}.${process.pid}.${uniqueHex()}.tmp`);
    const handle = await open(candidate, 'wx', mode);
    temp = candidate;
    try {
      await handle.chmod(mode); // open's mode is masked by the umask
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    temp = null;
  } catch (error) {
    if (temp !== null) await unlink(temp).catch(() => undefined);
    throw fail(error);
  }
  return {
    durable: fsyncDirectory(directory).then(
      () => null,
      (error: unknown) => fail(error, `the new file is in place, but fsync of its directory ${directory} failed: `),
    ),
  };
}

/**
 * Remove temp files that an earlier daemon, killed in the middle of a write, left beside the
 * file (`.<name>.<pid>.<hex>.tmp` whose pid is gone). Returns the names removed; never throws.
 */
export async function removeStaleTempFiles(path: string): Promise<string[]> {
  const removed: string[] = [];
  try {
    const target = await resolveWriteTarget(path);
    const dir = dirname(target);
    const prefix = `.${basename(target)}.`;
    for (const name of await readdir(dir)) {
      const m = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length)) : null;
      if (m === null) continue;
      const pid = Number(m[1]);
      if (pid === process.pid || pidAlive(pid)) continue;
      await unlink(join(dir, name)).then(
        () => removed.push(name),
        () => undefined,
      );
    }
  } catch {
    // nothing to clean, or cannot look: not worth failing over
  }
  return removed;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}
