import type { CommandResult, RunCommandOptions } from '@ahc/command';
import type { CheckCounters, FaultKind, FromWorker, LogLevel, ServiceCheckSpec } from '@ahc/protocol';
import type { SlotChange, WorkerState } from './worker-slot';

export type { WorkerState } from './worker-slot';

/** Where check loops run. The daemon uses worker threads (`WorkerThreadHost`, both worker modes);
 * tests of the supervisor may run the loops in the main thread (`InProcessCheckHost`). */
export interface CheckHost {
  start(spec: ServiceCheckSpec, counters: CheckCounters): void;
  stop(service: string): void;
  runNow(): void;
  /** The address watch's answer for `service` changed (docs/design.md, "Address checks: one kernel subscription"). */
  setIpAssigned(service: string, assigned: boolean | null): void;
  /** Test-only (AHC_FAULT_INJECTION=1): make the thread of `service` fail; 'terminate' kills it from outside. */
  injectFault(service: string, kind: FaultKind | 'terminate'): boolean;
  threads(): ThreadInfo[];
  readonly threadCount: number;
  close(): Promise<void>;
}

export interface ThreadInfo {
  readonly threadId: number | null;
  readonly state: WorkerState;
  readonly services: readonly string[];
  readonly lastHeartbeatAgeMs: number | null;
  readonly restarts: number;
  readonly lastExit: string | null;
  /** How its threads ended so far, by kind (`exit`, `throw`, `watchdog:spinning`, …). */
  readonly exits: Readonly<Record<string, number>>;
}

export interface CheckHostEvents {
  onMessage(message: FromWorker, threadId: number): void;
  /** A thread died or was killed by the watchdog; it is restarted with `counters()` of each service. */
  onThreadExit(services: readonly string[], reason: string, threadId: number): void;
  /** The thread keeps dying: its services are marked failed (restarts go on, backing off). */
  onThreadFailed(services: readonly string[], reason: string): void;
  /** A thread that had failed made progress again. */
  onThreadRecovered(services: readonly string[]): void;
  /** A (re)started thread sent its first heartbeat. */
  onThreadReady?(threadId: number, services: readonly string[], restartLatencyMs: number | null): void;
  /**
   * A thread sent a message that is not in the protocol (a bug). It is dropped; this is told at
   * the first one and then at most once a minute, with how many were dropped since.
   */
  onProtocolError?(threadId: number, code: string, message: string, dropped: number): void;
  /** A worker slot changed phase or `failed` marking (docs/design.md); `threadId` is its latest thread's. */
  onSlotChange?(change: SlotChange, threadId: number | null, services: readonly string[]): void;
  counters(service: string): CheckCounters;
  /** The address watch's current answer for `service`, sent in every `start` (a restarted thread too); null: none. */
  ipAssigned?(service: string): boolean | null;
}

/** Runs check commands for the loops (the ahc-spawn helper's client, `SpawnHelper`); without one
 * each loop spawns its command itself (docs/design.md, "Spawning checks: the ahc-spawn helper"). */
export interface CheckSpawner {
  run(argv: readonly string[], options: RunCommandOptions): Promise<CommandResult>;
}

/** `WorkerThreadHost`'s options. */
export interface WorkerHostOptions {
  /** The bundled worker entry (dist/check-worker.mjs). */
  readonly workerFile: string | URL;
  /** 'per-service': one thread per service; N: N threads share all loops. */
  readonly mode: 'per-service' | number;
  readonly logLevel: LogLevel;
  readonly maxOldGenerationSizeMb?: number;
  readonly faultInjection?: boolean;
  /** How often the watchdog looks (ms). */
  readonly watchdogIntervalMs?: number;
  /** Given: the threads post their check commands to the main thread, which runs them with it. */
  readonly spawner?: CheckSpawner;
}
