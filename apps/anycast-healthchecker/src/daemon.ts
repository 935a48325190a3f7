import { AhcError, ERR } from '@ahc/errors';
import { describeWorkerMode } from '@ahc/config';
import type { CompiledConfig, ConfigSources } from '@ahc/config';
import { stdioSink } from '@ahc/logging';
import { setupLogging } from './log-setup';
import { setupMetrics } from './metrics-setup';
import { renderStatusReply } from './status-reply';
import type { DaemonFacts } from './status-reply';
import type { MetricsSetup } from './metrics-setup';
import {
  DrainFileWatch,
  EventLoopMonitor,
  RESTART_BACKOFF,
  SpawnHelper,
  Supervisor,
  WorkerThreadHost,
  backoffDelay,
} from '@ahc/supervisor';
import type { AddressWatchOptions } from '@ahc/supervisor';
import type { ControlServer } from '@ahc/status';
import { controlHandler, startControlSocket } from './control';
import { reloadConfiguration } from './reload';
import { PageRelease } from './release-pages';
import type { ReloadOutcome } from './reload';
import type { Logger } from '@ahc/logging';
import { fileURLToPath } from 'node:url';
import { accessSync, constants as fsConstants } from 'node:fs';
import { StatusServer } from '@ahc/status';
import { constants as osConstants } from 'node:os';
import type { FaultKind } from '@ahc/protocol';
import { monotonicMs } from '@ahc/protocol';
import { acquireInstanceLock } from './instance-lock';
import { claimPidfile, releasePidfile } from './pidfile';
import { PROGRAM, VERSION } from './version';
import { commandDrainsToSave, logStopOutcome, restoreCommandDrains, restoreState } from './state-setup';
import type { StateSetup } from './state-setup';

const FAULT_KINDS: ReadonlySet<string> = new Set<FaultKind | 'terminate'>([
  'throw',
  'exit',
  'busy-loop',
  'stall-loop',
  'malformed',
  'terminate',
]);
function isFaultKind(kind: string): kind is FaultKind | 'terminate' {
  return FAULT_KINDS.has(kind);
}

export class StartupError extends AhcError {
  override name = 'StartupError';
  constructor(message: string) {
    super(ERR.AHC_STARTUP, message);
  }
}

/** The built ahc-spawn next to the bundle: the check spawner, and in its `--watch-addresses` mode the address watch's monitor. */
const BUNDLED_HELPER = fileURLToPath(new URL('./ahc-spawn', import.meta.url));

/** How check commands are started, and why (docs/design.md, "Spawning checks: the ahc-spawn helper"). */
export interface SpawnChoice {
  readonly via: 'host' | 'self';
  readonly helper: SpawnHelper | null;
  readonly binary: string | null;
  readonly reason: string;
}

/**
 * Start ahc-spawn (next to the bundle; AHC_SPAWN_HELPER names another binary, or `none` for
 * none). Checks go through it when it starts; otherwise each worker thread spawns its checks
 * itself, as before the helper existed. Told once, at start.
 */
export async function chooseSpawner(log: Logger): Promise<SpawnChoice> {
  const override = process.env.AHC_SPAWN_HELPER;
  if (override === 'none') {
    const reason = 'AHC_SPAWN_HELPER=none';
    log.info(`check commands are spawned by the check threads themselves (${reason})`);
    return { via: 'self', helper: null, binary: null, reason };
  }
  const binary = override !== undefined && override !== '' ? override : BUNDLED_HELPER;
  try {
    const helper = await SpawnHelper.start({ binary, log, restartDelayMs: (n) => backoffDelay(n, RESTART_BACKOFF) });
    log.info(
      `check commands are spawned by ${binary} (pid ${helper.pid ?? '-'}), a small process, so a check costs the same however big the daemon is`,
    );
    return { via: 'host', helper, binary, reason: 'the helper started' };
  } catch (error) {
    const reason = `${binary} could not be started: ${(error as Error).message}`;
    log.warning(`${reason}; check commands are spawned by the check threads themselves (each spawn forks the daemon)`);
    return { via: 'self', helper: null, binary, reason };
  }
}

/**
 * The address watch's monitor (docs/design.md, "Address checks: one kernel subscription"):
 * `ahc-spawn --watch-addresses` next to the bundle, a third of `ip -o monitor address`'s memory.
 * iproute2's own when AHC_ADDRESS_MONITOR=ip, or when the binary is not there (a source tree
 * that was not built).
 */
export function addressMonitor(): AddressWatchOptions['monitor'] {
  if (process.env.AHC_ADDRESS_MONITOR === 'ip') return undefined;
  try {
    accessSync(BUNDLED_HELPER, fsConstants.X_OK);
  } catch {
    return undefined;
  }
  return { argv: [BUNDLED_HELPER, '--watch-addresses', String(process.pid)], name: 'ahc-spawn --watch-addresses' };
}

/**
 * Run the daemon in the foreground until SIGTERM/SIGINT. Resolves with the exit code.
 * Signals and logging belong here, the composition root.
 */
export async function runDaemon(config: CompiledConfig, sources: ConfigSources): Promise<number> {
  // Taken first: from here on an error on stdout or stderr (EPIPE) is counted, never thrown.
  const stdout = stdioSink('stdout');
  stdioSink('stderr');
  const say = (line: string): void => stdout.write(`${line}\n`, 'info');
  const lock = await acquireInstanceLock(config.daemon.instanceLock).catch((error: Error) => {
    throw new StartupError(error.message);
  });
  say(`acquired the instance lock, abstract unix socket @${config.daemon.instanceLock}`);
  const pidfile = config.daemon.pidfile;
  // From the pidfile on (so from before it is written) a signal must not take Node's default action
  // (exit without removing the pidfile; for SIGHUP, exit at all): remembered until the real
  // handlers below are in place.
  let earlyStop: NodeJS.Signals | null = null;
  let earlyHup = false;
  const early = (signal: NodeJS.Signals): void => {
    if (signal === 'SIGHUP') earlyHup = true;
    else earlyStop ??= signal;
  };
  // One listener per signal for the daemon's whole life, switched from remembering to acting
  // below: removing a signal's last listener stops its watcher, and a signal caught but not yet
  // dispatched would be lost with it (a SIGTERM during start-up then did nothing).
  let onSignal = early;
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, (signal: NodeJS.Signals) => onSignal(signal));
  const pidOutcome = await claimPidfile(pidfile).catch((error: Error) => {
    lock.close();
    throw new StartupError(error.message);
  });
  say(`${pidOutcome === 'created' ? 'created' : 'replaced'} pidfile ${pidfile} with process id ${process.pid}`);
  const logging = setupLogging(config);
  const log = logging.log;
  say(`messages for unhandled exceptions go to ${config.daemon.logging.stderrFile ?? 'stderr'}`);
  if (pidOutcome !== 'created') log.warning(`replaced a ${pidOutcome === 'replaced-stale' ? 'stale' : 'garbage'} pidfile ${pidfile}`);
  for (const w of config.warnings) log.warning(w.message);

  const startedAt = new Date();
  const startedAtMonotonic = monotonicMs();
  let metrics: MetricsSetup | undefined;
  // One subscription to the kernel's address changes for every interface check (docs/design.md,
  // "Address checks: one kernel subscription").
  const addressEvents = addressMonitor();
  const supervisor = new Supervisor(config, log, { addressWatch: addressEvents === undefined ? {} : { monitor: addressEvents } });
  // Armed once the checks start and after a reload that starts checks (docs/design.md, "Memory: the node binary's start-up pages").
  const pages = config.daemon.releaseStartupPages
    ? new PageRelease({ log, settled: () => supervisor.registry.all().every((v) => v.config.disabled || v.checks > 0) })
    : null;
  // Test-only fault injection (docs/testing): never on unless the environment asks for it.
  const faultInjection = process.env.AHC_FAULT_INJECTION === '1';
  if (faultInjection) log.warning('fault injection is enabled (AHC_FAULT_INJECTION=1): for tests only');
  // Made once the BIRD files are repaired, right before the checks start (below): the helper is
  // started there, after the signal handlers are in place.
  let spawning: SpawnChoice | null = null;
  let host: WorkerThreadHost | null = null;
  let control: ControlServer | null = null;
  // Followed from before the BIRD repair, so the file's drains hold from the first write on.
  const drainFile =
    config.daemon.drainFile === null
      ? null
      : new DrainFileWatch({
          path: config.daemon.drainFile,
          log,
          onChange: (content, since) => supervisor.setDrainFile(content, `drain file ${config.daemon.drainFile ?? ''}`, since),
          unknown: (names) => supervisor.unknownServices(names),
        });
  const monitor = new EventLoopMonitor((lag) =>
    log.warning(
      `main thread event loop was blocked for ${lag} ms: BIRD updates and the watchdog were delayed (checks kept running in their threads)`,
    ),
  );
  monitor.start();
  // Read before the BIRD files (below); closed with a last write at the stop.
  let state: StateSetup | null = null;
  const facts: DaemonFacts = {
    config,
    program: PROGRAM,
    version: VERSION,
    startedAt,
    startedAtMonotonic,
    eventLoop: () => monitor.lag,
    spawnHelper: () =>
      spawning === null
        ? { via: 'self', reason: 'the checks have not started yet', binary: null }
        : { via: spawning.via, reason: spawning.reason, binary: spawning.binary, ...(spawning.helper?.state() ?? {}) },
    controlSocket: () => (control === null ? null : config.daemon.controlSocket),
    drainFile: () => drainFile?.state() ?? null,
    stateFile: () => state?.store.snapshot() ?? null,
  };
  const snapshot = () => renderStatusReply(supervisor.snapshot(), facts);
  // Test-only (AHC_FAULT_INJECTION=1): `main-throw` raises two uncaught exceptions in the main
  // thread, to prove the handler below runs once and the daemon exits 1; other kinds go to a worker.
  const injectFault = (service: string, kind: string): boolean => {
    if (kind === 'main-throw') {
      for (const n of [1, 2]) {
        setImmediate(() => {
          throw new Error(`injected fault ${n}: uncaught exception in the main thread`);
        });
      }
      return true;
    }
    return isFaultKind(kind) && host !== null && host.injectFault(service, kind);
  };
  const status = new StatusServer(config.daemon.statusSocket, {
    status: snapshot,
    ...(faultInjection ? { injectFault: (service: string, kind: string) => injectFault(service, kind) } : {}),
  });
  try {
    await status.listen();
    log.info(`status socket listening on ${config.daemon.statusSocket}`);
  } catch (error) {
    const e = error as { code?: string; message: string };
    if (e.code === ERR.AHC_STATUS_SOCKET_IN_USE) {
      releasePidfile(pidfile);
      lock.close();
      throw new StartupError(e.message);
    }
    // Not fatal: health checking matters more than the status socket.
    log.error(`${e.message}; running without a status socket`);
  }
  /** After a reload that started checks, their threads have read start-up pages again. */
  const reloaded = (outcome: ReloadOutcome): ReloadOutcome => {
    if (outcome.kind === 'reloaded' && outcome.summary.added.length + outcome.summary.changed.length > 0) pages?.arm();
    return outcome;
  };
  // The control socket (drain, undrain, reload): its own, so that its group decides who may change routes.
  let startedUp: () => void = () => undefined;
  const checksStarted = new Promise<void>((resolve) => {
    startedUp = resolve;
  });
  try {
    control = await startControlSocket(
      config,
      controlHandler({
        supervisor,
        log,
        stopping: () => stopping,
        // A reload asked for during start-up waits for it, then runs (SIGHUP's path).
        reload: async (): Promise<ReloadOutcome> => {
          await checksStarted;
          return reloaded(reloadConfiguration(sources, supervisor, log));
        },
      }),
      log,
    );
  } catch (error) {
    await status.close();
    releasePidfile(pidfile);
    lock.close();
    throw new StartupError((error as Error).message);
  }

  // The daemon lives until told to stop, even with no enabled checks (nothing else may hold the loop).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  let stopping = false;
  let withdrawing = false;
  const withdrawOnShutdown = config.daemon.withdrawOnShutdown;
  /** `received N at …`, `going to remove pidfile PATH`, `shutdown is complete`: the Python
   * daemon's records of a stop, which process supervisors' log checks may match. */
  const stop = (signal: NodeJS.Signals | null, code: number): void => {
    if (stopping) {
      // A second SIGTERM/SIGINT while withdrawing: stop waiting for BIRD, finish the stop now.
      if (signal !== null && withdrawing) {
        log.warning(`received ${osConstants.signals[signal]} again while withdrawing at shutdown: not waiting for BIRD any longer`);
        supervisor.cutShort();
      }
      return;
    }
    stopping = true;
    if (signal !== null) log.info(`received ${osConstants.signals[signal]} at ${new Date().toISOString()} (${signal})`);
    // withdraw_on_shutdown is for a stop by signal; an internal error exits as before.
    withdrawing = withdrawOnShutdown.enabled && signal !== null;
    log.info(
      withdrawing
        ? `stopping checks; withdraw_on_shutdown: withdrawing every advertised prefix and waiting at most ${withdrawOnShutdown.timeoutMs / 1000} s for BIRD`
        : 'stopping checks; the BIRD configuration is left as last decided',
    );
    void supervisor
      .stop(withdrawing ? { withdraw: { timeoutMs: withdrawOnShutdown.timeoutMs } } : {})
      .then((outcome) => {
        withdrawing = false;
        logStopOutcome(outcome, withdrawOnShutdown.timeoutMs, log);
        return state?.store.close({ withdrawnAtShutdown: outcome.withdraw !== 'not-asked' });
      })
      .then(() => Promise.all([status.close(), control?.close(), metrics?.close(), spawning?.helper?.close()]))
      .finally(() => {
        drainFile?.close();
        pages?.close();
        startedUp();
        monitor.stop();
        log.info(`going to remove pidfile ${pidfile}`);
        releasePidfile(pidfile);
        lock.close();
        clearInterval(keepAlive);
        log.info('shutdown is complete');
        logging.close();
        resolveExit(code);
      });
  };
  let reloadPending = false;
  const reload = (): void => {
    if (stopping) return;
    // Still starting: reloading now would race the start-up repair; done once the checks run.
    if (reloaded(reloadConfiguration(sources, supervisor, log)).kind === 'pending') reloadPending = true;
  };
  onSignal = (signal) => {
    if (signal !== 'SIGHUP') return stop(signal, 0);
    if (stopping) return;
    log.info('received SIGHUP, reloading the configuration');
    reload();
  };
  if (earlyStop !== null) stop(earlyStop, 0);
  else if (earlyHup) {
    log.info('received SIGHUP during start-up');
    reload();
  }
  process.on('SIGURG', () => {
    log.info('received SIGURG, running all checks now');
    supervisor.runAllNow();
  });
  // Logged once: a second exception while stopping (or one raised by logging itself) must not
  // loop through here. Log sinks never throw and handle their streams' errors, so a broken
  // stdout or stderr does not end up here at all.
  let crashed = false;
  process.on('uncaughtException', (error) => {
    if (crashed) return;
    crashed = true;
    try {
      log.critical(`internal error, exiting: ${error.stack ?? error.message}`);
    } catch {
      // the logger never throws; nothing to add if it did
    }
    // The stop may hang, or throw, on whatever broke: leave anyway.
    setTimeout(() => process.exit(1), 5000).unref();
    try {
      stop(null, 1);
    } catch {
      process.exit(1);
    }
  });

  try {
    // The last decided states and the command drains first (docs/operations.md, "State across
    // restarts"), then the drain file, so that the BIRD files' first write already has them; then
    // repair the BIRD files, then say "starting" (the Python daemon's order), then check.
    state = await restoreState(config, supervisor, log);
    {
      // Started at once (also when a stop came meanwhile), so that the stop's last write, which
      // notes a withdraw at shutdown, is never skipped.
      const store = state.store;
      restoreCommandDrains(state.plan.drains, supervisor, log);
      supervisor.registry.onDecided(() => store.changed());
      supervisor.drains.onCommandChange(() => store.changed());
      store.start(state.plan.entries, () => commandDrainsToSave(supervisor));
    }
    drainFile?.start();
    await supervisor.prepare();
    if (!stopping) {
      log.info(`starting ${PROGRAM} version ${VERSION}`);
      log.info(
        `pid ${process.pid}, ${config.services.length} services, ${describeWorkerMode(config.daemon.workerThreads)} (${config.daemon.workerThreadsReason})`,
      );
      spawning = await chooseSpawner(log);
      // A stop that came while the helper was starting found nothing to close.
      if (stopping) await spawning.helper?.close();
      // BIRD's commands too: a fork of this process costs more the bigger it is (docs/design.md,
      // "Spawning checks: the ahc-spawn helper"). While the helper is down they are run directly.
      const helper = spawning.helper;
      if (helper !== null && !stopping) supervisor.useCommandRunner((argv, options) => helper.run(argv, options));
      host = new WorkerThreadHost(
        {
          workerFile: new URL('./check-worker.mjs', import.meta.url),
          mode: config.daemon.workerThreads,
          logLevel: config.daemon.logging.level,
          faultInjection,
          ...(spawning.helper === null ? {} : { spawner: spawning.helper }),
        },
        supervisor,
      );
      supervisor.startChecks(host);
      pages?.arm();
      metrics = await setupMetrics(config, () => supervisor.snapshot(), facts, log);
      // A stop that came while the metrics were being set up found nothing to close.
      if (stopping) await metrics.close();
      if (reloadPending && !stopping) {
        reloadPending = false;
        reload();
      }
    }
    startedUp();
  } catch (error) {
    log.critical(`cannot start: ${(error as Error).message}`);
    stop(null, 1);
  }
  return exited;
}
