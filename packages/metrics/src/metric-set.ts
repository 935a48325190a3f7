import { Counter, Gauge, Registry } from 'prom-client';

/**
 * What the metrics are computed from: a plain snapshot (the status socket's reply has all of
 * it), so the exporter never reaches into live objects.
 */
export interface MetricsService {
  readonly name: string;
  readonly prefix: string;
  /** 0 healthy, else the last check's exit code (SPEC §8); null before the first check. */
  readonly stateValue: number | null;
  readonly durationMs: number | null;
  readonly ipAssigned: boolean | null;
  readonly timeouts: number;
  readonly restarts: number;
  readonly decided: 'up' | 'down' | 'unknown';
  readonly workerFailed: boolean;
}

export interface MetricsFamily {
  readonly family: 4 | 6;
  readonly desired: number;
  readonly applied: number | null;
  readonly pending: boolean;
  readonly reconfigureRuns: number;
  readonly reconfigureFailures: number;
  readonly lastReconfigureMs: number | null;
}

export interface MetricsSnapshot {
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly eventLoopLagMs: number;
  readonly services: readonly MetricsService[];
  readonly families: readonly MetricsFamily[];
}

const P = 'anycast_healthchecker';
const SVC = ['service_name', 'ip_prefix'] as const;

/**
 * The metrics of SPEC §8, names and labels as the Python daemon exports them (a compatibility
 * contract for existing dashboards), and with `extended` the additional ones of this daemon.
 */
export function buildRegistry(s: MetricsSnapshot, extended: boolean): Registry {
  const registry = new Registry();
  const r = [registry];
  const state = new Gauge({ name: `${P}_service_state`, help: 'The status of the service check: 0 healthy, any other value is the exit code of the failed check', labelNames: SVC, registers: r });
  const duration = new Gauge({ name: `${P}_service_check_duration_milliseconds`, help: 'Time the last check took, in milliseconds', labelNames: SVC, registers: r });
  const ipAssign = new Gauge({ name: `${P}_service_check_ip_assignment`, help: 'Whether ip_prefix is assigned to the interface: 1 yes, 0 no', labelNames: SVC, registers: r });
  const timeouts = new Counter({ name: `${P}_service_check_timeout_total`, help: 'Checks killed because they ran longer than check_timeout', labelNames: SVC, registers: r });
  new Gauge({ name: `${P}_uptime`, help: 'Seconds since the daemon started', registers: r }).set(s.uptimeSeconds);
  new Gauge({ name: `${P}_state`, help: 'The state of the daemon: 1 running', registers: r }).set(1);
  new Gauge({ name: `${P}_version_info`, help: 'The version of the daemon', labelNames: ['version'], registers: r }).labels(s.version).set(1);
  const service = new Gauge({ name: `${P}_service`, help: 'A configured service check', labelNames: SVC, registers: r });
  for (const svc of s.services) {
    const l = { service_name: svc.name, ip_prefix: svc.prefix };
    service.labels(l).set(1);
    if (svc.stateValue !== null) state.labels(l).set(svc.stateValue);
    if (svc.durationMs !== null) duration.labels(l).set(svc.durationMs);
    if (svc.ipAssigned !== null) ipAssign.labels(l).set(svc.ipAssigned ? 1 : 0);
    timeouts.labels(l).inc(svc.timeouts);
  }
  if (extended) addExtended(registry, s);
  return registry;
}

function addExtended(registry: Registry, s: MetricsSnapshot): void {
  const r = [registry];
  const up = new Gauge({ name: `${P}_service_up`, help: 'The decided state: 1 up (advertised), 0 down, -1 unknown', labelNames: SVC, registers: r });
  const restarts = new Counter({ name: `${P}_worker_restarts_total`, help: 'Restarts of the check worker thread of the service', labelNames: ['service_name'], registers: r });
  const failed = new Gauge({ name: `${P}_worker_failed`, help: '1 while the watchdog has given up on the service\'s worker', labelNames: ['service_name'], registers: r });
  for (const svc of s.services) {
    up.labels({ service_name: svc.name, ip_prefix: svc.prefix }).set(svc.decided === 'up' ? 1 : svc.decided === 'down' ? 0 : -1);
    restarts.labels(svc.name).inc(svc.restarts);
    failed.labels(svc.name).set(svc.workerFailed ? 1 : 0);
  }
  const runs = new Counter({ name: `${P}_reconfigure_runs_total`, help: 'BIRD reconfigure commands run', labelNames: ['family'], registers: r });
  const failures = new Counter({ name: `${P}_reconfigure_failures_total`, help: 'BIRD reconfigure commands that failed (retried)', labelNames: ['family'], registers: r });
  const last = new Gauge({ name: `${P}_reconfigure_duration_seconds`, help: 'Duration of the last BIRD reconfigure command', labelNames: ['family'], registers: r });
  const desired = new Gauge({ name: `${P}_prefixes_desired`, help: 'Prefixes that should be in the BIRD file (dummy included)', labelNames: ['family'], registers: r });
  const applied = new Gauge({ name: `${P}_prefixes_applied`, help: 'Prefixes BIRD applied at the last successful reconfigure (dummy included)', labelNames: ['family'], registers: r });
  const pending = new Gauge({ name: `${P}_reconfigure_pending`, help: '1 while BIRD has not applied the desired prefixes', labelNames: ['family'], registers: r });
  for (const f of s.families) {
    const family = `ipv${f.family}`;
    runs.labels(family).inc(f.reconfigureRuns);
    failures.labels(family).inc(f.reconfigureFailures);
    if (f.lastReconfigureMs !== null) last.labels(family).set(f.lastReconfigureMs / 1000);
    desired.labels(family).set(f.desired);
    if (f.applied !== null) applied.labels(family).set(f.applied);
    pending.labels(family).set(f.pending ? 1 : 0);
  }
  new Gauge({ name: `${P}_event_loop_lag_seconds`, help: 'Lag of the main thread\'s event loop at the last sample', registers: r }).set(s.eventLoopLagMs / 1000);
}
