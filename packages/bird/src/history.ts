/**
 * `bird_keep_changes`: before each write, the current prefix file is copied into `history/`
 * beside it, and only the newest `bird_changes_counter` copies are kept.
 */
import { constants } from 'node:fs';
import { AhcError, ERR, describeError, errnoCode } from '@ahc/errors';
import { copyFile, mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Thrown when the history copy cannot be made or old copies cannot be removed. */
export class BirdHistoryError extends AhcError<{ readonly path: string }> {
  override name = 'BirdHistoryError';
  readonly path: string;
  constructor(message: string, path: string, options?: { cause?: unknown }) {
    super(ERR.AHC_BIRD_HISTORY, message, { cause: options?.cause, details: { path } });
    this.path = path;
  }
}

export interface ArchiveResult {
  /** The copy that was made, or null when there was no file to copy (or keep is 0). */
  readonly archived: string | null;
  /** Old copies that were deleted, oldest first. */
  readonly removed: string[];
}

interface HistoryEntry {
  readonly name: string;
  readonly stamp: string;
  readonly counter: number;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `YYYYmmdd-HHMMSS.ffffff` in UTC, so that names sort by time across DST changes. */
export function historyStamp(date: Date): string {
  return (
    `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1, 2)}${pad(date.getUTCDate(), 2)}-` +
    `${pad(date.getUTCHours(), 2)}${pad(date.getUTCMinutes(), 2)}${pad(date.getUTCSeconds(), 2)}.` +
    pad(date.getUTCMilliseconds() * 1000, 6)
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compareEntries(a: HistoryEntry, b: HistoryEntry): number {
  if (a.stamp !== b.stamp) return a.stamp < b.stamp ? -1 : 1;
  return a.counter - b.counter;
}

/** The history copies of `base` in `directory`, oldest first. Other files are ignored. */
async function listHistory(directory: string, base: string): Promise<HistoryEntry[]> {
  const pattern = new RegExp(`^${escapeRegExp(base)}\\.(\\d{8}-\\d{6}\\.\\d{6})(?:-(\\d+))?$`);
  const entries: HistoryEntry[] = [];
  for (const dirent of await readdir(directory, { withFileTypes: true })) {
    if (!dirent.isFile()) continue;
    const match = pattern.exec(dirent.name);
    if (match === null) continue;
    entries.push({ name: dirent.name, stamp: match[1] as string, counter: Number(match[2] ?? 0) });
  }
  return entries.sort(compareEntries);
}

function entryName(base: string, stamp: string, counter: number): string {
  return counter === 0 ? `${base}.${stamp}` : `${base}.${stamp}-${counter}`;
}

/**
 * Copy the file at `path` (if it exists) to `history/<basename>.<YYYYmmdd-HHMMSS.ffffff>` beside
 * it, then delete the oldest copies so that at most `keep` remain. A counter suffix (`-1`, `-2`,
 * ...) keeps names unique and in order when several copies share a timestamp or the clock went
 * back. Throws BirdHistoryError (AHC_BIRD_HISTORY).
 */
export async function archivePrefixFile(path: string, keep: number, now: Date): Promise<ArchiveResult> {
  if (!Number.isInteger(keep) || keep < 0) {
    throw new RangeError(`keep must be a non-negative integer, got ${keep}`);
  }
  const base = basename(path);
  const directory = join(dirname(path), 'history');
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    throw new BirdHistoryError(`cannot create history directory ${directory}: ${describeError(error)}`, directory, {
      cause: error,
    });
  }

  let history: HistoryEntry[];
  try {
    history = await listHistory(directory, base);
  } catch (error) {
    throw new BirdHistoryError(`cannot read history directory ${directory}: ${describeError(error)}`, directory, { cause: error });
  }

  let archived: string | null = null;
  if (keep > 0) {
    let stamp = historyStamp(now);
    let counter = 0;
    const newest = history[history.length - 1];
    if (newest !== undefined && stamp <= newest.stamp) {
      stamp = newest.stamp;
      counter = newest.counter + 1;
    }
    for (;;) {
      const name = entryName(base, stamp, counter);
      const destination = join(directory, name);
      try {
        await copyFile(path, destination, constants.COPYFILE_EXCL);
        archived = destination;
        history.push({ name, stamp, counter });
        break;
      } catch (error) {
        const code = errnoCode(error);
        if (code === 'EEXIST') {
          counter += 1;
          continue;
        }
        if (code === 'ENOENT' && !(await exists(path))) break; // nothing to archive yet
        throw new BirdHistoryError(`cannot copy ${path} to ${destination}: ${describeError(error)}`, destination, {
          cause: error,
        });
      }
    }
  }

  const removed: string[] = [];
  const failures: string[] = [];
  for (const entry of history.slice(0, Math.max(0, history.length - keep))) {
    const old = join(directory, entry.name);
    try {
      await unlink(old);
      removed.push(old);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') failures.push(`${old}: ${describeError(error)}`);
    }
  }
  if (failures.length > 0) {
    throw new BirdHistoryError(`cannot remove old history copies: ${failures.join('; ')}`, directory);
  }
  return { archived, removed };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
