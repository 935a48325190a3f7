import type { CompiledConfig } from '@ahc/config';
import type { Logger } from '@ahc/logging';
import { HttpExporter, TextfileExporter, parseListenAddress } from '@ahc/metrics';
import type { MetricsSnapshot } from '@ahc/metrics';
import type { StatusReply } from '@ahc/status';

/** Turns a status reply into a metric snapshot. The per-service values are the ones the
 * supervisor keeps for export (they change at decisions, not at every check). */
export function metricsFromStatus(): (reply: StatusReply) => MetricsSnapshot {
  return (reply) => ({
    version: reply.daemon.version,
    uptimeSeconds: reply.daemon.uptimeSeconds,
    eventLoopLagMs: reply.daemon.eventLoop.lagMs,
    services: reply.services.map((s) => {
      const x = s.exported;
      return {
        name: s.name, prefix: s.prefix, stateValue: x?.stateValue ?? null, durationMs: x?.durationMs ?? null,
        ipAssigned: x?.ipAssigned ?? null, timeouts: x?.timeouts ?? s.timeouts, timeoutsCreatedAt: x?.timeoutsCreatedAt ?? null,
        restarts: s.worker.restarts, decided: s.state, advertised: s.advertise, workerFailed: s.worker.state === 'failed',
      };
    }),
    families: reply.daemon.bird.map((b) => ({
      family: b.family, desired: b.desired.length, applied: b.applied === null ? null : b.applied.length, pending: b.pending,
      reconfigureRuns: b.reconfigureRuns, reconfigureFailures: b.reconfigureFailures, lastReconfigureMs: b.lastReconfigureMs,
    })),
  });
}

export interface MetricsSetup {
  close(): Promise<void>;
}

export async function setupMetrics(config: CompiledConfig, status: () => Promise<StatusReply>, log: Logger): Promise<MetricsSetup> {
  const toMetrics = metricsFromStatus();
  const snapshot = async (): Promise<MetricsSnapshot> => toMetrics(await status());
  const closers: Array<() => Promise<void> | void> = [];
  const p = config.daemon.prometheus;
  if (p.enabled) {
    const textfile = new TextfileExporter(p.textfileDir, p.intervalMs, snapshot, (m) => log.error(m));
    textfile.start();
    // A stopped daemon shows in the textfile: written once more with anycast_healthchecker_state 0.
    closers.push(() => textfile.stop(), () => textfile.writeFinal());
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
  return { close: async () => { for (const c of closers) await c(); } };
}
