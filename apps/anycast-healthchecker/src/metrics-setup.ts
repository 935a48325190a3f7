import type { CompiledConfig } from '@ahc/config';
import type { Logger } from '@ahc/logging';
import { HttpExporter, TextfileExporter, parseListenAddress } from '@ahc/metrics';
import type { MetricsSnapshot } from '@ahc/metrics';
import type { StatusReply } from '@ahc/status';

/** Turns status replies into metric snapshots; remembers each service's last state value so a
 * check that could not run (prefix not assigned) keeps showing the last exit code. */
export function metricsFromStatus(): (reply: StatusReply) => MetricsSnapshot {
  const lastState = new Map<string, number>();
  return (reply) => ({
    version: reply.daemon.version,
    uptimeSeconds: reply.daemon.uptimeSeconds,
    eventLoopLagMs: reply.daemon.eventLoop.lagMs,
    services: reply.services.map((s) => {
      const c = s.lastCheck;
      if (c !== null && c.ipAssigned) {
        // 0 healthy, else the exit code; a timed-out check was killed with SIGKILL (-9, as Python reports it).
        lastState.set(s.name, c.ok ? 0 : c.timedOut ? -9 : (c.exitCode ?? 1));
      }
      return {
        name: s.name, prefix: s.prefix, stateValue: lastState.get(s.name) ?? null, durationMs: c?.durationMs ?? null,
        ipAssigned: c === null ? null : c.ipAssigned, timeouts: s.timeouts, restarts: s.worker.restarts, decided: s.state,
        workerFailed: s.worker.state === 'failed',
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
    closers.push(() => textfile.stop());
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
