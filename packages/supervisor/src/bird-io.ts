import type { BigIntStats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { errnoCode } from '@ahc/errors';
import { archivePrefixFile, parsePrefixFile, renderPrefixFile, runCustomReconfigure, verifyBirdVariable } from '@ahc/bird';
import { runCommand } from '@ahc/command';
import type { CommandRunner } from '@ahc/command';
import { removeStaleTempFiles, replaceFileAtomic } from '@ahc/fs';
import type { PrefixFileContent, ReconfigureOutcome, VerifyOutcome } from '@ahc/bird';
import type { BirdFamilyConfig, Command, ServiceConfig } from '@ahc/config';
import type { ReconfigureQueue } from './reconfigure-queue';

/** A service's own reconfigure command (custom_bird_reconfigure_cmd) still to run. */
export interface CustomAction {
  readonly service: string;
  readonly command: Command;
  readonly direction: 'up' | 'down';
  readonly timeoutMs: number;
}

/** The CustomAction of a service's `custom_bird_reconfigure_cmd` for a move up or down; undefined when it has none. */
export function customActionOf(
  c: Pick<ServiceConfig, 'name' | 'customReconfigureCmd' | 'customReconfigureTimeoutMs'>,
  direction: 'up' | 'down',
): CustomAction | undefined {
  const command = c.customReconfigureCmd;
  return command === null ? undefined : { service: c.name, command, direction, timeoutMs: c.customReconfigureTimeoutMs };
}

/** A write whose new file is in place (BIRD may be told); `durable` tells when it is on disk. */
export interface WrittenFile {
  /**
   * Settles once the rename is durable (the directory's fsync): null, or the error that fsync
   * failed with (the new file is in place anyway). Never rejects.
   */
  readonly durable: Promise<Error | null>;
}

/**
 * Everything a PrefixReconciler does to one family's file and to BIRD. The reconciler decides
 * what and when; this does it (FileBirdIo for the daemon, a fake in tests).
 */
export interface BirdIo {
  /** Remove temp files an interrupted write left beside the file; returns their names. */
  removeStaleTempFiles(): Promise<readonly string[]>;
  /** The file as it is now; null when it is missing or empty. Rejects when it cannot be read. */
  read(): Promise<PrefixFileContent | null>;
  /** Keep a copy of the file in history (keep_bird_changes). */
  archive(): Promise<void>;
  /**
   * Replace the file atomically with these prefixes (dummy first). Resolves once the new file is
   * in place; rejects, the old file intact, when it cannot be written.
   */
  write(prefixes: readonly string[]): Promise<WrittenFile>;
  /** The family's reconfigure command (shared by families that use the same one). Never rejects. */
  reconfigure(): Promise<ReconfigureOutcome>;
  /**
   * True while BIRD said it applies an earlier reconfigure in the background and has not said
   * it is done (docs/bird.md).
   */
  readonly applying: boolean;
  /** Resolves once BIRD is done applying (at once when it is not known to be busy). Never rejects. */
  settle(): Promise<void>;
  /** A service's custom_bird_reconfigure_cmd with up/down. Never rejects. */
  custom(action: CustomAction): Promise<ReconfigureOutcome>;
  /** bird_verify_cmd: compare BIRD's live set with these prefixes. Never rejects. */
  verify(command: Command, prefixes: readonly string[]): Promise<VerifyOutcome>;
}

/** Same inode, size and times: the file has not changed since `a` was taken (docs/design.md, "Failover latency"). */
function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * The daemon's BirdIo: the real file, the shared ReconfigureQueue and the commands.
 *
 * It remembers what it wrote last and the file's stat right after the rename: a read that finds
 * the same inode, size, mtime and ctime returns that content without reading the file again (a
 * stat instead of open, read and close before every step). Any other change of the file (hand
 * edits, another writer, a deleted file, a symlink pointed elsewhere) changes one of them, so
 * the file is read.
 */
export class FileBirdIo implements BirdIo {
  #lastWrite: { readonly content: PrefixFileContent; readonly stat: Promise<BigIntStats | null> } | null = null;

  constructor(
    private readonly bird: BirdFamilyConfig,
    private readonly queue: ReconfigureQueue,
    private readonly signal: AbortSignal,
    /** What starts the custom and verify commands, asked at each run (as the queue's). */
    private readonly runner: () => CommandRunner = () => runCommand,
  ) {}

  removeStaleTempFiles(): Promise<readonly string[]> {
    return removeStaleTempFiles(this.bird.path);
  }

  async read(): Promise<PrefixFileContent | null> {
    const last = this.#lastWrite;
    if (last !== null) {
      const [now, then] = await Promise.all([stat(this.bird.path, { bigint: true }).catch(() => null), last.stat]);
      if (now !== null && then !== null && sameFile(now, then)) return last.content;
      this.#lastWrite = null;
    }
    let text: string;
    try {
      text = await readFile(this.bird.path, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return null;
      throw error;
    }
    return text.trim() === '' ? null : parsePrefixFile(text);
  }

  async archive(): Promise<void> {
    await archivePrefixFile(this.bird.path, this.bird.changesCounter, new Date());
  }

  async write(prefixes: readonly string[]): Promise<WrittenFile> {
    const text = renderPrefixFile({
      variable: this.bird.variable,
      dummy: this.bird.dummy,
      prefixes,
      generatedAt: new Date(),
      pid: process.pid,
    });
    this.#lastWrite = null;
    const replaced = await replaceFileAtomic(this.bird.path, text);
    // Taken while BIRD is being told, off the path of the step; what the file holds is what the
    // next read would parse from it.
    const size = BigInt(Buffer.byteLength(text));
    this.#lastWrite = {
      content: parsePrefixFile(text),
      stat: stat(this.bird.path, { bigint: true }).then(
        (s) => (s.size === size ? s : null),
        () => null,
      ),
    };
    return replaced;
  }

  reconfigure(): Promise<ReconfigureOutcome> {
    return this.queue.run();
  }

  get applying(): boolean {
    return this.queue.applying;
  }

  settle(): Promise<void> {
    return this.queue.settle();
  }

  custom(action: CustomAction): Promise<ReconfigureOutcome> {
    return runCustomReconfigure(action.command, action.direction, { timeoutMs: action.timeoutMs, signal: this.signal, run: this.runner() });
  }

  verify(command: Command, prefixes: readonly string[]): Promise<VerifyOutcome> {
    return verifyBirdVariable(command, this.bird.variable, prefixes, {
      timeoutMs: this.queue.timeoutMs,
      signal: this.signal,
      run: this.runner(),
    });
  }
}
