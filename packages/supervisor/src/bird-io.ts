import { readFile } from 'node:fs/promises';
import { errnoCode } from '@ahc/errors';
import { archivePrefixFile, parsePrefixFile, renderPrefixFile, runCustomReconfigure, verifyBirdVariable } from '@ahc/bird';
import { runCommand } from '@ahc/command';
import type { CommandRunner } from '@ahc/command';
import { removeStaleTempFiles, writeFileAtomic } from '@ahc/fs';
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
  /** Replace the file atomically with these prefixes (dummy first). */
  write(prefixes: readonly string[]): Promise<void>;
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

/** The daemon's BirdIo: the real file, the shared ReconfigureQueue and the commands. */
export class FileBirdIo implements BirdIo {
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

  async write(prefixes: readonly string[]): Promise<void> {
    const content = renderPrefixFile({
      variable: this.bird.variable,
      dummy: this.bird.dummy,
      prefixes,
      generatedAt: new Date(),
      pid: process.pid,
    });
    await writeFileAtomic(this.bird.path, content);
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
