import type { Family } from '@ahc/protocol';
import { Exposition } from './exposition';

/**
 * What the metrics are computed from: a plain snapshot (rendered from the supervisor's core
 * snapshot, docs/design.md "The data path, from config to BIRD"), so the exporter never reaches
 * into live objects.
 */
export interface MetricsService {
  readonly name: string;
  /** Its prefixes (`ip_prefix`): every per-service series has one sample per prefix, the same value each. */
  readonly prefixes: readonly string[];
  /** 0 healthy, else the last check's exit code (docs/metrics.md); null before the first check. */
  readonly stateValue: number | null;
  readonly durationMs: number | null;
  readonly ipAssigned: boolean | null;
  readonly timeouts: number;
  /** Unix time (s) of the first timeout; null: no timeout yet, so no timeout samples. */
  readonly timeoutsCreatedAt: number | null;
  readonly restarts: number;
  /** How the service's worker threads ended, by kind. */
  readonly exits?: Readonly<Record<string, number>>;
  readonly decided: 'up' | 'down' | 'unknown';
  /** Whether its prefix belongs in the BIRD file now (decided UP, on_disabled = advertise, or kept at start-up). */
  readonly advertised?: boolean;
  readonly workerFailed: boolean;
  /** Drained by an operator (drain command or drain file): withdrawn whatever the check says. */
  readonly drained?: boolean;
}

export interface MetricsFamily {
  readonly family: Family;
  readonly desired: number;
  readonly applied: number | null;
  readonly pending: boolean;
  readonly reconfigureRuns: number;
  readonly reconfigureFailures: number;
  readonly lastReconfigureMs: number | null;
  /** Failed convergence steps by kind (read, write, reconfigure:…, verify:…, custom:…). */
  readonly failures?: Readonly<Record<string, number>>;
}

export interface MetricsSnapshot {
  readonly version: string;
  /** `anycast_healthchecker_state`: 1 running; 0 in the last write of a daemon that stopped. */
  readonly running?: boolean;
  readonly uptimeSeconds: number;
  readonly eventLoopLagMs: number;
  /** The ahc-spawn helper (absent when checks are spawned by the threads themselves). */
  readonly spawnHelper?: { readonly up: boolean; readonly restarts: number; readonly fallbackRuns: number };
  readonly services: readonly MetricsService[];
  readonly families: readonly MetricsFamily[];
  /** The main thread's address watch (docs/design.md, "Address checks: one kernel subscription"); absent: none. */
  readonly addressWatch?: { readonly source: string; readonly restarts: number };
  /** The state file of `state_dir` (docs/operations.md, "State across restarts"); absent until it has been opened. */
  readonly stateFile?: { readonly ok: boolean; readonly writes: number; readonly failures: number };
}

const P = 'anycast_healthchecker';
const SVC = ['service_name', 'ip_prefix'] as const;

/**
 * The metrics of docs/metrics.md, names and labels as the Python daemon exports them (a compatibility
 * contract for existing dashboards), and with `extended` the additional ones of this daemon.
 */
export function renderMetrics(s: MetricsSnapshot, extended: boolean): string {
  const e = new Exposition();
  const state = e.gauge(
    `${P}_service_state`,
    'The status of the service check: 0 healthy, any other value is the exit code of the failed check',
    SVC,
  );
  const duration = e.gauge(`${P}_service_check_duration_milliseconds`, 'Time the last check took, in milliseconds', SVC);
  const ipAssign = e.gauge(`${P}_service_check_ip_assignment`, 'Whether ip_prefix is assigned to the interface: 1 yes, 0 no', SVC);
  const timeouts = e.counter(`${P}_service_check_timeout_total`, 'Checks killed because they ran longer than check_timeout', SVC);
  const created = s.services.filter((svc) => svc.timeoutsCreatedAt !== null);
  if (created.length > 0) {
    // prometheus_client's `_created` of a counter, declared (as a gauge) right after it.
    const family = e.gauge(`${P}_service_check_timeout_created`, 'Checks killed because they ran longer than check_timeout', SVC);
    for (const svc of created) for (const l of labelsOf(svc)) family.set(l, svc.timeoutsCreatedAt as number);
  }
  e.gauge(`${P}_uptime`, 'Seconds since the daemon started').set({}, s.uptimeSeconds);
  e.gauge(`${P}_state`, 'The state of the daemon: 1 running, 0 stopped').set({}, s.running === false ? 0 : 1);
  e.gauge(`${P}_version_info`, 'The version of the daemon', ['version']).set({ version: s.version }, 1);
  const service = e.gauge(`${P}_service`, 'A configured service check', SVC);
  for (const svc of s.services) {
    for (const l of labelsOf(svc)) {
      service.set(l, 1);
      if (svc.stateValue !== null) state.set(l, svc.stateValue);
      if (svc.durationMs !== null) duration.set(l, svc.durationMs);
      if (svc.ipAssigned !== null) ipAssign.set(l, svc.ipAssigned ? 1 : 0);
      // As the Python daemon (prometheus_client): a counter's sample, and its `_created` gauge,
      // exist from its first increment on.
      if (svc.timeoutsCreatedAt !== null) timeouts.set(l, svc.timeouts);
    }
  }

  // The textfile is the Python daemon's set: the drain family is added only while a service is
  // drained, so a daemon that never drains writes the same file. /metrics always has it.
  if (extended || s.services.some((svc) => svc.drained === true)) {
    const drained = e.gauge(
      `${P}_service_drained`,
      'Whether the service is drained (withdrawn whatever its check says): 1 drained, 0 not',
      SVC,
    );
    for (const svc of s.services) for (const l of labelsOf(svc)) drained.set(l, svc.drained === true ? 1 : 0);
  }
  if (extended) addExtended(e, s);
  return e.render();
}

/** The labels of a service's samples: one set per prefix (docs/metrics.md, "Several prefixes per service"). */
function labelsOf(svc: MetricsService): Array<{ service_name: string; ip_prefix: string }> {
  return svc.prefixes.map((ip_prefix) => ({ service_name: svc.name, ip_prefix }));
}

function addExtended(e: Exposition, s: MetricsSnapshot): void {
  const up = e.gauge(`${P}_service_up`, 'The decided state: 1 up, 0 down, -1 unknown', SVC);
  const advertised = e.gauge(`${P}_service_advertised`, "Whether the service's prefix is in the BIRD file: 1 advertised, 0 withdrawn", SVC);
  const restarts = e.counter(`${P}_worker_restarts_total`, 'Restarts of the check worker thread of the service', ['service_name']);
  const failed = e.gauge(`${P}_worker_failed`, "1 while the watchdog has given up on the service's worker", ['service_name']);
  const exits = e.counter(`${P}_worker_exits_total`, "Ends of the service's worker threads, by kind (exit, throw, watchdog:…)", [
    'service_name',
    'kind',
  ]);
  for (const svc of s.services) {
    for (const [kind, n] of Object.entries(svc.exits ?? {})) exits.set({ service_name: svc.name, kind }, n);
    for (const l of labelsOf(svc)) {
      up.set(l, svc.decided === 'up' ? 1 : svc.decided === 'down' ? 0 : -1);
      if (svc.advertised !== undefined) advertised.set(l, svc.advertised ? 1 : 0);
    }
    restarts.set({ service_name: svc.name }, svc.restarts);
    failed.set({ service_name: svc.name }, svc.workerFailed ? 1 : 0);
  }
  const runs = e.counter(`${P}_reconfigure_runs_total`, 'BIRD reconfigure commands run', ['family']);
  const failures = e.counter(`${P}_reconfigure_failures_total`, 'BIRD reconfigure commands that failed (retried)', ['family']);
  const last = e.gauge(`${P}_reconfigure_duration_seconds`, 'Duration of the last BIRD reconfigure command', ['family']);
  const desired = e.gauge(`${P}_prefixes_desired`, 'Prefixes that should be in the BIRD file (dummy included)', ['family']);
  const applied = e.gauge(`${P}_prefixes_applied`, 'Prefixes BIRD applied at the last successful reconfigure (dummy included)', ['family']);
  const pending = e.gauge(`${P}_reconfigure_pending`, '1 while BIRD has not applied the desired prefixes', ['family']);
  const steps = e.counter(`${P}_step_failures_total`, 'Failed steps of bringing the BIRD file and BIRD in line, by kind (retried)', [
    'family',
    'kind',
  ]);
  for (const f of s.families) {
    const family = `ipv${f.family}`;
    runs.set({ family }, f.reconfigureRuns);
    failures.set({ family }, f.reconfigureFailures);
    if (f.lastReconfigureMs !== null) last.set({ family }, f.lastReconfigureMs / 1000);
    desired.set({ family }, f.desired);
    if (f.applied !== null) applied.set({ family }, f.applied);
    pending.set({ family }, f.pending ? 1 : 0);
    for (const [kind, n] of Object.entries(f.failures ?? {})) steps.set({ family, kind }, n);
  }
  e.gauge(`${P}_event_loop_lag_seconds`, "Lag of the main thread's event loop at the last sample").set({}, s.eventLoopLagMs / 1000);
  if (s.spawnHelper !== undefined) {
    e.gauge(`${P}_spawn_helper_up`, '1 while the ahc-spawn helper runs (0: check commands run directly until it is back)').set(
      {},
      s.spawnHelper.up ? 1 : 0,
    );
    e.counter(`${P}_spawn_helper_restarts_total`, 'Restarts of the ahc-spawn helper').set({}, s.spawnHelper.restarts);
    e.counter(`${P}_spawn_helper_direct_runs_total`, 'Check commands run directly because no ahc-spawn helper was running').set(
      {},
      s.spawnHelper.fallbackRuns,
    );
  }
  if (s.stateFile !== undefined) {
    e.gauge(
      `${P}_state_file_ok`,
      '1 while the state file is written at every change; 0 when its last write failed or state_dir cannot be used',
    ).set({}, s.stateFile.ok ? 1 : 0);
    e.counter(`${P}_state_file_writes_total`, 'Writes of the state file that worked').set({}, s.stateFile.writes);
    e.counter(`${P}_state_file_write_failures_total`, 'Writes of the state file that failed').set({}, s.stateFile.failures);
  }
  if (s.addressWatch !== undefined) {
    e.counter(`${P}_address_watch_restarts_total`, 'Restarts of the address monitor child after it died').set({}, s.addressWatch.restarts);
    e.gauge(`${P}_address_watch_source`, 'Where interface checks get addresses from: 1 for the current source', ['source']).set(
      { source: s.addressWatch.source },
      1,
    );
  }
}
