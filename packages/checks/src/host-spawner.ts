import type { CommandResult, RunCommandOptions } from '@ahc/command';
import type { FromWorker, SpawnResultMessage } from '@ahc/protocol';

/**
 * The worker's side of `spawnVia: 'host'` (docs/design.md, "Spawning checks: the ahc-spawn
 * helper"): a check loop's runCommand that posts a `spawn` to the main thread, which runs the
 * command through ahc-spawn, and resolves on the `spawn-result` with the same id. The loop's
 * AbortSignal (stop, shutdown) posts a `spawn-cancel`. The schedule, timeout accounting and
 * rise/fall stay in the loop; only the fork moves out of this (big) process.
 */
export class HostSpawner {
  #nextId = 1;
  readonly #pending = new Map<number, (result: CommandResult) => void>();

  constructor(private readonly post: (message: FromWorker) => void) {}

  /** Commands posted and not answered yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** A runCommand for the loop of `service`. */
  runnerFor(service: string): (argv: readonly string[], options: RunCommandOptions) => Promise<CommandResult> {
    return (argv, options) => this.run(service, argv, options);
  }

  run(service: string, argv: readonly string[], options: RunCommandOptions): Promise<CommandResult> {
    const id = this.#nextId;
    this.#nextId += 1;
    return new Promise((resolve) => {
      const onAbort = (): void => {
        if (this.#pending.has(id)) this.post({ type: 'spawn-cancel', service, id });
      };
      this.#pending.set(id, (result) => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve(result);
      });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.post({ type: 'spawn', service, id, argv, timeoutMs: options.timeoutMs, maxOutputBytes: options.maxOutputBytes ?? 4096 });
      if (options.signal?.aborted === true) onAbort();
    });
  }

  /** A `spawn-result`: the answer to one of ours (unknown ids are ignored). */
  settle(message: SpawnResultMessage): void {
    const resolve = this.#pending.get(message.id);
    if (resolve === undefined) return;
    this.#pending.delete(message.id);
    resolve(message.result);
  }
}
