import { ERR } from '@ahc/errors';
import { threadId as mainThreadId } from 'node:worker_threads';
import { CheckLoop } from '@ahc/checks';
import type { CheckLoopDeps } from '@ahc/checks';
import { parseFromWorker } from '@ahc/protocol';
import type { CheckCounters, FaultKind, FromWorker, LogLevel, ServiceCheckSpec } from '@ahc/protocol';
import type { CheckHost, CheckHostEvents, CheckSpawner, ThreadInfo } from './check-host';

export interface InProcessHostOptions {
  readonly logLevel: LogLevel;
  /** The interface check (default: the kernel's address list, as in the worker). */
  readonly isAssigned?: CheckLoopDeps['isAssigned'];
  /** Runs the loops' check commands (the ahc-spawn helper's client); default: each loop spawns itself. */
  readonly spawner?: CheckSpawner;
}

/**
 * `CheckHost` that runs the real check loops (`CheckLoop`, real check commands) in the main
 * thread: the supervisor's tests without threads or the app's bundle (docs/design.md). Messages
 * cross the same boundary as from a worker: cloned and validated. There is no thread to fail,
 * so `injectFault` refuses and no slot changes or thread events are told.
 */
export class InProcessCheckHost implements CheckHost {
  readonly #loops = new Map<string, CheckLoop>();
  #closed = false;

  constructor(
    private readonly options: InProcessHostOptions,
    private readonly events: CheckHostEvents,
  ) {}

  /** The main thread, while it runs any loop. */
  get threadCount(): number {
    return this.#loops.size > 0 ? 1 : 0;
  }

  /** The services whose loops run. */
  services(): string[] {
    return [...this.#loops.keys()];
  }

  threads(): ThreadInfo[] {
    if (this.#loops.size === 0) return [];
    return [
      {
        threadId: mainThreadId,
        state: 'running',
        services: this.services(),
        lastHeartbeatAgeMs: null,
        restarts: 0,
        lastExit: null,
        exits: {},
      },
    ];
  }

  start(spec: ServiceCheckSpec, counters: CheckCounters): void {
    if (this.#closed) return;
    this.#loops.get(spec.name)?.stop();
    const loop = new CheckLoop(structuredClone(spec), structuredClone(counters), this.options.logLevel, {
      post: (message) => this.#deliver(message),
      ...(this.options.isAssigned === undefined ? {} : { isAssigned: this.options.isAssigned }),
      ...(this.options.spawner === undefined ? {} : { runCommand: this.options.spawner.run.bind(this.options.spawner) }),
      ipAssigned: this.events.ipAssigned?.(spec.name) ?? null,
    });
    this.#loops.set(spec.name, loop);
    loop.start();
  }

  stop(service: string): void {
    this.#loops.get(service)?.stop();
    this.#loops.delete(service);
  }

  runNow(): void {
    for (const loop of this.#loops.values()) loop.runNow();
  }

  setIpAssigned(service: string, assigned: boolean | null): void {
    this.#loops.get(service)?.setIpAssigned(assigned);
  }

  injectFault(_service: string, _kind: FaultKind | 'terminate'): boolean {
    return false;
  }

  /** Stops every loop; a running check's process group is killed (the loop's abort). */
  close(): Promise<void> {
    this.#closed = true;
    for (const loop of this.#loops.values()) loop.stop();
    this.#loops.clear();
    return Promise.resolve();
  }

  #deliver(raw: FromWorker): void {
    let message: FromWorker;
    try {
      message = parseFromWorker(structuredClone(raw));
    } catch (error) {
      const e = error as Error & { code?: string };
      this.events.onProtocolError?.(mainThreadId, e.code ?? ERR.AHC_PROTOCOL, e.message, 1);
      return;
    }
    this.events.onMessage(message, mainThreadId);
  }
}
