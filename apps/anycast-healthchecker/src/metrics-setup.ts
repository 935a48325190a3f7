import type { CompiledConfig } from '@ahc/config';
import type { Logger } from '@ahc/logging';
import { HttpExporter, TextfileExporter, parseListenAddress } from '@ahc/metrics';
import type { MetricsSnapshot } from '@ahc/metrics';
import type { CoreSnapshot } from '@ahc/supervisor';
import { uptimeSeconds } from './status-reply';
import type { DaemonFacts } from './status-reply';

/** Turns the core's snapshot into a metric snapshot, without reading the BIRD files. The
 * per-service values are the ones the registry keeps for export (they change at decisions, not
 * at every check). */
export function metricsFromSnapshot(snapshot: CoreSnapshot, facts: DaemonFacts): MetricsSnapshot {
  const helper = facts.spawnHelper?.();
  const stateFile = facts.stateFile?.() ?? null;
  return {
    version: facts.version,
    uptimeSeconds: uptimeSeconds(facts),
    eventLoopLagMs: facts.eventLoop().lagMs,
    ...(helper?.via === 'host'
      ? { spawnHelper: { up: helper.state === 'running', restarts: helper.restarts ?? 0, fallbackRuns: helper.fallbackRuns ?? 0 } }
      : {}),
    ...(stateFile === null ? {} : { stateFile: { ok: stateFile.state === 'ok', writes: stateFile.writes, failures: stateFile.failures } }),
    services: snapshot.services.map(({ view, worker, drains }) => {
      const x = view.exported;
      return {
        name: view.config.name,
        prefixes: view.config.prefixes.map((p) => p.prefix),
        stateValue: x.stateValue,
        durationMs: x.durationMs,
        ipAssigned: x.ipAssigned,
        timeouts: x.timeouts,
        timeoutsCreatedAt: x.timeoutsCreatedAt,
        restarts: worker.restarts,
        exits: worker.exits,
        decided: view.counters.state,
        advertised: view.advertise,
        workerFailed: worker.state === 'failed',
        drained: (drains ?? []).length > 0,
      };
    }),
    families: snapshot.families.map((f) => ({
      family: f.family,
      desired: f.desired.length,
      applied: f.applied === null ? null : f.applied.length,
      pending: f.pending,
      reconfigureRuns: f.reconfigureRuns,
      reconfigureFailures: f.reconfigureFailures,
      lastReconfigureMs: f.lastReconfigureMs,
      failures: f.failures,
    })),
    ...(snapshot.addresses === null ? {} : { addressWatch: { source: snapshot.addresses.source, restarts: snapshot.addresses.restarts } }),
  };
}

export interface MetricsSetup {
  close(): Promise<void>;
}

export async function setupMetrics(
  config: CompiledConfig,
  core: () => CoreSnapshot,
  facts: DaemonFacts,
  log: Logger,
): Promise<MetricsSetup> {
  const snapshot = (): Promise<MetricsSnapshot> => Promise.resolve(metricsFromSnapshot(core(), facts));
  const closers: Array<() => Promise<void> | void> = [];
  const p = config.daemon.prometheus;
  if (p.enabled) {
    const textfile = new TextfileExporter(p.textfileDir, p.intervalMs, snapshot, (m) => log.error(m));
    textfile.start();
    // A stopped daemon shows in the textfile: written once more with anycast_healthchecker_state 0.
    closers.push(
      () => textfile.stop(),
      () => textfile.writeFinal(),
    );
    log.info(`writing Prometheus metrics to ${textfile.path} every ${p.intervalMs / 1000}s`);
  }
  if (p.listen !== null) {
    const addr = parseListenAddress(p.listen);
    if (addr === null) {
      log.error(`prometheus_listen = ${p.listen} is not HOST:PORT; no /metrics listener`);
    } else {
      const http = new HttpExporter(addr.host, addr.port, snapshot);
      try {
        const bound = await http.listen();
        log.info(`serving Prometheus metrics on http://${bound.host}:${bound.port}/metrics`);
        closers.push(() => http.close());
      } catch (error) {
        log.error(`cannot listen on ${p.listen} for /metrics: ${(error as Error).message}`);
      }
    }
  }
  return {
    close: async () => {
      for (const c of closers) await c();
    },
  };
}
