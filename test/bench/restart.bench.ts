// Restart latency of a check thread: the time from a worker's death to its replacement's first
// heartbeat, on the real daemon (AHC_FAULT_INJECTION=1, not in a namespace), for the fault kinds
// `exit` (process.exit in the worker), `terminate` (the main thread terminates it) and `throw`
// (uncaught exception), 20 samples each. Target: median under 250 ms. Baseline measured in the
// same run: a bare `new Worker()` of a trivial script in a plain node process, up to its first
// message. Run with `pnpm run bench` or `node test/bench/run-bench.mjs restart`.
//
// How a sample is taken: the status socket is asked to inject the fault into one service; the
// status is then polled every 5 ms until that service's worker is `running` on a new thread with
// its restart count increased and a heartbeat younger than 250 ms. Two figures per sample:
//  - death -> first heartbeat (the target's figure): the daemon's ERROR line for the dead thread
//    is stamped to the millisecond when the main thread sees the exit; the replacement's first
//    heartbeat is the first `running` reply's arrival minus its `lastHeartbeatAgeMs`.
//  - injection reply -> running poll: what a client polling every 5 ms sees (adds the time the
//    fault takes to kill the thread, and up to one poll).
// The daemon backs off when a thread crashes again within a few seconds of its start, so every
// service gets one fault per kind and a thread is only faulted after it has run SPACING_MS.
//
// Environment: BENCH_RESTART_SAMPLES (default 20), BENCH_RESTART_KINDS (default
// exit,terminate,throw), BENCH_WORKER_THREADS (default per-service), BENCH_KEEP=1 (keep the
// temporary directory with the configuration and the daemon's log).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DaemonProcess, logLineWallTime, threadExitLine } from '../helpers/daemon-process.js';
import { delay, median, pollUntil } from '../helpers/poll.js';
import { StatusConnection, serviceOf, type FaultKind } from '../helpers/status-client.js';
import { heartbeatWallTime, waitForReplacement } from '../helpers/worker-restart.js';
import { launcherNodeFlags } from './launcher-flags.js';
import { REPO_ROOT, DAEMON_ENTRY, DAEMON_BUNDLE, resultFile } from './bench-paths.js';

const RESULT_FILE = resultFile('restart');
const TARGET_MEDIAN_MS = 250;
const POLL_MS = 5;
const FRESH_HEARTBEAT_MS = 250;
/** Longer than the daemon's "ran stable" time (5 s), after which a crash counts as the first again. */
const SPACING_MS = 6_000;
const KINDS: readonly FaultKind[] = ['exit', 'terminate', 'throw'];

interface Settings {
  readonly samples: number;
  readonly kinds: readonly FaultKind[];
  readonly mode: string;
  readonly keep: boolean;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const samples = Number(env['BENCH_RESTART_SAMPLES'] ?? '20');
  if (!Number.isInteger(samples) || samples < 1)
    throw new Error(`BENCH_RESTART_SAMPLES must be a positive integer, got ${env['BENCH_RESTART_SAMPLES']}`);
  const kinds = (env['BENCH_RESTART_KINDS'] ?? KINDS.join(','))
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  const unknown = kinds.filter((k) => !(KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`unknown BENCH_RESTART_KINDS ${unknown.join(', ')}; known: ${KINDS.join(', ')}`);
  const mode = env['BENCH_WORKER_THREADS'] ?? 'per-service';
  if (mode !== 'per-service' && !/^[1-9]\d*$/.test(mode))
    throw new Error(`BENCH_WORKER_THREADS must be per-service or a thread count, got ${mode}`);
  return { samples, kinds: kinds as FaultKind[], mode, keep: env['BENCH_KEEP'] === '1' };
}

interface Sample {
  readonly kind: FaultKind;
  readonly service: string;
  readonly oldThread: number | null;
  readonly newThread: number | null;
  /** Daemon's exit line -> replacement's first heartbeat (ms, both from the daemon's clock). */
  readonly deathToHeartbeatMs: number;
  /** Injection reply -> first status reply showing the replacement running (ms, this process's clock). */
  readonly replyToRunningMs: number;
  /** Injection reply -> daemon's exit line (ms, wall clock). */
  readonly replyToDeathMs: number;
  readonly restartsBefore: number;
  readonly restartsAfter: number;
  readonly lastExit: string | null;
}

interface Series {
  readonly n: number;
  readonly medianMs: number;
  readonly maxMs: number;
  readonly minMs: number;
}

function series(values: readonly number[]): Series {
  return { n: values.length, medianMs: median(values), maxMs: Math.max(...values), minMs: Math.min(...values) };
}

/**
 * Baselines, each in a plain node process: `new Worker()` up to its first message, then terminate.
 * argv: samples, worker (a script for eval, or a file path), Worker options as JSON.
 */
const BASELINE_SCRIPT = `
const { Worker } = require('node:worker_threads');
(async () => {
  const [samples, what, options] = process.argv.slice(1);
  const out = [];
  for (let i = 0; i < Number(samples); i += 1) {
    const started = performance.now();
    const worker = new Worker(what, JSON.parse(options));
    await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    out.push(performance.now() - started);
    await worker.terminate();
  }
  process.stdout.write(JSON.stringify(out));
})();
`;
const TRIVIAL_WORKER = "require('node:worker_threads').parentPort.postMessage(0)";
const CHECK_WORKER = join(REPO_ROOT, 'apps', 'anycast-healthchecker', 'dist', 'check-worker.mjs');
/** What the daemon gives a per-service check thread (packages/supervisor/src/worker-thread-host.ts); informational. */
const CHECK_WORKER_OPTIONS = {
  stdout: false,
  stderr: false,
  workerData: { faultInjection: false },
  resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1, stackSizeMb: 1 },
};

function measureBaseline(samples: number, what: string, options: object): Promise<number[]> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      ['-e', BASELINE_SCRIPT, String(samples), what, JSON.stringify(options)],
      { timeout: 60_000, env: childEnv() },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`baseline node process failed: ${error.message}\n${stderr}`));
        else resolvePromise(JSON.parse(stdout) as number[]);
      },
    );
  });
}

/** Our environment without NODE_OPTIONS, plus the test-only switch. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AHC_FAULT_INJECTION: '1' };
  delete env['NODE_OPTIONS'];
  return env;
}

const serviceName = (i: number): string => `svc-${String(i + 1).padStart(2, '0')}`;

/** [daemon] with every path in `dir`, a stand-in reconfigure command, `samples` cheap services. */
function writeFixture(dir: string, settings: Settings): { confFile: string; servicesDir: string; statusSocket: string; names: string[] } {
  const reconfigure = join(dir, 'reconfigure.sh');
  writeFileSync(reconfigure, '#!/bin/sh\necho Reconfigured\n');
  chmodSync(reconfigure, 0o755);
  const statusSocket = join(dir, 'status.sock');
  const confFile = join(dir, 'ahc.conf');
  writeFileSync(
    confFile,
    [
      '[daemon]',
      `pidfile = ${join(dir, 'ahc.pid')}`,
      `state_dir = ${join(dir, 'state')}`,
      `bird_conf = ${join(dir, 'anycast-prefixes.conf')}`,
      `bird_reconfigure_cmd = ${reconfigure}`,
      'loglevel = info',
      `instance_lock = ahc-bench-${randomBytes(6).toString('hex')}`,
      `status_socket = ${statusSocket}`,
      `worker_threads = ${settings.mode}`,
      '',
    ].join('\n'),
  );
  const servicesDir = join(dir, 'services.d');
  mkdirSync(servicesDir);
  const names: string[] = [];
  for (let i = 0; i < settings.samples; i += 1) {
    const name = serviceName(i);
    names.push(name);
    writeFileSync(
      join(servicesDir, `${name}.conf`),
      [
        `[${name}]`,
        'check_cmd = /bin/true',
        'check_interval = 1',
        'check_timeout = 0.5',
        'check_rise = 2',
        'check_fail = 2',
        'check_disabled = false',
        'ip_check_disabled = true',
        `ip_prefix = 10.53.${Math.floor(i / 250)}.${(i % 250) + 1}/32`,
        '',
      ].join('\n'),
    );
  }
  return { confFile, servicesDir, statusSocket, names };
}

/** Inject `kind` into `service` once its thread has run SPACING_MS, and time the replacement. */
async function takeSample(
  daemon: DaemonProcess,
  status: StatusConnection,
  threadSince: Map<number, number>,
  service: string,
  kind: FaultKind,
): Promise<Sample> {
  let before = serviceOf(await status.status(), service);
  const thread = before.worker.threadId;
  if (before.worker.state !== 'running' || thread === null)
    throw new Error(`${service} is not running before the fault: ${JSON.stringify(before.worker)}`);
  // Pacing, not synchronisation: a thread faulted again too soon would be restarted with backoff.
  const since = threadSince.get(thread) ?? performance.now();
  threadSince.set(thread, since);
  await delay(Math.max(0, since + SPACING_MS - performance.now()));
  before = serviceOf(await status.status(), service);
  const from = daemon.lines.length;
  await status.injectFault(service, kind);
  const replied = performance.now();
  const repliedWall = Date.now();
  const running = await waitForReplacement(status, before, {
    timeoutMs: 10_000,
    intervalMs: POLL_MS,
    freshHeartbeatMs: FRESH_HEARTBEAT_MS,
  });
  const exitLine = await daemon.waitForLine(threadExitLine(thread), 2_000, from, `the exit line of check thread ${thread}`);
  const diedWall = logLineWallTime(exitLine.raw);
  if (diedWall === undefined) throw new Error(`no timestamp in ${exitLine.raw}`);
  const after = serviceOf(running.view, service);
  for (const t of new Set(running.view.services.map((s) => s.worker.threadId))) {
    if (t !== null && !threadSince.has(t)) threadSince.set(t, running.at);
  }
  return {
    kind,
    service,
    oldThread: thread,
    newThread: after.worker.threadId,
    deathToHeartbeatMs: heartbeatWallTime(running, service) - diedWall,
    replyToRunningMs: running.at - replied,
    replyToDeathMs: diedWall - repliedWall,
    restartsBefore: before.worker.restarts,
    restartsAfter: after.worker.restarts,
    lastExit: after.worker.lastExit,
  };
}

/** Columns right-aligned to the wider of header and values, the first left-aligned. */
function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  if (!existsSync(DAEMON_BUNDLE)) throw new Error(`${DAEMON_BUNDLE} is missing; build the daemon first (pnpm run build)`);
  const dir = mkdtempSync(join(tmpdir(), 'ahc-bench-restart-'));
  const fixture = writeFixture(dir, settings);
  process.stdout.write(
    `restart benchmark: ${settings.kinds.join(', ')} x ${settings.samples} samples, worker_threads = ${settings.mode}, ` +
      `${settings.samples} services, node ${process.version}, work dir ${dir}\n`,
  );

  const baselineSamples = await measureBaseline(settings.samples, TRIVIAL_WORKER, { eval: true });
  const baseline = series(baselineSamples);
  process.stdout.write(
    `- baseline: bare new Worker() of a trivial script -> first message, plain node: median ${baseline.medianMs.toFixed(1)} ms, max ${baseline.maxMs.toFixed(1)} ms\n`,
  );
  const bareCheckWorkerSamples = await measureBaseline(settings.samples, CHECK_WORKER, CHECK_WORKER_OPTIONS);
  const bareCheckWorker = series(bareCheckWorkerSamples);
  process.stdout.write(
    `- the daemon's check-worker.mjs with its per-service resourceLimits -> first heartbeat, plain node: median ${bareCheckWorker.medianMs.toFixed(1)} ms, max ${bareCheckWorker.maxMs.toFixed(1)} ms\n`,
  );

  const child = spawn(
    process.execPath,
    [...launcherNodeFlags(DAEMON_ENTRY), DAEMON_ENTRY, '-f', fixture.confFile, '-d', fixture.servicesDir],
    { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() },
  );
  const daemon = new DaemonProcess(child);
  const samples: Sample[] = [];
  let exit;
  let status: StatusConnection | undefined;
  try {
    status = await StatusConnection.waitFor(fixture.statusSocket, 30_000);
    const connection = status;
    const threadSince = new Map<number, number>();
    await pollUntil(
      async () => {
        const view = await connection.status();
        return view.services.every((s) => s.worker.state === 'running' && s.checks > 0) ? true : undefined;
      },
      { what: `all ${settings.samples} workers running with a first check`, timeoutMs: 30_000 },
    );
    const ready = performance.now();
    for (const s of (await connection.status()).services) if (s.worker.threadId !== null) threadSince.set(s.worker.threadId, ready);
    for (const kind of settings.kinds) {
      process.stdout.write(`- ${kind} ...\n`);
      for (const name of fixture.names) samples.push(await takeSample(daemon, connection, threadSince, name, kind));
    }
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${daemon.tail()}\n(work dir kept: ${dir})`);
  } finally {
    status?.close();
    exit = await daemon.stop('SIGTERM');
  }
  if (!settings.keep) rmSync(dir, { recursive: true, force: true });

  const anomalies = samples.filter((s) => s.restartsAfter !== s.restartsBefore + 1);
  const rows = settings.kinds.map((kind) => {
    const of = samples.filter((s) => s.kind === kind);
    const death = series(of.map((s) => s.deathToHeartbeatMs));
    const poll = series(of.map((s) => s.replyToRunningMs));
    const kill = series(of.map((s) => s.replyToDeathMs));
    return {
      kind,
      deathToHeartbeat: death,
      replyToRunning: poll,
      replyToDeath: kill,
      xBaseline: death.medianMs / baseline.medianMs,
      pass: death.medianMs < TARGET_MEDIAN_MS,
    };
  });

  const ms = (v: number): string => `${v.toFixed(0)} ms`;
  const table = formatTable(
    [
      'fault',
      'death -> 1st heartbeat: median',
      'max',
      'inject reply -> running poll: median',
      'max',
      'reply -> death: median',
      'x baseline',
      `median < ${TARGET_MEDIAN_MS} ms`,
    ],
    [
      ...rows.map((r) => [
        r.kind,
        ms(r.deathToHeartbeat.medianMs),
        ms(r.deathToHeartbeat.maxMs),
        ms(r.replyToRunning.medianMs),
        ms(r.replyToRunning.maxMs),
        ms(r.replyToDeath.medianMs),
        r.xBaseline.toFixed(1),
        r.pass ? 'PASS' : 'MISS',
      ]),
      ['baseline', ms(baseline.medianMs), ms(baseline.maxMs), '', '', '', '1.0', ''],
      [
        '(info)',
        ms(bareCheckWorker.medianMs),
        ms(bareCheckWorker.maxMs),
        '',
        '',
        '',
        (bareCheckWorker.medianMs / baseline.medianMs).toFixed(1),
        '',
      ],
    ],
  );
  const out: string[] = [
    '',
    `check thread restart latency, ${settings.samples} samples per fault, status polled every ${POLL_MS} ms`,
    ...table,
    `baseline: bare new Worker() of a trivial script -> first message, in a plain node process (${baseline.n} samples)`,
    "(info): the daemon's check-worker.mjs with its per-service resourceLimits, started bare -> first heartbeat",
    `restart counts: ${anomalies.length === 0 ? 'every fault restarted its thread exactly once' : `${anomalies.length} samples did not restart exactly once`}; daemon exit on SIGTERM: ${exit.code ?? exit.signal}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);

  mkdirSync(dirname(RESULT_FILE), { recursive: true });
  writeFileSync(
    RESULT_FILE,
    `${JSON.stringify(
      {
        node: process.version,
        workerThreads: settings.mode,
        targetMedianMs: TARGET_MEDIAN_MS,
        pollMs: POLL_MS,
        finishedAt: new Date().toISOString(),
        baseline: { ...baseline, samplesMs: baselineSamples },
        bareCheckWorker: { ...bareCheckWorker, samplesMs: bareCheckWorkerSamples },
        rows,
        anomalies,
        samples,
        daemonExit: exit,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`\nresults written to ${RESULT_FILE}\n`);
  if (anomalies.length > 0 || exit.code !== 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`restart benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
