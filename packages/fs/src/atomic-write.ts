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
  let current = resolve(path);
  for (let hop = 0; hop <= MAX_SYMLINK_HOPS; hop += 1) {
    let info;
    try {
      info = await lstat(current);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return current;
      throw error;
    }
    if (!info.isSymbolicLink()) return current;
    try {
      return await realpath(current);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      // Dangling: follow one hop by hand, relative to the link's own directory.
      current = resolve(dirname(current), await readlink(current));
    }
  }
  const error: NodeJS.ErrnoException = new Error(`ELOOP: too many symbolic links, ${path}`);
  error.code = 'ELOOP';
  throw error;
}

async function existingMode(target: string): Promise<number> {
  try {
    return (await stat(target)).mode & 0o7777;
  } catch {
    return DEFAULT_MODE;
  }
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

/**
 * Write `content` to `path` atomically: a unique temp file in the target's directory, fsync,
 * rename over the target, fsync the directory. A symlink at `path` is kept and its target is
 * replaced. The new file gets the mode of the file it replaces, or 0644.
 * Throws BirdWriteError (AHC_BIRD_WRITE) naming the path and the OS error; the temp file is
 * removed and the old file stays intact.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  let target = path;
  let temp: string | null = null;
  try {
    target = await resolveWriteTarget(path);
    const directory = dirname(target);
    const mode = await existingMode(target);
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
    await fsyncDirectory(directory);
  } catch (error) {
    if (temp !== null) await unlink(temp).catch(() => undefined);
    const where = target === resolve(path) || target === path ? path : `${path} (symlink to ${target})`;
    throw new BirdWriteError(`cannot write ${where}: ${describeError(error)}`, path, errnoCode(error), { cause: error });
  }
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
