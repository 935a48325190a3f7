import { ERR, describeError } from '@ahc/errors';
import { Worker } from 'node:worker_threads';
import { monotonicMs, parseFromWorker } from '@ahc/protocol';
import type { CheckCounters, FaultKind, FromWorker, ServiceCheckSpec, SpawnRequestMessage, ToWorker } from '@ahc/protocol';
import { RESTART_BACKOFF, backoffDelay } from './backoff';
import type { CheckHost, CheckHostEvents, ThreadInfo, WorkerHostOptions } from './check-host';
import { FAILED_AFTER_CRASHES, STABLE_RUN_MS, judgeThread } from './watchdog';
import { emptySlot, liveThread, transition, workerState } from './worker-slot';
import type { Slot, SlotPhase, WorkerExitKind } from './worker-slot';

/** At most one report of malformed messages per thread in this time. */
const MALFORMED_REPORT_MS = 60_000;

const STOP_GRACE_MS = 50;
/** Threads booting at once. Booting an isolate is CPU-heavy; starting 200 at once on 2 cores
 * made each take longer than the start timeout, and the watchdog's restarts fed the storm. */
const MAX_CONCURRENT_STARTS = 4;
/** A watchdog round later than this means the main thread itself stalled: deadlines shift. */
const MAIN_STALL_MS = 1000;

/** `CheckHost` on `node:worker_threads`, in both worker modes, with the watchdog (docs/design.md). */
export class WorkerThreadHost implements CheckHost {
  readonly #slots: Slot[] = [];
  readonly #byService = new Map<string, Slot>();
  readonly #watchdog: NodeJS.Timeout;
  #seq = 0;
  #closed = false;
  readonly #startQueue: Slot[] = [];
  /** Check commands each thread asked for and that still run (spawnVia 'host'), by the thread's id for them. */
  readonly #spawns = new Map<Worker, Map<number, AbortController>>();
  #lastInspect = monotonicMs();

  constructor(
    private readonly options: WorkerHostOptions,
    private readonly events: CheckHostEvents,
  ) {
    this.#watchdog = setInterval(() => this.#inspect(), options.watchdogIntervalMs ?? 250);
    this.#watchdog.unref();
  }

  /** Slots kept (a thread, or a place for one): stopped services leave none behind. */
  get slotCount(): number {
    return this.#slots.length;
  }

  get threadCount(): number {
    return this.#slots.filter((s) => liveThread(s.lifecycle.phase) !== null).length;
  }

  threads(): ThreadInfo[] {
    const now = monotonicMs();
    return this.#slots
      .filter((s) => s.specs.size > 0)
      .map((s) => ({
        threadId: s.threadId,
        state: workerState(s.lifecycle, s.restarts),
        services: [...s.specs.keys()],
        lastHeartbeatAgeMs: s.lastHeartbeat === null ? null : Math.round(now - s.lastHeartbeat),
        restarts: s.restarts,
        lastExit: s.lastExit,
        exits: Object.fromEntries(s.exits),
      }));
  }

  start(spec: ServiceCheckSpec, counters: CheckCounters): void {
    if (this.#closed) return;
    const slot = this.#slotFor(spec.name);
    slot.specs.set(spec.name, spec);
    slot.progress.set(spec.name, monotonicMs());
    this.#byService.set(spec.name, slot);
    const kind = slot.lifecycle.phase.kind;
    if (kind === 'booting' || kind === 'running') {
      this.#post(slot, this.#startMessage(spec, counters));
    } else if (kind === 'idle') {
      // The thread, once up, is sent a start for every service it hosts (with current counters);
      // a queued or backing-off slot gets one when its thread comes.
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
      void this.#terminate(slot, `its last service ${service} was stopped`);
    }
  }

  runNow(): void {
    for (const slot of this.#slots) this.#post(slot, { type: 'run-now', seq: this.#nextSeq(), service: '*' });
  }

  /** To the service's thread if it has one; a thread still to come gets the value in its `start`. */
  setIpAssigned(service: string, assigned: boolean | null): void {
    const slot = this.#byService.get(service);
    if (slot !== undefined) this.#post(slot, { type: 'ip-state', service, assigned });
  }

  injectFault(service: string, kind: FaultKind | 'terminate'): boolean {
    const slot = this.#byService.get(service);
    const live = slot === undefined ? null : liveThread(slot.lifecycle.phase);
    if (!this.options.faultInjection || slot === undefined || live === null) return false;
    if (kind === 'terminate') void live.worker.terminate();
    else this.#post(slot, { type: 'fault', seq: this.#nextSeq(), service, kind });
    return true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watchdog);
    // Stopped slots leave the host, here as in stop().
    const slots = this.#slots.splice(0);
    this.#byService.clear();
    this.#startQueue.length = 0;
    await Promise.all(slots.map((s) => this.#terminate(s, 'the host closed')));
  }

  /** The one place a slot's lifecycle changes (checked and told by `transition`). */
  #move(slot: Slot, phase: SlotPhase, why: string, failed = slot.lifecycle.failed): void {
    const before = slot.lifecycle.phase.kind;
    slot.lifecycle = transition(slot.lifecycle, { phase, failed }, why, (change) => {
      this.events.onSlotChange?.(change, slot.threadId, [...slot.specs.keys()]);
    });
    // A boot place came free: let the next queued slot boot.
    if (before === 'booting' && phase.kind !== 'booting') this.#drainStartQueue();
  }

  #newSlot(): Slot {
    const slot = emptySlot();
    this.#slots.push(slot);
    return slot;
  }

  #slotFor(service: string): Slot {
    const existing = this.#byService.get(service);
    if (existing !== undefined) return existing;
    if (this.options.mode === 'per-service') {
      return (
        this.#slots.find((s) => s.specs.size === 0 && s.lifecycle.phase.kind !== 'stopped' && liveThread(s.lifecycle.phase) === null) ??
        this.#newSlot()
      );
    }
    if (this.#slots.length < this.options.mode) return this.#newSlot();
    // Pooled: the thread with the fewest loops.
    return this.#slots.reduce((a, b) => (b.specs.size < a.specs.size ? b : a));
  }

  #bootingCount(): number {
    return this.#slots.filter((s) => s.lifecycle.phase.kind === 'booting').length;
  }

  /** From idle or backoff: boot now, or wait for a boot place. */
  #requestSpawn(slot: Slot): void {
    const booting = this.#bootingCount();
    if (booting >= MAX_CONCURRENT_STARTS) {
      this.#move(slot, { kind: 'queued' }, `waiting for a boot place (${booting} threads booting)`);
      this.#startQueue.push(slot);
      return;
    }
    this.#spawn(slot);
  }

  #drainStartQueue(): void {
    while (this.#bootingCount() < MAX_CONCURRENT_STARTS && this.#startQueue.length > 0) {
      const next = this.#startQueue.shift() as Slot;
      if (this.#closed || next.lifecycle.phase.kind !== 'queued') continue;
      if (next.specs.size === 0) this.#move(next, { kind: 'idle' }, 'no service left to host');
      else this.#spawn(next);
    }
  }

  #spawn(slot: Slot): void {
    const perService = this.options.mode === 'per-service';
    let worker: Worker;
    try {
      worker = new Worker(this.options.workerFile, {
        stdout: false,
        stderr: false,
        workerData: { faultInjection: this.options.faultInjection === true },
        resourceLimits: {
          maxOldGenerationSizeMb: this.options.maxOldGenerationSizeMb ?? (perService ? 8 : 64),
          maxYoungGenerationSizeMb: 1,
          stackSizeMb: 1,
        },
      });
    } catch (error) {
      // No thread could be made (threads or memory exhausted): a crash like any other, restarted
      // with backoff; an exception here would end the daemon.
      const reason = `could not be started: ${describeError(error)}`;
      if (slot.lifecycle.phase.kind !== 'idle') this.#move(slot, { kind: 'idle' }, reason);
      slot.lastExit = reason;
      slot.exits.set('spawn-failed', (slot.exits.get('spawn-failed') ?? 0) + 1);
      this.events.onThreadExit([...slot.specs.keys()], reason, slot.threadId ?? -1);
      this.#scheduleRestart(slot, reason, 0);
      return;
    }
    const threadId = worker.threadId;
    slot.threadId = threadId;
    slot.lastHeartbeat = null;
    this.#move(slot, { kind: 'booting', worker, startedAt: monotonicMs(), killReason: null }, 'spawned');
    const ours = (): boolean => liveThread(slot.lifecycle.phase)?.worker === worker;
    const onOne = (raw: unknown): void => {
      let message: FromWorker;
      try {
        message = parseFromWorker(raw);
      } catch (error) {
        this.#malformed(slot, threadId, error as Error & { code?: string });
        return;
      }
      if (!ours()) return;
      if (message.type === 'spawn') {
        this.#spawnFor(worker, message);
        return;
      }
      if (message.type === 'spawn-cancel') {
        this.#spawns.get(worker)?.get(message.id)?.abort();
        return;
      }
      this.#observe(slot, message, threadId);
      if (message.type !== 'heartbeat') this.events.onMessage(message, threadId);
    };
    // One turn's messages come as one array (worker-entry.ts): handled one by one, in order.
    worker.on('message', (raw: unknown) => {
      if (!Array.isArray(raw)) onOne(raw);
      else for (const one of raw as unknown[]) onOne(one);
    });
    let thrown: string | null = null;
    worker.on('error', (error) => {
      thrown = `threw ${error.name}: ${error.message}`;
    });
    const now = monotonicMs();
    for (const spec of slot.specs.values()) {
      slot.progress.set(spec.name, now);
      this.#post(slot, this.#startMessage(spec, this.events.counters(spec.name)));
    }
    // However it ended (crash, watchdog, stop): its running commands are cancelled, their results dropped.
    worker.once('exit', () => this.#dropSpawns(worker));
    worker.on('exit', (code) => {
      const live = liveThread(slot.lifecycle.phase);
      if (live?.worker !== worker) return;
      const reason = live.killReason ?? thrown ?? `exited with code ${code}`;
      const kind: WorkerExitKind = live.killKind !== undefined ? `watchdog:${live.killKind}` : thrown !== null ? 'throw' : 'exit';
      slot.exits.set(kind, (slot.exits.get(kind) ?? 0) + 1);
      const diedAt = monotonicMs();
      this.#move(slot, { kind: 'idle' }, reason);
      if (this.#closed) return;
      slot.lastExit = reason;
      slot.diedAt = diedAt;
      this.events.onThreadExit([...slot.specs.keys()], reason, threadId);
      this.#scheduleRestart(slot, reason, diedAt - live.startedAt);
    });
  }

  /** A loop's `start`: both ways a thread is told to run a service (now, or once it is up) send this. */
  #startMessage(spec: ServiceCheckSpec, counters: CheckCounters): ToWorker {
    return {
      type: 'start',
      seq: this.#nextSeq(),
      service: spec.name,
      spec,
      counters,
      logLevel: this.options.logLevel,
      spawnVia: this.#spawnVia,
      ipAssigned: this.events.ipAssigned?.(spec.name) ?? null,
    };
  }

  get #spawnVia(): 'host' | 'self' {
    return this.options.spawner === undefined ? 'self' : 'host';
  }

  /** Runs a thread's check command with the spawner; the result goes back to that thread only if it still runs. */
  #spawnFor(worker: Worker, message: SpawnRequestMessage): void {
    const spawner = this.options.spawner;
    if (spawner === undefined) return; // not asked for: the thread was started with spawnVia 'self'
    let running = this.#spawns.get(worker);
    if (running === undefined) {
      running = new Map();
      this.#spawns.set(worker, running);
    }
    const abort = new AbortController();
    running.set(message.id, abort);
    const { service, id } = message;
    void spawner
      .run(message.argv, { timeoutMs: message.timeoutMs, maxOutputBytes: message.maxOutputBytes, signal: abort.signal })
      .then((result) => {
        const mine = this.#spawns.get(worker);
        if (mine?.get(id) !== abort) return; // the thread is gone, or was restarted meanwhile
        mine.delete(id);
        worker.postMessage({ type: 'spawn-result', service, id, result } satisfies ToWorker);
      });
  }

  #dropSpawns(worker: Worker): void {
    const running = this.#spawns.get(worker);
    this.#spawns.delete(worker);
    for (const abort of running?.values() ?? []) abort.abort();
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
    const phase = slot.lifecycle.phase;
    if (message.type === 'heartbeat') {
      slot.lastHeartbeat = now;
      if (phase.kind === 'running') {
        phase.eluAtBeat = phase.worker.performance.eventLoopUtilization();
      } else if (phase.kind === 'booting') {
        const { worker, startedAt, killReason } = phase;
        this.#move(
          slot,
          { kind: 'running', worker, startedAt, killReason, eluAtBeat: worker.performance.eventLoopUtilization() },
          'first heartbeat',
        );
        const latency = slot.diedAt === null ? null : Math.round(now - slot.diedAt);
        this.events.onThreadReady?.(threadId, [...slot.specs.keys()], latency);
      }
      return;
    }
    if (message.type === 'result') {
      slot.progress.set(message.service, now);
      // A busy thread that completes checks is not spinning, even when its heartbeats come late
      // (hundreds of checks in one turn): a result counts as a heartbeat. A spinning thread posts
      // nothing at all (docs/status-and-watchdog.md).
      if (phase.kind === 'running') {
        slot.lastHeartbeat = now;
        phase.eluAtBeat = phase.worker.performance.eventLoopUtilization();
      }
      if (slot.crashes > 0 && phase.kind === 'running' && now - phase.startedAt >= STABLE_RUN_MS) {
        slot.crashes = 0;
        if (slot.lifecycle.failed) {
          this.#move(slot, phase, `a result after ${STABLE_RUN_MS} ms of stable run`, false);
          this.events.onThreadRecovered([...slot.specs.keys()]);
        }
      }
    }
  }

  /** Just died (idle): count the crash, mark the services failed after too many, restart (backing off). */
  #scheduleRestart(slot: Slot, reason: string, ranMs: number): void {
    slot.crashes = ranMs >= STABLE_RUN_MS ? 1 : slot.crashes + 1;
    slot.restarts += 1;
    if (slot.crashes === FAILED_AFTER_CRASHES) {
      if (!slot.lifecycle.failed)
        this.#move(
          slot,
          slot.lifecycle.phase,
          `${FAILED_AFTER_CRASHES} crashes in a row, each within ${STABLE_RUN_MS} ms of its start`,
          true,
        );
      this.events.onThreadFailed([...slot.specs.keys()], reason);
    }
    const delay = backoffDelay(slot.crashes - 1, RESTART_BACKOFF);
    if (delay === 0) {
      this.#restart(slot);
      return;
    }
    const timer = setTimeout(() => this.#restart(slot), delay);
    this.#move(slot, { kind: 'backoff', timer, delayMs: delay }, `restart in ${delay} ms`);
  }

  /** From idle (at once) or backoff (its timer fired). */
  #restart(slot: Slot): void {
    const kind = slot.lifecycle.phase.kind;
    if (kind !== 'idle' && kind !== 'backoff') return;
    if (this.#closed || slot.specs.size === 0) {
      if (kind === 'backoff') this.#move(slot, { kind: 'idle' }, 'no service left to host');
      return;
    }
    this.#requestSpawn(slot);
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
        const live = liveThread(slot.lifecycle.phase);
        if (live !== null) live.startedAt += late;
        if (slot.lastHeartbeat !== null) slot.lastHeartbeat += late;
        for (const [name, t] of slot.progress) slot.progress.set(name, t + late);
      }
      return;
    }
    for (const slot of this.#slots) {
      const phase = slot.lifecycle.phase;
      const live = liveThread(phase);
      if (live === null || live.killReason !== null) continue;
      const { worker } = live;
      const busyShare =
        phase.kind !== 'running'
          ? null
          : worker.performance.eventLoopUtilization(worker.performance.eventLoopUtilization(), phase.eluAtBeat).utilization;
      const verdict = judgeThread({
        now,
        startedAt: live.startedAt,
        lastHeartbeat: slot.lastHeartbeat,
        busyShare,
        loops: [...slot.specs.values()].map((spec) => ({ spec, lastProgress: slot.progress.get(spec.name) ?? now })),
      });
      if (!verdict.ok) {
        live.killReason = `was terminated by the watchdog: it ${verdict.reason}`;
        live.killKind = verdict.kind;
        void worker.terminate();
      }
    }
  }

  async #terminate(slot: Slot, why: string): Promise<void> {
    const phase = slot.lifecycle.phase;
    if (phase.kind === 'stopped') return;
    this.#move(slot, { kind: 'stopped' }, why);
    if (phase.kind === 'backoff') clearTimeout(phase.timer);
    const live = liveThread(phase);
    if (live === null) return;
    for (const name of slot.specs.keys()) live.worker.postMessage({ type: 'stop', seq: this.#nextSeq(), service: name } satisfies ToWorker);
    // Let the thread handle the stops (they kill running checks' process groups) before it goes.
    await new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS));
    await live.worker.terminate();
  }

  #post(slot: Slot, message: ToWorker): void {
    liveThread(slot.lifecycle.phase)?.worker.postMessage(message);
  }

  #nextSeq(): number {
    this.#seq += 1;
    return this.#seq;
  }
}
