import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpExporter, parseListenAddress } from '../src/http-exporter';
import { renderMetrics } from '../src/metric-set';
import type { MetricsService, MetricsSnapshot } from '../src/metric-set';
import { TEXTFILE_NAME, TextfileExporter } from '../src/textfile-exporter';

const snapshot: MetricsSnapshot = {
  version: '1.2.3',
  uptimeSeconds: 42,
  eventLoopLagMs: 3,
  services: [
    {
      name: 'web',
      prefixes: ['10.52.12.1/32'],
      stateValue: 0,
      durationMs: 4.5,
      ipAssigned: true,
      timeouts: 0,
      timeoutsCreatedAt: null,
      restarts: 0,
      decided: 'up',
      advertised: true,
      workerFailed: false,
    },
    {
      name: 'dns',
      prefixes: ['10.52.12.2/32'],
      stateValue: 7,
      durationMs: 12,
      ipAssigned: true,
      timeouts: 3,
      timeoutsCreatedAt: 1764580000.5,
      restarts: 2,
      exits: { exit: 1, 'watchdog:spinning': 1 },
      decided: 'down',
      advertised: false,
      workerFailed: false,
    },
  ],
  families: [{ family: 4, desired: 2, applied: 2, pending: false, reconfigureRuns: 5, reconfigureFailures: 1, lastReconfigureMs: 6 }],
};

/** docs/metrics.md: the names, types and labels existing dashboards rely on. */
const CONTRACT_METRICS: Record<string, { type: string; labels: string[] }> = {
  anycast_healthchecker_service_state: { type: 'GAUGE', labels: ['service_name', 'ip_prefix'] },
  anycast_healthchecker_service_check_duration_milliseconds: { type: 'GAUGE', labels: ['service_name', 'ip_prefix'] },
  anycast_healthchecker_service_check_ip_assignment: { type: 'GAUGE', labels: ['service_name', 'ip_prefix'] },
  anycast_healthchecker_service_check_timeout_total: { type: 'COUNTER', labels: ['service_name', 'ip_prefix'] },
  anycast_healthchecker_uptime: { type: 'GAUGE', labels: [] },
  anycast_healthchecker_state: { type: 'GAUGE', labels: [] },
  anycast_healthchecker_version_info: { type: 'GAUGE', labels: ['version'] },
  anycast_healthchecker_service: { type: 'GAUGE', labels: ['service_name', 'ip_prefix'] },
  // prometheus_client's `_created` of the timeout counter, present once a service timed out
  anycast_healthchecker_service_check_timeout_created: { type: 'GAUGE', labels: ['service_name', 'ip_prefix'] },
};

function value(
  families: ReturnType<typeof parsePrometheusTextFormat>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const f = families.find((x) => x.name === name);
  const m = f?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return m?.value === undefined ? undefined : Number(m.value);
}

/** A TextfileExporter into `dir` every 10 s for `data`; its errors go to `onError` (ignored by default). */
const textfileExporter = (
  dir: string,
  data: MetricsSnapshot = snapshot,
  onError: (message: string) => void = () => undefined,
): TextfileExporter => new TextfileExporter(dir, 10_000, async () => data, onError);

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('Prometheus textfile', () => {
  it('has exactly the metric names, types and labels of docs/metrics.md, with the values of the snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-prom-'));
    const exporter = textfileExporter(dir);
    await exporter.writeOnce();
    expect(readdirSync(dir)).toEqual([TEXTFILE_NAME]);
    const families = parsePrometheusTextFormat(readFileSync(join(dir, TEXTFILE_NAME), 'utf8'));
    expect(families.map((f) => f.name).sort()).toEqual(Object.keys(CONTRACT_METRICS).sort());
    for (const f of families) {
      expect(f.type, f.name).toBe(CONTRACT_METRICS[f.name]?.type);
      for (const m of f.metrics)
        expect(Object.keys(m.labels ?? {}).sort(), f.name).toEqual([...(CONTRACT_METRICS[f.name]?.labels ?? [])].sort());
    }
    expect(value(families, 'anycast_healthchecker_service_state', { service_name: 'dns', ip_prefix: '10.52.12.2/32' })).toBe(7);
    expect(value(families, 'anycast_healthchecker_service_state', { service_name: 'web' })).toBe(0);
    expect(value(families, 'anycast_healthchecker_service_check_timeout_total', { service_name: 'dns' })).toBe(3);
    expect(value(families, 'anycast_healthchecker_version_info', { version: '1.2.3' })).toBe(1);
    expect(value(families, 'anycast_healthchecker_uptime')).toBe(42);
    expect(value(families, 'anycast_healthchecker_state')).toBe(1);
  });

  it('has one sample per (service, prefix) for a service with several prefixes, the same value each; a lone prefix as before', () => {
    const multi = {
      ...(snapshot.services[1] as MetricsService),
      name: 'multi',
      prefixes: ['10.52.13.1/32', '10.52.13.2/32', '2001:db8:53::1/128'],
    };
    const lone = renderMetrics(snapshot, true);
    const text = renderMetrics({ ...snapshot, services: [...snapshot.services, multi] }, true);
    // The lone-prefix services' lines are exactly those of before, and every new line is of 'multi'.
    const added = text.split('\n').filter((l) => !lone.split('\n').includes(l));
    expect(added.length).toBeGreaterThan(0);
    for (const l of added) expect(l).toContain('service_name="multi"');
    const families = parsePrometheusTextFormat(text);
    for (const name of [
      'anycast_healthchecker_service',
      'anycast_healthchecker_service_state',
      'anycast_healthchecker_service_check_duration_milliseconds',
      'anycast_healthchecker_service_check_ip_assignment',
      'anycast_healthchecker_service_check_timeout_total',
      'anycast_healthchecker_service_check_timeout_created',
      'anycast_healthchecker_service_up',
      'anycast_healthchecker_service_advertised',
    ]) {
      const samples = families.find((f) => f.name === name)?.metrics.filter((m) => m.labels?.service_name === 'multi') ?? [];
      expect(
        samples.map((m) => m.labels?.ip_prefix),
        name,
      ).toEqual(multi.prefixes);
      expect(new Set(samples.map((m) => m.value)).size, name).toBe(1);
    }
    // Per-service series without ip_prefix stay one sample.
    const restarts = families.find((f) => f.name === 'anycast_healthchecker_worker_restarts_total');
    expect(restarts?.metrics.filter((m) => m.labels?.service_name === 'multi')).toHaveLength(1);
  });

  it('has no timeout samples for a service that never timed out, and a _created sample for one that did', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-prom-'));
    const exporter = textfileExporter(dir);
    await exporter.writeOnce();
    const text = readFileSync(join(dir, TEXTFILE_NAME), 'utf8');
    const families = parsePrometheusTextFormat(text);
    expect(value(families, 'anycast_healthchecker_service_check_timeout_total', { service_name: 'web' })).toBeUndefined();
    expect(value(families, 'anycast_healthchecker_service_check_timeout_created', { service_name: 'dns' })).toBe(1764580000.5);
    expect(value(families, 'anycast_healthchecker_service_check_timeout_created', { service_name: 'web' })).toBeUndefined();
    // the eight families of the Python daemon are declared even without samples
    const none = { ...snapshot, services: [] };
    await textfileExporter(dir, none).writeOnce();
    const declared = [...readFileSync(join(dir, TEXTFILE_NAME), 'utf8').matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    expect(declared.sort()).toEqual(
      Object.keys(CONTRACT_METRICS)
        .filter((n) => !n.endsWith('_created'))
        .sort(),
    );
  });

  it('writes state 0 in its final write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-prom-'));
    const exporter = textfileExporter(dir);
    await exporter.writeOnce();
    await exporter.writeFinal();
    const families = parsePrometheusTextFormat(readFileSync(join(dir, TEXTFILE_NAME), 'utf8'));
    expect(value(families, 'anycast_healthchecker_state')).toBe(0);
    expect(value(families, 'anycast_healthchecker_service_state', { service_name: 'dns' })).toBe(7);
  });

  it('says once that it cannot write, and keeps trying', async () => {
    const errors: string[] = [];
    const exporter = textfileExporter('/nonexistent/dir', snapshot, (m) => void errors.push(m));
    await exporter.writeOnce();
    await exporter.writeOnce();
    expect(errors.length).toBe(1);
    expect(errors[0]).toMatch(/cannot write Prometheus textfile \/nonexistent\/dir\/anycast_healthchecker\.prom/);
  });
});

describe('HTTP /metrics', () => {
  it('serves the textfile metrics and the extended ones, parseable as Prometheus text format', async () => {
    const http = new HttpExporter('127.0.0.1', 0, async () => snapshot);
    const { port } = await http.listen();
    closers.push(() => http.close());
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const families = parsePrometheusTextFormat(await res.text());
    const names = families.map((f) => f.name);
    for (const n of Object.keys(CONTRACT_METRICS)) expect(names).toContain(n);
    expect(value(families, 'anycast_healthchecker_worker_restarts_total', { service_name: 'dns' })).toBe(2);
    expect(value(families, 'anycast_healthchecker_worker_exits_total', { service_name: 'dns', kind: 'watchdog:spinning' })).toBe(1);
    expect(value(families, 'anycast_healthchecker_worker_exits_total', { service_name: 'dns', kind: 'exit' })).toBe(1);
    expect(value(families, 'anycast_healthchecker_reconfigure_runs_total', { family: 'ipv4' })).toBe(5);
    expect(value(families, 'anycast_healthchecker_reconfigure_failures_total', { family: 'ipv4' })).toBe(1);
    expect(value(families, 'anycast_healthchecker_prefixes_desired', { family: 'ipv4' })).toBe(2);
    expect(value(families, 'anycast_healthchecker_prefixes_applied', { family: 'ipv4' })).toBe(2);
    expect(value(families, 'anycast_healthchecker_service_up', { service_name: 'dns' })).toBe(0);
    expect(value(families, 'anycast_healthchecker_service_advertised', { service_name: 'web' })).toBe(1);
    expect(value(families, 'anycast_healthchecker_service_advertised', { service_name: 'dns' })).toBe(0);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });
});

describe('the ahc-spawn helper metrics', () => {
  it('are extended metrics, present only when checks go through the helper', () => {
    const withHelper = parsePrometheusTextFormat(
      renderMetrics({ ...snapshot, spawnHelper: { up: false, restarts: 3, fallbackRuns: 7 } }, true),
    );
    expect(value(withHelper, 'anycast_healthchecker_spawn_helper_up')).toBe(0);
    expect(value(withHelper, 'anycast_healthchecker_spawn_helper_restarts_total')).toBe(3);
    expect(value(withHelper, 'anycast_healthchecker_spawn_helper_direct_runs_total')).toBe(7);
    const names = (text: string) => parsePrometheusTextFormat(text).map((f) => f.name);
    expect(names(renderMetrics({ ...snapshot, spawnHelper: { up: true, restarts: 0, fallbackRuns: 0 } }, false))).not.toContain(
      'anycast_healthchecker_spawn_helper_restarts_total',
    );
    expect(names(renderMetrics(snapshot, true))).not.toContain('anycast_healthchecker_spawn_helper_restarts_total');
  });
});

describe('the state file metrics', () => {
  it('are extended metrics: 1 while it is written, 0 while not, with the writes and failures counted', () => {
    const failing = parsePrometheusTextFormat(renderMetrics({ ...snapshot, stateFile: { ok: false, writes: 4, failures: 2 } }, true));
    expect(value(failing, 'anycast_healthchecker_state_file_ok')).toBe(0);
    expect(value(failing, 'anycast_healthchecker_state_file_writes_total')).toBe(4);
    expect(value(failing, 'anycast_healthchecker_state_file_write_failures_total')).toBe(2);
    const ok = parsePrometheusTextFormat(renderMetrics({ ...snapshot, stateFile: { ok: true, writes: 5, failures: 2 } }, true));
    expect(value(ok, 'anycast_healthchecker_state_file_ok')).toBe(1);
    const names = (text: string) => parsePrometheusTextFormat(text).map((f) => f.name);
    // The textfile keeps the Python daemon's families.
    expect(names(renderMetrics({ ...snapshot, stateFile: { ok: true, writes: 5, failures: 0 } }, false))).not.toContain(
      'anycast_healthchecker_state_file_ok',
    );
  });
});

describe('prometheus_listen', () => {
  it('reads HOST:PORT, [v6]:PORT and :PORT', () => {
    expect(parseListenAddress('127.0.0.1:9610')).toEqual({ host: '127.0.0.1', port: 9610 });
    expect(parseListenAddress('[::1]:9610')).toEqual({ host: '::1', port: 9610 });
    expect(parseListenAddress(':9610')).toEqual({ host: '0.0.0.0', port: 9610 });
    expect(parseListenAddress('9610')).toBeNull();
    expect(parseListenAddress('x:99999')).toBeNull();
  });
});
