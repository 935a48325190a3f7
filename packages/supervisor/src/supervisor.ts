import type { CompiledConfig, ServiceConfig } from '@ahc/config';
import { runCommand } from '@ahc/command';
import type { CommandRunner } from '@ahc/command';
import type { Logger } from '@ahc/logging';
import { monotonicMs, prefixFamilies, prefixesText } from '@ahc/protocol';
import type { CheckCounters, Family, FromWorker, ServiceCheckSpec, ServiceState } from '@ahc/protocol';
import { AddressWatch } from './address-watch';
import type { AddressWatchOptions } from './address-watch';
import { FileBirdIo, customActionOf } from './bird-io';
import type { CheckHost, CheckHostEvents } from './check-host';
import { coreSnapshot } from './core-snapshot';
import type { CoreSnapshot } from './core-snapshot';
import { PrefixReconciler } from './prefix-reconciler';
import type { CustomAction } from './prefix-reconciler';
import { IpAssignments } from './ip-assignments';
import { ReconfigureQueue } from './reconfigure-queue';
import { ServiceRegistry } from './service-registry';
import { describeSlotChange } from './worker-slot';
import { ALL_SERVICES, Drains } from './drains';
import type { DrainFileContent, RestoreResult } from './drains';
import { DrainRoutes } from './drain-routes';
import type { SlotChange } from './worker-slot';

export type SupervisorState = 'starting' | 'running' | 'stopping' | 'stopped';

export interface ReloadSummary {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  unchanged: number;
  /** [daemon] options that differ; they take effect only after a restart. */
  readonly daemonChanges: string[];
}

function withoutFile(s: ServiceConfig): Omit<ServiceConfig, 'file'> {
  const { file: _file, ...rest } = s;
  return rest;
}

/** Derived words, not settings: `worker_threads = auto` explains itself with the number of checks, which a reload may change. */
const NOT_DAEMON_SETTINGS: ReadonlySet<string> = new Set(['workerThreadsReason']);

function daemonDifferences(a: CompiledConfig, b: CompiledConfig): string[] {
  const left = a.daemon as unknown as Record<string, unknown>;
  const right = b.daemon as unknown as Record<string, unknown>;
  return Object.keys(right).filter((k) => !NOT_DAEMON_SETTINGS.has(k) && JSON.stringify(left[k]) !== JSON.stringify(right[k]));
}

/** Bytes of a failed check's stdout/stderr kept for the log. */
const MAX_CHECK_OUTPUT = 4096;

/** The most two neighbouring services' checks are set apart on the shared grid (see checkPhases). */
export const PHASE_STEP_MS = 2;
/**
 * Services whose spread (i × PHASE_STEP_MS) falls in the same slot of this many ms share one
 * phase, so their checks start in one turn: one wake-up of their thread, of the main thread and
 * of the spawn helper serves all of them. Measured on 100 `/bin/true` services, pooled, 1 s
 * interval: the daemon's own CPU (threads and helper) drops from 3.6 to 2.0 CPU-s/min against every
 * check 2 ms apart
 * (docs/design.md, "Checks").
 */
export const PHASE_SLOT_MS = 32;

/**
 * Each enabled service's phase on the shared check grid: the i-th is spread i × PHASE_STEP_MS
 * (less when the services would not fit in one interval), rounded down to its PHASE_SLOT_MS
 * slot. So 1000 services at 5 s start in 63 groups over 2 s instead of all together, while
 * services that fail together are still decided within a few ms of each other and applied in
 * one BIRD update (the reconciler gathers transitions 40 ms apart). Pure.
 */
export function checkPhases(services: readonly ServiceConfig[]): Map<string, number> {
  const enabled = services.filter((s) => !s.disabled);
  return new Map(
    enabled.map((s, i) => {
      const step = Math.min(PHASE_STEP_MS, s.intervalMs / enabled.length);
      const slot = Math.floor((i * step) / PHASE_SLOT_MS) * PHASE_SLOT_MS;
      return [s.name, slot % s.intervalMs];
    }),
  );
}

export function toCheckSpec(s: ServiceConfig, splayMs: number, epochMs: number, phaseMs = 0): ServiceCheckSpec {
  return {
    epochMs,
    phaseMs,
    name: s.name,
    checkCmd: s.checkCmd.text,
    argv: s.checkCmd.argv,
    intervalMs: s.intervalMs,
    timeoutMs: s.timeoutMs,
    rise: s.rise,
    fail: s.fail,
    interface: s.interface,
    ipCheckDisabled: s.ipCheckDisabled,
    prefixes: s.prefixes,
    splayMs,
    maxOutputBytes: MAX_CHECK_OUTPUT,
  };
}

/** How stop() ends: with withdraw_on_shutdown, whether BIRD applied the withdraw within its bound. */
export type StopOutcome =
  | { readonly withdraw: 'not-asked' }
  | {
      readonly withdraw: 'applied' | 'timed-out' | 'cut-short' | 'failed';
      readonly prefixes: readonly string[];
      readonly ms: number;
      readonly lastError: string | null;
    };

export interface StopOptions {
  /** withdraw_on_shutdown: withdraw every advertised prefix, one write per family, and wait (at most timeoutMs) for BIRD. */
  readonly withdraw?: { readonly timeoutMs: number };
}

export interface SupervisorOptions {
  /**
   * Follow the kernel's addresses in the main thread and tell the workers (docs/design.md,
   * "Address checks: one kernel subscription"). Absent: every check reads getifaddrs itself.
   */
  readonly addressWatch?: Omit<AddressWatchOptions, 'log' | 'onKnown' | 'onChange'>;
}

/**
 * The main thread's core: keeps each service's decided state, turns worker messages into
 * desired prefix sets, and owns the reconcilers (the only writers of BIRD files).
 */
export class Supervisor implements CheckHostEvents {
  #state: SupervisorState = 'starting';
  readonly registry: ServiceRegistry;
  readonly reconcilers = new Map<Family, PrefixReconciler>();
  readonly #abort = new AbortController();
  /** What starts BIRD's commands (useCommandRunner); the queues and BIRD I/O ask at each run. */
  #runner: CommandRunner = runCommand;
  readonly #currentRunner = (): CommandRunner => this.#runner;
  readonly #serviceLogs = new Map<string, Logger>();
  host: CheckHost | null = null;
  /** The daemon's start on the monotonic clock: every check schedule is anchored here. */
  readonly epochMs = monotonicMs();

  readonly addressWatch: AddressWatch | null = null;
  readonly #ip: IpAssignments | null = null;
  /** The one owner of drains (drains.ts); the registry leaves drained services out of the desired set. */
  readonly drains = new Drains();
  readonly #drainRoutes: DrainRoutes;
  /** False until the start-up repair is done: a reconciler must not be asked to step during it. */
  #prepared = false;
  /** Ends a withdraw at shutdown before its bound (a second SIGTERM). */
  #cutShort: () => void = () => undefined;

  constructor(
    private config: CompiledConfig,
    private readonly log: Logger,
    options: SupervisorOptions = {},
  ) {
    this.registry = new ServiceRegistry(config.services, (name) => this.drains.isDrained(name));
    this.#drainRoutes = new DrainRoutes({
      drains: this.drains,
      registry: this.registry,
      queue: (c, action, custom) => this.#queue(c, action, custom),
      serviceLog: (name) => this.serviceLog(name),
    });
    if (options.addressWatch !== undefined) {
      const watch = new AddressWatch({
        ...options.addressWatch,
        log,
        onKnown: () => this.#pushIp(ip.markKnown()),
        onChange: (diff) => this.#pushIp(ip.apply(diff)),
      });
      const ip = new IpAssignments(watch.table);
      this.addressWatch = watch;
      this.#ip = ip;
    }
    const queues = new Map<string, ReconfigureQueue>();
    for (const bird of config.daemon.bird) {
      // BIRD 2/3 use one birdc for both families: one queue per distinct command, so it never runs twice at once.
      let queue = queues.get(bird.reconfigureCmd.text);
      if (queue === undefined) {
        queue = new ReconfigureQueue(bird.reconfigureCmd, config.daemon.reconfigureTimeoutMs, {
          signal: this.#abort.signal,
          log,
          runner: this.#currentRunner,
        });
        queues.set(bird.reconfigureCmd.text, queue);
      }
      const io = new FileBirdIo(bird, queue, this.#abort.signal, this.#currentRunner);
      this.reconcilers.set(bird.family, new PrefixReconciler(bird, this.registry, io, log, { purge: config.daemon.purgeIpPrefixes }));
    }
  }

  get state(): SupervisorState {
    return this.#state;
  }

  /**
   * Start BIRD's commands (reconfigure, `configure status`, custom and verify commands) with
   * `run` from now on, e.g. the spawn helper's, whose cost does not grow with the daemon as a
   * fork of it does (docs/design.md, "Spawning checks: the ahc-spawn helper"); null: runCommand again.
   */
  useCommandRunner(run: CommandRunner | null): void {
    this.#runner = run ?? runCommand;
  }

  /**
   * A logger for the service's column. With `status`, its records carry the service's fields
   * (address, prefix length, ip_check_disabled, status) in JSON logs; without, only the column.
   */
  serviceLog(name: string, status?: ServiceState): Logger {
    const key = `${status ?? '-'}\u0000${name}`;
    let l = this.#serviceLogs.get(key);
    if (l === undefined) {
      const r = this.registry.get(name);
      // Several prefixes: the fields name the first (docs/log-records.md, "Several prefixes per service (this daemon only)").
      const first = r?.config.prefixes[0];
      l = this.log.child(
        status === undefined || first === undefined
          ? { service_name: name }
          : {
              service_name: name,
              status,
              ip_address: first.address,
              prefix_length: first.prefixLength,
              ip_check_disabled: r?.config.ipCheckDisabled ?? false,
            },
      );
      this.#serviceLogs.set(key, l);
    }
    return l;
  }

  /** What the core knows right now, as plain data: the status reply and the metrics render it. */
  snapshot(): CoreSnapshot {
    return coreSnapshot(this.registry, this.reconcilers, this.host, this.addressWatch?.snapshot() ?? null, this.drains);
  }

  /** Repair the BIRD files (the first step of start-up; the daemon logs "starting" after it), and
   * take the first address dump, so that the checks start with it. */
  async prepare(): Promise<void> {
    // The start-up step already leaves drained services out; changes during the repair wait for its end.
    this.#drainRoutes.settle();
    await Promise.all([...[...this.reconcilers.values()].map((r) => r.start()), this.addressWatch?.start()]);
    this.#prepared = true;
    this.#drainRoutes.apply();
  }

  /** The address watch's answer for `service`, sent in its `start`. */
  ipAssigned(service: string): boolean | null {
    return this.#ip?.get(service) ?? null;
  }

  #trackIp(c: ServiceConfig): void {
    this.#ip?.untrack(c.name);
    if (!c.disabled && !c.ipCheckDisabled) this.#ip?.track(c.name, c.interface, c.prefixes);
  }

  #pushIp(changed: readonly string[]): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    for (const name of changed) this.host?.setIpAssigned(name, this.ipAssigned(name));
  }

  /** Apply the disabled checks' decisions, then start the check loops. */
  startChecks(host: CheckHost): void {
    this.host = host;
    if (this.#state !== 'starting') return; // stopped while repairing the BIRD files
    for (const { config: c } of this.registry.all()) {
      if (!c.disabled) continue;
      const log = this.serviceLog(c.name);
      const advertise = c.onDisabled === 'advertise';
      if (advertise) log.info('check is disabled, ip_prefix wont be withdrawn');
      else log.info('Check is disabled and ip_prefix will be withdrawn');
      for (const p of c.prefixes) log.info(`adding ${p.prefix} in the queue`);
      this.registry.applyDisabled(c.name);
      this.#queue(c, advertise ? 'add' : 'delete');
      log.info(advertise ? 'check is now permanently disabled' : 'Check is now permanently disabled');
    }
    const phases = checkPhases(this.registry.all().map((r) => r.config));
    for (const record of this.registry.all()) {
      const c = record.config;
      this.#trackIp(c);
      if (!c.disabled) host.start(toCheckSpec(c, this.config.daemon.splayStartupMs, this.epochMs, phases.get(c.name)), record.counters);
    }
    this.#state = 'running';
  }

  /** prepare() and startChecks() in one. */
  async start(host: CheckHost): Promise<void> {
    this.host = host;
    await this.prepare();
    this.startChecks(host);
  }

  /** SIGURG. */
  runAllNow(): void {
    this.host?.runNow();
  }

  counters(service: string): CheckCounters {
    return this.registry.counters(service);
  }

  onMessage(message: FromWorker, _threadId: number): void {
    switch (message.type) {
      case 'log':
        this.serviceLog(message.service, message.status).log(message.level, message.message);
        return;
      case 'heartbeat':
      case 'spawn':
      case 'spawn-cancel':
        return; // the host's: liveness, and check commands it runs for the thread
      case 'error':
        this.log.error(`check worker error (${message.service}): ${message.error.code}: ${message.error.message}`);
        return;
      case 'result':
        this.registry.recordResult(message.service, message, Date.now() / 1000);
        return;
      case 'transition':
        this.#transition(message.service, message.state, message.counters);
        return;
    }
  }

  onThreadExit(services: readonly string[], reason: string, threadId: number): void {
    this.log.error(
      `check thread ${threadId} (${services.join(', ')}) ${reason}; restarting it with the last decided state, routes unchanged`,
    );
  }

  onThreadReady(threadId: number, services: readonly string[], restartLatencyMs: number | null): void {
    if (restartLatencyMs === null) return;
    this.log.info(`check thread ${threadId} (${services.join(', ')}) is running, ${restartLatencyMs} ms after its predecessor died`);
  }

  onSlotChange(change: SlotChange, threadId: number | null, services: readonly string[]): void {
    this.log.debug(`worker slot of thread ${threadId ?? '-'} (${services.join(', ')}): ${describeSlotChange(change)}`);
  }

  onProtocolError(threadId: number, code: string, message: string, dropped: number): void {
    this.log.error(
      `${code}: check thread ${threadId} sent a message that is not in the protocol ` +
        `(a bug; ${dropped} dropped, reported at most once a minute): ${message.slice(0, 500)}`,
    );
  }

  /** The host marks the thread failed (its state is the one record of it); this applies the policy. */
  onThreadFailed(services: readonly string[], reason: string): void {
    const policy = this.config.daemon.onWorkerFailure;
    for (const name of services) {
      const r = this.registry.get(name);
      if (r === undefined) continue;
      const log = this.serviceLog(name);
      if (policy === 'withdraw') {
        log.error(
          `check worker keeps failing (${reason}); service marked failed and, as on_worker_failure = withdraw, its prefix is withdrawn`,
        );
        if (this.registry.withdrawForWorkerFailure(name))
          for (const f of prefixFamilies(r.config.prefixes)) this.reconcilers.get(f)?.request();
      } else {
        log.error(
          `check worker keeps failing (${reason}); service marked failed, its route stays as last decided (on_worker_failure = keep)`,
        );
      }
    }
  }

  onThreadRecovered(services: readonly string[]): void {
    for (const name of services) {
      if (this.registry.get(name) === undefined) continue;
      this.serviceLog(name).info('check worker recovered: checks are running again');
    }
  }

  /**
   * One decision of a service into the queues: one item per prefix, to its family's reconciler,
   * so each family's file is written once and reconfigured once for all of them.
   */
  #queue(c: ServiceConfig, action: 'add' | 'delete', custom?: CustomAction): void {
    for (const family of prefixFamilies(c.prefixes)) {
      const items = c.prefixes.filter((p) => p.family === family).map((p) => ({ service: c.name, prefix: p.prefix, action }));
      this.reconcilers.get(family)?.request(items, custom);
    }
  }

  #transition(service: string, state: 'up' | 'down', counters: CheckCounters): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    const config = this.registry.get(service)?.config;
    if (config === undefined) return;
    // A family without a BIRD file (disabled in [daemon]): only the counters change.
    if (!prefixFamilies(config.prefixes).some((f) => this.reconcilers.has(f))) {
      this.registry.updateCounters(service, counters);
      return;
    }
    const r = this.registry.decide(service, state, counters);
    if (r === undefined) return;
    const drained = this.drains.isDrained(service);
    if (drained)
      this.serviceLog(service).info(
        `is drained: ${prefixesText(r.config.prefixes)} stays withdrawn whatever the check says, until undrained`,
      );
    // The worker logged "adding PREFIX in the queue" for each prefix; this is the queue. A drained
    // service's own reconfigure command is not told: its prefixes do not move.
    this.#queue(r.config, state === 'up' ? 'add' : 'delete', drained ? undefined : customActionOf(r.config, state));
  }

  /**
   * SIGHUP: apply a new configuration. Services added are started, removed ones stopped (their
   * prefixes withdrawn), changed ones restarted keeping their decided state; unchanged services
   * are not touched. [daemon] changes need a restart and are reported, not applied. Returns null,
   * changing nothing, when the checks are not running (still starting, or stopping).
   */
  reload(next: CompiledConfig): ReloadSummary | null {
    const host = this.host;
    if (host === null || this.#state !== 'running') return null;
    const summary: ReloadSummary = {
      added: [],
      removed: [],
      changed: [],
      unchanged: 0,
      daemonChanges: daemonDifferences(this.config, next),
    };
    const before = new Map(this.registry.all().map((r) => [r.config.name, r]));
    const touched = new Set<Family>();
    const phases = checkPhases(next.services);
    for (const svc of next.services) {
      const old = before.get(svc.name);
      if (old !== undefined && JSON.stringify(withoutFile(old.config)) === JSON.stringify(withoutFile(svc))) {
        summary.unchanged += 1;
        continue;
      }
      // A family disabled in the running [daemon]:
      if (!prefixFamilies(svc.prefixes).every((f) => this.reconcilers.has(f))) continue;
      if (old !== undefined) {
        if (!old.config.disabled) host.stop(svc.name);
        for (const f of prefixFamilies(old.config.prefixes)) touched.add(f);
        summary.changed.push(svc.name);
      } else {
        summary.added.push(svc.name);
      }
      const record = old === undefined ? this.registry.add(svc) : this.registry.replaceConfig(svc);
      this.#serviceLogs.clear();
      for (const f of prefixFamilies(svc.prefixes)) touched.add(f);
      this.#trackIp(svc);
      if (!svc.disabled)
        host.start(toCheckSpec(svc, this.config.daemon.splayStartupMs, this.epochMs, phases.get(svc.name)), record.counters);
    }
    const names = new Set(next.services.map((s) => s.name));
    for (const [name, old] of before) {
      if (names.has(name)) continue;
      if (!old.config.disabled) host.stop(name);
      this.registry.remove(name);
      this.#ip?.untrack(name);
      if (this.drains.forget(name)) this.log.info(`the drain of ${name} ends: the service is no longer configured`);
      for (const f of prefixFamilies(old.config.prefixes)) touched.add(f);
      summary.removed.push(name);
    }
    this.config = { ...next, daemon: this.config.daemon };
    // The touched families' step applies the drains of added and changed services.
    this.#drainRoutes.settle();
    for (const family of touched) this.reconcilers.get(family)?.request();
    return summary;
  }

  /** The configured services drained now, in configuration order. */
  drainedServices(): string[] {
    return [...this.#drainRoutes.drainedNow()];
  }

  /** The configured services among `names` that are not configured (for a clear refusal). */
  unknownServices(names: readonly string[]): string[] {
    return names.filter((n) => this.registry.get(n) === undefined);
  }

  /**
   * Drain services (or all, `'*'`) by command: their prefixes are withdrawn through the same
   * reconciler path as a DOWN, and stay withdrawn until undrained. The caller refuses unknown
   * names first (unknownServices). Returns the services whose drain began now.
   */
  drain(targets: readonly string[] | typeof ALL_SERVICES, reason: string): string[] {
    return this.#changeDrains(() => this.drains.drain(targets, reason));
  }

  /** End command drains (`'*'`: all of them). Returns the services no longer drained at all. */
  undrain(targets: readonly string[] | typeof ALL_SERVICES): string[] {
    return this.#changeDrains(() => this.drains.undrain(targets));
  }

  /**
   * Put back command drains saved earlier (Drains.snapshot(), e.g. from the state directory):
   * called before prepare(), they hold from the first BIRD write on; later, they apply at once.
   * Entries that are malformed or name no configured service are left out and reported.
   */
  restoreDrains(snapshot: unknown): RestoreResult {
    let result: RestoreResult = { restored: [], ignored: [] };
    this.#changeDrains(() => {
      result = this.drains.restore(snapshot, (name) => this.registry.get(name) !== undefined);
    });
    return result;
  }

  /** The drain file changed (or was read at start). Returns the services whose drain state changed. */
  setDrainFile(content: DrainFileContent, reason: string, since?: Date): string[] {
    return this.#changeDrains(() => this.drains.setFile(content, reason, since));
  }

  /** Until the start-up repair is done the reconcilers are not asked: its own step applies the drains. */
  #changeDrains(change: () => void): string[] {
    return this.#drainRoutes.change(change, this.#prepared && this.#state !== 'stopping' && this.#state !== 'stopped');
  }

  /**
   * Stop checks and wait (bounded) for an in-flight BIRD update; the BIRD file stays as decided.
   * With `withdraw` (withdraw_on_shutdown), every advertised prefix is withdrawn first, in one
   * write and one reconfigure per family, and BIRD is waited for at most `timeoutMs`; whatever
   * is still running then (a reconfigure that hangs, a retry) is abandoned.
   */
  async stop(options: StopOptions = {}): Promise<StopOutcome> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return { withdraw: 'not-asked' };
    this.#state = 'stopping';
    this.addressWatch?.stop();
    const closing = this.host?.close();
    const outcome: StopOutcome =
      options.withdraw === undefined ? { withdraw: 'not-asked' } : await this.#withdrawAll(options.withdraw.timeoutMs);
    await closing;
    // A reconfigure still running after the bound is killed rather than waited for.
    if (outcome.withdraw !== 'not-asked' && outcome.withdraw !== 'applied') this.#abort.abort();
    await Promise.all([...this.reconcilers.values()].map((r) => r.close()));
    this.#abort.abort();
    this.#state = 'stopped';
    return outcome;
  }

  /** A second SIGTERM while withdrawing at shutdown: stop waiting for BIRD now. */
  cutShort(): void {
    this.#cutShort();
  }

  async #withdrawAll(timeoutMs: number): Promise<StopOutcome> {
    const started = monotonicMs();
    const withdrawn = this.registry.withdrawAllForShutdown();
    for (const r of withdrawn) {
      const c = r.config;
      // A drained service's own command was told `down` when it was drained.
      this.#queue(c, 'delete', c.disabled || this.drains.isDrained(c.name) ? undefined : customActionOf(c, 'down'));
    }
    const reconcilers = [...this.reconcilers.values()];
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      Promise.all(reconcilers.map((r) => r.whenIdle())).then((): 'applied' | 'failed' =>
        reconcilers.every((r) => r.lastError === null) ? 'applied' : 'failed',
      ),
      new Promise<'timed-out'>((resolve) => {
        timer = setTimeout(() => resolve('timed-out'), timeoutMs);
      }),
      new Promise<'cut-short'>((resolve) => {
        this.#cutShort = () => resolve('cut-short');
      }),
    ]);
    clearTimeout(timer);
    this.#cutShort = () => undefined;
    const lastError = reconcilers.map((r) => r.lastError).find((e) => e !== null) ?? null;
    return {
      withdraw: result,
      prefixes: withdrawn.flatMap((r) => r.config.prefixes.map((p) => p.prefix)),
      ms: Math.round(monotonicMs() - started),
      lastError,
    };
  }
}
