import { compileConfig, loadConfigDocument } from '@ahc/config';
import type { CompiledConfig, ConfigSources } from '@ahc/config';
import { stdioSink } from '@ahc/logging';
import { setupLogging } from './log-setup';
import { setupMetrics } from './metrics-setup';
import type { MetricsSetup } from './metrics-setup';
import { EventLoopMonitor, Supervisor, WorkerThreadHost, statusSnapshot } from '@ahc/supervisor';
import { StatusServer } from '@ahc/status';
import type { FaultKind } from '@ahc/protocol';
import { acquireInstanceLock } from './instance-lock';
import { claimPidfile, releasePidfile } from './pidfile';
import { PROGRAM, VERSION } from './version';

const FAULT_KINDS: ReadonlySet<string> = new Set<FaultKind | 'terminate'>(['throw', 'exit', 'busy-loop', 'stall-loop', 'terminate']);
function isFaultKind(kind: string): kind is FaultKind | 'terminate' {
  return FAULT_KINDS.has(kind);
}

export class StartupError extends Error {
  readonly code = 'AHC_STARTUP';
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
  log.info(`starting ${PROGRAM} version ${VERSION} (pid ${process.pid}, ${config.services.length} services, worker_threads = ${config.daemon.workerThreads})`);

  const startedAt = new Date();
  let metrics: MetricsSetup | undefined;
  const supervisor = new Supervisor(config, log);
  // Test-only fault injection (docs/testing): never on unless the environment asks for it.
  const faultInjection = process.env.AHC_FAULT_INJECTION === '1';
  if (faultInjection) log.warning('fault injection is enabled (AHC_FAULT_INJECTION=1): for tests only');
  const host = new WorkerThreadHost({
    workerFile: new URL('./check-worker.mjs', import.meta.url),
    mode: config.daemon.workerThreads,
    logLevel: config.daemon.logging.level,
    faultInjection,
  }, supervisor);
  const monitor = new EventLoopMonitor((lag) => log.warning(`main thread event loop was blocked for ${lag} ms: BIRD updates and the watchdog were delayed (checks kept running in their threads)`));
  monitor.start();
  const snapshot = () => statusSnapshot({ config, supervisor, monitor, program: PROGRAM, version: VERSION, startedAt });
  const status = new StatusServer(config.daemon.statusSocket, {
    status: snapshot,
    ...(faultInjection ? { injectFault: (service: string, kind: string) => isFaultKind(kind) && host.injectFault(service, kind) } : {}),
  });
  try {
    await status.listen();
    log.info(`status socket listening on ${config.daemon.statusSocket}`);
  } catch (error) {
    const e = error as { code?: string; message: string };
    if (e.code === 'AHC_STATUS_SOCKET_IN_USE') {
      releasePidfile(pidfile);
      lock.close();
      throw new StartupError(e.message);
    }
    // Not fatal: health checking matters more than the status socket.
    log.error(`${e.message}; running without a status socket`);
  }

  // The daemon lives until told to stop, even with no enabled checks (nothing else may hold the loop).
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => { resolveExit = resolve; });
  let stopping = false;
  const stop = (why: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    log.info(`received ${why}, stopping: BIRD configuration is left as last decided`);
    void supervisor.stop().then(() => Promise.all([status.close(), metrics?.close()])).finally(() => {
      monitor.stop();
      releasePidfile(pidfile);
      lock.close();
      clearInterval(keepAlive);
      log.info(`${PROGRAM} stopped`);
      logging.close();
      resolveExit(code);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => stop('SIGINT', 0));
  process.on('SIGHUP', () => {
    if (stopping) return;
    log.info('received SIGHUP, reloading the configuration');
    let next: CompiledConfig;
    try {
      const { document, files } = loadConfigDocument(sources);
      next = compileConfig(document, files);
    } catch (error) {
      log.error(`configuration reload failed, keeping the running configuration: ${(error as Error).message}`);
      return;
    }
    const r = supervisor.reload(next);
    log.info(`configuration reloaded: ${r.added.length} added${r.added.length > 0 ? ` (${r.added.join(', ')})` : ''}, ${r.removed.length} removed${r.removed.length > 0 ? ` (${r.removed.join(', ')})` : ''}, ${r.changed.length} changed${r.changed.length > 0 ? ` (${r.changed.join(', ')})` : ''}, ${r.unchanged} unchanged`);
    if (r.daemonChanges.length > 0) log.warning(`[daemon] changes need a restart to take effect: ${r.daemonChanges.join(', ')}`);
  });
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
      stop('an internal error', 1);
    } catch {
      process.exit(1);
    }
  });

  try {
    await supervisor.start(host);
    metrics = await setupMetrics(config, snapshot, log);
  } catch (error) {
    log.critical(`cannot start: ${(error as Error).message}`);
    stop('a startup failure', 1);
  }
  return exited;
}
