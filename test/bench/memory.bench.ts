// Memory and CPU of the daemon at 0, 10 and 100 services in both worker modes, next to a bare
// idle `node` measured in the same run. Cases run one after another (the numbers are per
// process, but a neighbour would steal CPU). Run with `pnpm run bench`; see README.md here.
//
// Environment: BENCH_SECONDS (window per case, default 60), BENCH_CASES (comma-separated case
// ids to run, default all), BENCH_NODE_FLAGS (extra node flags for every case, the bare node
// included), BENCH_LAUNCHER_FLAGS=0 (leave out the flags of the launcher's #! line, --jitless, to
// compare), BENCH_KEEP=1 (keep the temporary directory with configs and logs).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeDaemonFixture } from './daemon-fixture.js';
import { launcherNodeFlags } from './launcher-flags.js';
import type { DaemonFixture } from './daemon-fixture.js';
import { LogTail, MeasuredProcess } from './measured-process.js';
import { deriveRows, formatReport, judgeTargets } from './memory-report.js';
import type { BenchCase, CaseResult } from './memory-report.js';
import { clockTicksPerSecond } from './proc-stats.js';
import { DAEMON_ENTRY, DAEMON_BUNDLE, resultFile } from './bench-paths.js';

const RESULT_FILE = resultFile('memory');
const START_TIMEOUT_MS = 30_000;
const FIRST_CHECKS_TIMEOUT_MS = 120_000;
const IDLE_TIMEOUT_MS = 30_000;

const STARTED = /starting anycast-healthchecker/;
// `2026-11-24 10:00:00,123 anycast-healthchecker[PID] INFO     svc-001    check duration 1.2ms`
const CHECK_DURATION = /^\S+ \S+ anycast-healthchecker\[\d+\] \w+\s+(\S+)\s+check duration /;
const ERROR_LINE = /^\S+ \S+ anycast-healthchecker\[\d+\] (ERROR|CRITICAL) /;

function allCases(): BenchCase[] {
  const cases: BenchCase[] = [
    { id: 'bare-node', label: 'bare node (idle setInterval)', kind: 'bare-node', services: 0, mode: null },
    { id: 'daemon-0', label: 'daemon, 0 services', kind: 'daemon', services: 0, mode: 'per-service' },
  ];
  for (const mode of ['per-service', 1, 2] as const) {
    for (const services of [10, 100]) {
      const name = mode === 'per-service' ? 'per-service' : `pooled-${mode}`;
      const label = mode === 'per-service' ? 'per-service' : `pooled, ${mode} thread${mode === 1 ? '' : 's'}`;
      cases.push({ id: `${name}-${services}`, label: `${label}, ${services} services`, kind: 'daemon', services, mode });
    }
  }
  return cases;
}

interface BenchSettings {
  readonly seconds: number;
  readonly caseIds: readonly string[] | null;
  readonly nodeFlags: readonly string[];
  readonly keep: boolean;
}

function readSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const seconds = Number(env['BENCH_SECONDS'] ?? '60');
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`BENCH_SECONDS must be a positive integer, got ${env['BENCH_SECONDS']}`);
  const ids = (env['BENCH_CASES'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const known = new Set(allCases().map((c) => c.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) throw new Error(`unknown BENCH_CASES ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  // The launcher's own flags (--jitless) unless BENCH_LAUNCHER_FLAGS=0, then BENCH_NODE_FLAGS;
  // the bare node gets the same flags, so it stays the baseline of the same V8 configuration.
  const launcher = env['BENCH_LAUNCHER_FLAGS'] === '0' ? [] : launcherNodeFlags(DAEMON_ENTRY);
  const nodeFlags = [...launcher, ...(env['BENCH_NODE_FLAGS'] ?? '').split(/\s+/).filter((s) => s !== '')];
  return { seconds, caseIds: ids.length === 0 ? null : ids, nodeFlags, keep: env['BENCH_KEEP'] === '1' };
}

/** The environment of every measured process: ours without NODE_OPTIONS (flags go in explicitly). */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return env;
}

function startCase(
  benchCase: BenchCase,
  dir: string,
  settings: BenchSettings,
  index: number,
): { proc: MeasuredProcess; fixture: DaemonFixture | null } {
  const logFile = join(dir, 'output.log');
  if (benchCase.kind === 'bare-node') {
    const proc = new MeasuredProcess(process.execPath, [...settings.nodeFlags, '-e', 'setInterval(()=>{},1000)'], logFile, childEnv());
    return { proc, fixture: null };
  }
  const fixture = writeDaemonFixture({
    dir,
    services: benchCase.services,
    mode: benchCase.mode ?? 'per-service',
    instanceLock: `ahc-bench-${process.pid}-${index}`,
  });
  const args = [...settings.nodeFlags, DAEMON_ENTRY, '-f', fixture.confFile, '-d', fixture.servicesDir];
  return { proc: new MeasuredProcess(process.execPath, args, logFile, childEnv()), fixture };
}

/** Daemon: the start line, then a first `check duration` of every service; any case: an idle loop. */
async function waitUntilUp(proc: MeasuredProcess, fixture: DaemonFixture | null): Promise<void> {
  if (fixture !== null) {
    const tail = new LogTail(proc.logFile);
    await proc.waitForLog(
      tail,
      (lines) => lines.some((l) => STARTED.test(l)),
      'the "starting anycast-healthchecker" line',
      START_TIMEOUT_MS,
    );
    const pending = new Set(fixture.serviceNames);
    const noteChecks = (lines: readonly string[]): boolean => {
      for (const line of lines) {
        const service = CHECK_DURATION.exec(line)?.[1];
        if (service !== undefined) pending.delete(service);
      }
      return pending.size === 0;
    };
    await proc.waitForLog(tail, noteChecks, `a first "check duration" line of each of ${pending.size} services`, FIRST_CHECKS_TIMEOUT_MS);
  }
  await proc.waitForIdleMainThread(IDLE_TIMEOUT_MS);
}

function countLogErrors(logFile: string): number {
  return new LogTail(logFile).readNewLines().filter((l) => ERROR_LINE.test(l)).length;
}

async function runCase(
  benchCase: BenchCase,
  root: string,
  settings: BenchSettings,
  index: number,
  ticksPerSecond: number,
): Promise<CaseResult> {
  const dir = join(root, benchCase.id);
  mkdirSync(dir, { recursive: true });
  const spawnedAt = performance.now();
  const { proc, fixture } = startCase(benchCase, dir, settings, index);
  try {
    await waitUntilUp(proc, fixture);
    const startupSeconds = (performance.now() - spawnedAt) / 1000;
    const measurement = await proc.measure(settings.seconds, ticksPerSecond);
    const exit = await proc.stop();
    return { ...benchCase, ...measurement, startupSeconds, logErrors: countLogErrors(proc.logFile), exit };
  } finally {
    await proc.stop();
  }
}

function loadText(load: readonly number[]): string {
  return load.map((l) => l.toFixed(2)).join(' ');
}

function progressLine(r: CaseResult): string {
  return (
    `  ${r.label}: median RSS ${r.rssMedianMiB.toFixed(1)} MiB, ${r.threads} threads, ` +
    `CPU ${r.cpuSecondsPerMinute.toFixed(3)} s/min, up after ${r.startupSeconds.toFixed(1)} s\n`
  );
}

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  if (!existsSync(DAEMON_BUNDLE)) throw new Error(`${DAEMON_BUNDLE} is missing; build the daemon first (pnpm run build)`);
  const ticksPerSecond = clockTicksPerSecond();
  const cases = allCases().filter((c) => settings.caseIds === null || settings.caseIds.includes(c.id));
  const root = mkdtempSync(join(tmpdir(), 'ahc-bench-'));
  const loadBefore = loadavg();
  process.stdout.write(
    `memory benchmark: ${cases.length} cases x ${settings.seconds} s, node ${process.version}` +
      `${settings.nodeFlags.length > 0 ? ` ${settings.nodeFlags.join(' ')}` : ''}, ${cpus().length} CPUs, ` +
      `load average ${loadText(loadBefore)}, work dir ${root}\n`,
  );
  const results: CaseResult[] = [];
  for (const [index, benchCase] of cases.entries()) {
    process.stdout.write(`- ${benchCase.label} ...\n`);
    const result = await runCase(benchCase, root, settings, index, ticksPerSecond);
    results.push(result);
    process.stdout.write(progressLine(result));
  }
  // Kept after a failure (the error names the log file) or with BENCH_KEEP=1.
  if (!settings.keep) rmSync(root, { recursive: true, force: true });
  const rows = deriveRows(results);
  const verdicts = judgeTargets(results, rows);
  const loadAfter = loadavg();
  process.stdout.write(`\n${formatReport(results, rows, verdicts, settings.seconds)}\nload average at the end ${loadText(loadAfter)}\n`);
  mkdirSync(dirname(RESULT_FILE), { recursive: true });
  const report = {
    node: process.version,
    nodeFlags: settings.nodeFlags,
    seconds: settings.seconds,
    clockTicksPerSecond: ticksPerSecond,
    cpus: cpus().length,
    loadAverage: { before: loadBefore, after: loadAfter },
    finishedAt: new Date().toISOString(),
    results,
    derived: rows,
    targets: verdicts,
  };
  writeFileSync(RESULT_FILE, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nresults written to ${RESULT_FILE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`memory benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
