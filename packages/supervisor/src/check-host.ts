import { ERR } from '@ahc/errors';
import { Worker } from 'node:worker_threads';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { monotonicMs, parseFromWorker } from '@ahc/protocol';
import type { CheckCounters, FaultKind, FromWorker, LogLevel, ServiceCheckSpec, ToWorker } from '@ahc/protocol';
import { FAILED_AFTER_CRASHES, STABLE_RUN_MS, judgeThread, restartDelayMs } from './watchdog';

/** Where check loops run. The daemon uses worker threads; the transport is behind this
 * interface so the same supervisor code serves both worker modes. */
export interface CheckHost {
  start(spec: ServiceCheckSpec, counters: CheckCounters): void;
  stop(service: string): void;
  runNow(): void;
  /** Test-only (AHC_FAULT_INJECTION=1): make the thread of `service` fail; 'terminate' kills it from outside. */
  injectFault(service: string, kind: FaultKind | 'terminate'): boolean;
  threads(): ThreadInfo[];
  readonly threadCount: number;
  close(): Promise<void>;
}

export type WorkerState = 'starting' | 'running' | 'restarting' | 'failed' | 'stopped';

export interface ThreadInfo {
  readonly threadId: number | null;
  readonly state: WorkerState;
  readonly services: readonly string[];
  readonly lastHeartbeatAgeMs: number | null;
  readonly restarts: number;
  readonly lastExit: string | null;
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
  counters(service: string): CheckCounters;
}

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
}

interface Slot {
  worker: Worker | null;
  threadId: number | null;
  state: WorkerState;
  readonly specs: Map<string, ServiceCheckSpec>;
  readonly progress: Map<string, number>;
  startedAt: number;
  lastHeartbeat: number | null;
  restarts: number;
  crashes: number;
  lastExit: string | null;
  /** Why the watchdog terminated it (reported instead of the exit code). */
  killReason: string | null;
  diedAt: number | null;
  restartTimer: NodeJS.Timeout | undefined;
  /** Waiting for a start slot (at most MAX_CONCURRENT_STARTS threads boot at once). */
  queued: boolean;
  /** Counted in #booting until its first heartbeat or exit. */
  booting: boolean;
  /** The thread's event-loop utilisation at its last heartbeat. */
  eluAtBeat: EventLoopUtilization | null;
  /** Malformed messages dropped since the last report, and when that report was. */
  malformed: number;
  malformedReportedAt: number | null;
}

/** At most one report of malformed messages per thread in this time. */
const MALFORMED_REPORT_MS = 60_000;

const STOP_GRACE_MS = 50;
/** Threads booting at once. Booting an isolate is CPU-heavy; starting 200 at once on 2 cores
 * made each take longer than the start timeout, and the watchdog's restarts fed the storm. */
const MAX_CONCURRENT_STARTS = 4;
/** A watchdog round later than this means the main thread itself stalled: deadlines shift. */
const MAIN_STALL_MS = 1000;

export class WorkerThreadHost implements CheckHost {
  readonly #slots: Slot[] = [];
  readonly #byService = new Map<string, Slot>();
  readonly #watchdog: NodeJS.Timeout;
  #seq = 0;
  #closed = false;
  #booting = 0;
  readonly #startQueue: Slot[] = [];
  #lastInspect = monotonicMs();

  constructor(private readonly options: WorkerHostOptions, private readonly events: CheckHostEvents) {
    this.#watchdog = setInterval(() => this.#inspect(), options.watchdogIntervalMs ?? 250);
    this.#watchdog.unref();
  }

  /** Slots kept (a thread, or a place for one): stopped services leave none behind. */
  get slotCount(): number {
    return this.#slots.length;
  }

  get threadCount(): number {
    return this.#slots.filter((s) => s.worker !== null).length;
  }

  threads(): ThreadInfo[] {
    const now = monotonicMs();
    return this.#slots.filter((s) => s.specs.size > 0).map((s) => ({
      threadId: s.threadId,
      state: s.state,
      services: [...s.specs.keys()],
      lastHeartbeatAgeMs: s.lastHeartbeat === null ? null : Math.round(now - s.lastHeartbeat),
      restarts: s.restarts,
      lastExit: s.lastExit,
    }));
  }

  start(spec: ServiceCheckSpec, counters: CheckCounters): void {
    if (this.#closed) return;
    const slot = this.#slotFor(spec.name);
    slot.specs.set(spec.name, spec);
    slot.progress.set(spec.name, monotonicMs());
    this.#byService.set(spec.name, slot);
    if (slot.worker !== null) {
      this.#post(slot, { type: 'start', seq: this.#nextSeq(), service: spec.name, spec, counters, logLevel: this.options.logLevel });
    } else if (slot.restartTimer === undefined && !slot.queued) {
      // The thread, once up, is sent a start for every service it hosts (with current counters).
      this.#requestSpawn(slot);
    }
  }

  stop(service: string): void {
    const slot = this.#byService.get(service);
    if (slot === undefined) return;
    this.#byService.delete(service);
    slot.specs.delete(service);
    slot.progress.delete(service);
    this.#post(slot, { type: 'stop', seq: this.#nextSeq(), service });
    if (slot.specs.size === 0 && this.options.mode === 'per-service') {
      // Its thread goes, and so does the slot: a reload that removes services leaves nothing behind.
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots.splice(i, 1);
      void this.#terminate(slot);
    }
  }

  runNow(): void {
    for (const slot of this.#slots) this.#post(slot, { type: 'run-now', seq: this.#nextSeq(), service: '*' });
  }

  injectFault(service: string, kind: FaultKind | 'terminate'): boolean {
    const slot = this.#byService.get(service);
    if (!this.options.faultInjection || slot?.worker == null) return false;
    if (kind === 'terminate') void slot.worker.terminate();
    else this.#post(slot, { type: 'fault', seq: this.#nextSeq(), service, kind });
    return true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watchdog);
    await Promise.all(this.#slots.map((s) => this.#terminate(s)));
  }

  #newSlot(): Slot {
    const slot: Slot = {
      worker: null, threadId: null, state: 'starting', specs: new Map(), progress: new Map(), startedAt: monotonicMs(),
      lastHeartbeat: null, restarts: 0, crashes: 0, lastExit: null, killReason: null, diedAt: null, restartTimer: undefined,
      queued: false, booting: false, eluAtBeat: null, malformed: 0, malformedReportedAt: null,
    };
    this.#slots.push(slot);
    return slot;
  }

  #slotFor(service: string): Slot {
    const existing = this.#byService.get(service);
    if (existing !== undefined) return existing;
    if (this.options.mode === 'per-service') {
      return this.#slots.find((s) => s.specs.size === 0 && s.state !== 'stopped' && s.worker === null) ?? this.#newSlot();
    }
    if (this.#slots.length < this.options.mode) return this.#newSlot();
    // Pooled: the thread with the fewest loops.
    return this.#slots.reduce((a, b) => (b.specs.size < a.specs.size ? b : a));
  }

  #requestSpawn(slot: Slot): void {
    if (this.#booting >= MAX_CONCURRENT_STARTS) {
      slot.queued = true;
      this.#startQueue.push(slot);
      return;
    }
    this.#spawn(slot);
  }

  /** A booting thread said hello or died: let the next queued one boot. */
  #bootDone(slot: Slot): void {
    if (!slot.booting) return;
    slot.booting = false;
    this.#booting -= 1;
    while (this.#booting < MAX_CONCURRENT_STARTS && this.#startQueue.length > 0) {
      const next = this.#startQueue.shift() as Slot;
      next.queued = false;
      if (this.#closed || next.state === 'stopped' || next.worker !== null || next.specs.size === 0) continue;
      this.#spawn(next);
    }
  }

  #spawn(slot: Slot): void {
    const perService = this.options.mode === 'per-service';
    const worker = new Worker(this.options.workerFile, {
      stdout: false,
      stderr: false,
      workerData: { faultInjection: this.options.faultInjection === true },
      resourceLimits: {
        maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb ?? (perService ? 8 : 64),
        maxYoungGenerationSizeMb: 1,
        stackSizeMb: 1,
      },
    });
    slot.worker = worker;
    slot.booting = true;
    this.#booting += 1;
    slot.threadId = worker.threadId;
    slot.startedAt = monotonicMs();
    slot.lastHeartbeat = null;
    slot.killReason = null;
    if (slot.state !== 'failed') slot.state = slot.restarts > 0 ? 'restarting' : 'starting';
    const threadId = worker.threadId;
    worker.on('message', (raw: unknown) => {
      let message: FromWorker;
      try {
        message = parseFromWorker(raw);
      } catch (error) {
        this.#malformed(slot, threadId, error as Error & { code?: string });
        return;
      }
      if (slot.worker !== worker) return;
      this.#observe(slot, message, threadId);
      if (message.type !== 'heartbeat') this.events.onMessage(message, threadId);
    });
    let thrown: string | null = null;
    worker.on('error', (error) => {
      thrown = `threw ${error.name}: ${error.message}`;
    });
    const now = monotonicMs();
    for (const spec of slot.specs.values()) {
      slot.progress.set(spec.name, now);
      this.#post(slot, { type: 'start', seq: this.#nextSeq(), service: spec.name, spec, counters: this.events.counters(spec.name), logLevel: this.options.logLevel });
    }
    worker.on('exit', (code) => {
      if (slot.worker !== worker) return;
      this.#bootDone(slot);
      slot.worker = null;
      if (slot.state === 'stopped' || this.#closed) return;
      const reason = slot.killReason ?? thrown ?? `exited with code ${code}`;
      slot.lastExit = reason;
      slot.diedAt = monotonicMs();
      this.events.onThreadExit([...slot.specs.keys()], reason, threadId);
      this.#scheduleRestart(slot, reason);
    });
  }

  #malformed(slot: Slot, threadId: number, error: Error & { code?: string }): void {
    slot.malformed += 1;
    const now = monotonicMs();
    if (slot.malformedReportedAt !== null && now - slot.malformedReportedAt < MALFORMED_REPORT_MS) return;
    this.events.onProtocolError?.(threadId, error.code ?? ERR.AHC_PROTOCOL, error.message, slot.malformed);
    slot.malformed = 0;
    slot.malformedReportedAt = now;
  }

  #observe(slot: Slot, message: FromWorker, threadId: number): void {
    const now = monotonicMs();
    if (message.type === 'heartbeat') {
      const first = slot.lastHeartbeat === null;
      slot.lastHeartbeat = now;
      slot.eluAtBeat = slot.worker?.performance.eventLoopUtilization() ?? null;
      if (first) {
        this.#bootDone(slot);
        if (slot.state === 'starting' || slot.state === 'restarting') slot.state = 'running';
        const latency = slot.diedAt === null ? null : Math.round(now - slot.diedAt);
        this.events.onThreadReady?.(threadId, [...slot.specs.keys()], latency);
      }
      return;
    }
    if (message.type === 'result') {
      slot.progress.set(message.service, now);
      if (slot.crashes > 0 && now - slot.startedAt >= STABLE_RUN_MS) {
        const wasFailed = slot.state === 'failed';
        slot.crashes = 0;
        slot.state = 'running';
        if (wasFailed) this.events.onThreadRecovered([...slot.specs.keys()]);
      }
    }
  }

  #scheduleRestart(slot: Slot, reason: string): void {
    const ranStable = (slot.diedAt ?? monotonicMs()) - slot.startedAt >= STABLE_RUN_MS;
    slot.crashes = ranStable ? 1 : slot.crashes + 1;
    slot.restarts += 1;
    if (slot.crashes === FAILED_AFTER_CRASHES) {
      slot.state = 'failed';
      this.events.onThreadFailed([...slot.specs.keys()], reason);
    } else if (slot.state !== 'failed') {
      slot.state = 'restarting';
    }
    const delay = restartDelayMs(slot.crashes);
    const restart = (): void => {
      slot.restartTimer = undefined;
      if (this.#closed || slot.worker !== null || slot.specs.size === 0 || slot.state === 'stopped' || slot.queued) return;
      this.#requestSpawn(slot);
    };
    if (delay === 0) restart();
    else slot.restartTimer = setTimeout(restart, delay);
  }

  /** The watchdog: terminate threads that stopped beating or whose loops stopped progressing. */
  #inspect(): void {
    const now = monotonicMs();
    const late = now - this.#lastInspect;
    this.#lastInspect = now;
    if (late > MAIN_STALL_MS) {
      // The main thread itself stalled: heartbeats may be waiting in its queue. Shift every
      // deadline by the stall instead of blaming the threads.
      for (const slot of this.#slots) {
        slot.startedAt += late;
        if (slot.lastHeartbeat !== null) slot.lastHeartbeat += late;
        for (const [name, t] of slot.progress) slot.progress.set(name, t + late);
      }
      return;
    }
    for (const slot of this.#slots) {
      const worker = slot.worker;
      if (worker === null || slot.killReason !== null) continue;
      const busyShare = slot.eluAtBeat === null ? null
        : worker.performance.eventLoopUtilization(worker.performance.eventLoopUtilization(), slot.eluAtBeat).utilization;
      const verdict = judgeThread({
        now, startedAt: slot.startedAt, lastHeartbeat: slot.lastHeartbeat, busyShare,
        loops: [...slot.specs.values()].map((spec) => ({ spec, lastProgress: slot.progress.get(spec.name) ?? now })),
      });
      if (!verdict.ok) {
        slot.killReason = `was terminated by the watchdog: it ${verdict.reason}`;
        void worker.terminate();
      }
    }
  }

  async #terminate(slot: Slot): Promise<void> {
    const worker = slot.worker;
    slot.state = 'stopped';
    this.#bootDone(slot);
    if (slot.restartTimer !== undefined) clearTimeout(slot.restartTimer);
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
