import { Worker } from 'node:worker_threads';
import { parseFromWorker } from '@ahc/protocol';
import type { CheckCounters, FromWorker, LogLevel, ServiceCheckSpec, ToWorker } from '@ahc/protocol';

/** Where check loops run. The daemon uses worker threads; the transport is behind this
 * interface so the same supervisor code serves both worker modes. */
export interface CheckHost {
  start(spec: ServiceCheckSpec, counters: CheckCounters): void;
  stop(service: string): void;
  runNow(): void;
  /** Threads currently running (for status and the benchmark). */
  readonly threadCount: number;
  close(): Promise<void>;
}

export interface CheckHostEvents {
  onMessage(message: FromWorker, threadId: number): void;
  /** A thread died unexpectedly; the host restarts it (with `counters()` of each service). */
  onThreadExit(services: readonly string[], reason: string, threadId: number): void;
  counters(service: string): CheckCounters;
}

export interface WorkerHostOptions {
  /** The bundled worker entry (dist/check-worker.mjs). */
  readonly workerFile: string | URL;
  /** 'per-service': one thread per service; N: N threads share all loops. */
  readonly mode: 'per-service' | number;
  readonly logLevel: LogLevel;
  /** Heap limits per thread (MiB). */
  readonly maxOldGenerationSizeMb?: number;
}

interface Slot {
  worker: Worker | null;
  readonly specs: Map<string, ServiceCheckSpec>;
  restarts: number;
  closing: boolean;
}

const RESTART_BASE_MS = 100;
const RESTART_CAP_MS = 10_000;
const STOP_GRACE_MS = 50;

export class WorkerThreadHost implements CheckHost {
  readonly #slots: Slot[] = [];
  readonly #byService = new Map<string, Slot>();
  #seq = 0;
  #closed = false;
  #next = 0;

  constructor(private readonly options: WorkerHostOptions, private readonly events: CheckHostEvents) {}

  get threadCount(): number {
    return this.#slots.filter((s) => s.worker !== null).length;
  }

  start(spec: ServiceCheckSpec, counters: CheckCounters): void {
    if (this.#closed) return;
    const slot = this.#slotFor(spec.name);
    slot.specs.set(spec.name, spec);
    this.#byService.set(spec.name, slot);
    if (slot.worker === null) this.#spawn(slot);
    this.#post(slot, { type: 'start', seq: this.#nextSeq(), service: spec.name, spec, counters, logLevel: this.options.logLevel });
  }

  stop(service: string): void {
    const slot = this.#byService.get(service);
    if (slot === undefined) return;
    this.#byService.delete(service);
    slot.specs.delete(service);
    this.#post(slot, { type: 'stop', seq: this.#nextSeq(), service });
    if (slot.specs.size === 0 && this.options.mode === 'per-service') void this.#terminate(slot);
  }

  runNow(): void {
    for (const slot of this.#slots) this.#post(slot, { type: 'run-now', seq: this.#nextSeq(), service: '*' });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => this.#terminate(s)));
  }

  #slotFor(service: string): Slot {
    const existing = this.#byService.get(service);
    if (existing !== undefined) return existing;
    if (this.options.mode === 'per-service') {
      const free = this.#slots.find((s) => s.specs.size === 0 && !s.closing);
      if (free !== undefined) return free;
      const slot: Slot = { worker: null, specs: new Map(), restarts: 0, closing: false };
      this.#slots.push(slot);
      return slot;
    }
    if (this.#slots.length < this.options.mode) {
      const slot: Slot = { worker: null, specs: new Map(), restarts: 0, closing: false };
      this.#slots.push(slot);
      return slot;
    }
    // Pooled: the thread with the fewest loops (round-robin on ties).
    const sorted = [...this.#slots].sort((a, b) => a.specs.size - b.specs.size);
    const min = sorted[0]?.specs.size ?? 0;
    const ties = this.#slots.filter((s) => s.specs.size === min);
    this.#next = (this.#next + 1) % ties.length;
    return ties[this.#next] ?? (sorted[0] as Slot);
  }

  #spawn(slot: Slot): void {
    const perService = this.options.mode === 'per-service';
    const worker = new Worker(this.options.workerFile, {
      stdout: false,
      stderr: false,
      resourceLimits: {
        maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb ?? (perService ? 8 : 64),
        maxYoungGenerationSizeMb: perService ? 1 : 2,
        stackSizeMb: 1,
      },
    });
    slot.worker = worker;
    slot.closing = false;
    const threadId = worker.threadId;
    worker.on('message', (raw: unknown) => {
      let message: FromWorker;
      try {
        message = parseFromWorker(raw);
      } catch {
        return;
      }
      if (message.type === 'result' || message.type === 'transition') slot.restarts = 0;
      this.events.onMessage(message, threadId);
    });
    let reason = 'exited';
    worker.on('error', (error) => {
      reason = `threw ${error.name}: ${error.message}`;
    });
    worker.on('exit', (code) => {
      if (slot.worker !== worker) return;
      slot.worker = null;
      if (slot.closing || this.#closed) return;
      const why = reason === 'exited' ? `exited with code ${code}` : reason;
      this.events.onThreadExit([...slot.specs.keys()], why, threadId);
      this.#restart(slot);
    });
  }

  #restart(slot: Slot): void {
    slot.restarts += 1;
    const delay = Math.min(RESTART_BASE_MS * 2 ** (slot.restarts - 1), RESTART_CAP_MS);
    setTimeout(() => {
      if (this.#closed || slot.worker !== null || slot.specs.size === 0) return;
      this.#spawn(slot);
      for (const spec of slot.specs.values()) {
        this.#post(slot, { type: 'start', seq: this.#nextSeq(), service: spec.name, spec, counters: this.events.counters(spec.name), logLevel: this.options.logLevel });
      }
    }, slot.restarts === 1 ? 0 : delay);
  }

  async #terminate(slot: Slot): Promise<void> {
    const worker = slot.worker;
    slot.closing = true;
    if (worker === null) return;
    for (const name of slot.specs.keys()) this.#post(slot, { type: 'stop', seq: this.#nextSeq(), service: name });
    slot.worker = null;
    // Let the thread handle the stops (they kill running checks' process groups) before it goes.
    await new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS));
    await worker.terminate();
  }

  #post(slot: Slot, message: ToWorker): void {
    slot.worker?.postMessage(message);
  }

  #nextSeq(): number {
    this.#seq += 1;
    return this.#seq;
  }
}
