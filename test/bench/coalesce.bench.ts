// Coalescing under a mass failure, with real BIRD and BGP: N services (50, 200) whose checks all
// read one shared health file fail together; how long after the last failure decision has the
// peer lost every route, and how many reconfigure commands ran? Judged against one bare
// `birdc configure` measured in the same case. Targets: all routes gone within
// 3 x configure + 100 ms of the last decision, at most 3 reconfigure commands.
//
// Two triggers per case. `tick`: the shared file is removed and every check finds it missing at
// its own next tick (check_interval 1 s), so decisions spread over up to one interval, as they
// would in production. `sigurg`: the file is removed, then SIGURG makes every loop check at once,
// so the decisions are as simultaneous as the daemon can make them.
//
// Beds (BENCH_COALESCE_BEDS, default "bird2,bird2-300k,bird3,bird3-300k"): the node runs BIRD 2
// or BIRD 3 (birdc.ts; skipped with the reason when absent), optionally with a router-sized
// configuration: an included `protocol static` of N /32 blackhole routes, so that one `birdc
// configure` takes ~150-200 ms instead of ~3 ms. The plain BIRD 2 bed runs the full matrix
// (BENCH_COALESCE_SERVICES x BENCH_COALESCE_MODES); the others BENCH_COALESCE_ROUTER_SERVICES
// (default 50) x BENCH_COALESCE_ROUTER_MODES (default 2). A third trigger, `busy` (beds with
// static routes only), drops the static protocol and runs `birdc configure` just before the
// failure: BIRD answers `Reconfiguration in progress` while it flushes, and the daemon's own
// reconfigures get `Reconfiguration already in progress, queueing new config` (docs/bird.md).
// The bare configure baseline counts until BIRD logs `Reconfigured` (the new config in effect).
//
// Needs root and iproute2 (the namespace test bed); prints the reason and exits 0 when they
// are missing. All triggers run against the same daemon (fail all, measure, restore).
// Environment: BENCH_COALESCE_SERVICES (default "50,200"), BENCH_COALESCE_MODES (default
// "2,per-service"), BENCH_COALESCE_TRIGGERS (default "tick,sigurg,busy"), BENCH_COALESCE_START_S
// (how long a daemon may take until all services are up, default 120), and the bed knobs above.
// A daemon that does not get there is reported as not measured (exit 1).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createBirdPair, requireNetnsSupport, type BirdPair } from '../helpers/bird-pair.js';
import { BirdControl, networkCount } from '../helpers/bird-control.js';
import { ReconnectingStatus, birdOf, isSettled } from '../helpers/bird-status.js';
import { BIRD2, bird3Binaries, type BirdBinaries } from '../helpers/birdc.js';
import {
  formatCoalesceReport,
  judge,
  medianOf,
  modeLabel,
  type CoalesceMeasurement,
  type CoalesceResult,
} from '../helpers/coalesce-report.js';
import {
  DaemonProcess,
  daemonBin,
  logLineWallTime,
  writeDaemonConfig,
  writeServiceFiles,
  type LogLine,
} from '../helpers/daemon-process.js';
import { exec } from '../helpers/exec.js';
import { delay, pollUntil } from '../helpers/poll.js';
import { REPO_ROOT, DAEMON_BUNDLE, resultFile } from './bench-paths.js';

const BIN = daemonBin(REPO_ROOT);
const RESULT_FILE = resultFile('coalesce');
const POLL_INTERVAL_MS = 10;
const CONFIGURE_SAMPLES = 10;

type Mode = 'per-service' | number;

const busyNotes: Array<{ bed: string; services: number; trigger: Trigger; operatorAnswer: string | null; inBackground: number }> = [];
const configureAnswers: Array<{ bed: string; services: number; samples: readonly ConfigureSample[] }> = [];
// `busy`: as `sigurg`, but first the static protocol (router beds only) is dropped from BIRD's
// configuration and `birdc configure` run, so BIRD is still flushing its routes ("Reconfiguration
// in progress") when the daemon's reconfigures arrive ("already in progress, queueing new config").
type Trigger = 'tick' | 'sigurg' | 'busy';

function listSetting<T>(name: string, fallback: string, parse: (s: string) => T): T[] {
  return (process.env[name] ?? fallback)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(parse);
}

const servicePrefix = (i: number): string => `10.53.${Math.floor(i / 250)}.${(i % 250) + 1}/32`;
const serviceName = (i: number): string => `svc-${String(i + 1).padStart(3, '0')}`;
const isDown = (line: LogLine): boolean => line.message === 'changed to DOWN';
const isUp = (line: LogLine): boolean => line.message === 'changed to UP';
const isWatchdogRestart = (line: LogLine): boolean => / was terminated by the watchdog: /.test(line.message ?? '');
// BIRD 3 may answer `Reconfiguration in progress`: the daemon then logs that BIRD accepted it.
const isReconfigured = (line: LogLine): boolean =>
  line.message === 'reconfigured BIRD daemon' ||
  (line.message ?? '').startsWith('BIRD accepted the configuration and applies it in the background');
const isReconfigure = (line: LogLine): boolean => (line.message ?? '').startsWith('reconfiguring BIRD by running');

function wallOf(line: LogLine): number {
  const t = logLineWallTime(line.raw);
  if (t === undefined) throw new Error(`no timestamp in log line: ${line.raw}`);
  return t;
}

/** Add every prefix to the node's lo in one `ip -batch` (BIRD's direct protocol needs them there). */
async function addAddresses(bed: BirdPair, dir: string, count: number): Promise<void> {
  const batch = join(dir, 'addresses.batch');
  writeFileSync(batch, Array.from({ length: count }, (_, i) => `address add ${servicePrefix(i)} dev lo\n`).join(''));
  await exec(['ip', '-n', bed.names.nodeNs, '-batch', batch]);
}

/** `Reconfigured` lines in the node BIRD's log: BIRD 2 and 3 log one when a new configuration is in effect. */
function loggedReconfigures(bed: BirdPair): number {
  return (bed.birdLog('node').match(/\bReconfigured\b/g) ?? []).length;
}

interface ConfigureSample {
  /** Until birdc returned. */
  readonly replyMs: number;
  /** Until BIRD logged `Reconfigured` (the new configuration in effect). */
  readonly doneMs: number;
  /** birdc's answer line and exit code, e.g. `Reconfigured (exit 0)`. */
  readonly answer: string;
}

/** One bare `birdc configure`: time to birdc's answer and until BIRD logged that it is done. */
async function timedConfigure(bed: BirdPair): Promise<ConfigureSample> {
  const before = loggedReconfigures(bed);
  const started = performance.now();
  const r = await exec([bed.binaries.birdc, '-s', bed.nodeSocket, 'configure'], { allowFailure: true, timeoutMs: 60_000 });
  const replyMs = performance.now() - started;
  const line = r.stdout
    .split('\n')
    .find((l) => /^Reconfigur/.test(l.trim()))
    ?.trim();
  if (line === undefined) throw new Error(`birdc configure did not reconfigure (exit ${r.code}): ${r.stdout}${r.stderr}`);
  await pollUntil(async () => (loggedReconfigures(bed) > before ? true : undefined), {
    what: 'BIRD to log "Reconfigured"',
    timeoutMs: 60_000,
    intervalMs: 2,
  });
  return { replyMs, doneMs: performance.now() - started, answer: `${line} (exit ${r.code})` };
}

/** A `protocol static` with `count` /32 blackhole routes in 100.64.0.0/10: a router-sized table. */
function writeStaticRoutes(file: string, count: number): void {
  const lines = ['protocol static bulk4 {', '    ipv4;'];
  for (let i = 0; i < count; i += 1) lines.push(`    route 100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32 blackhole;`);
  lines.push('}', '');
  writeFileSync(file, lines.join('\n'));
}

interface DaemonInput {
  readonly bed: BirdPair;
  /** e.g. `BIRD 3 + 300000 static`. */
  readonly bedLabel: string;
  /** The include with the static protocol, on router beds. */
  readonly staticFile?: string;
  readonly staticRoutes: number;
  readonly dir: string;
  readonly services: number;
  readonly mode: Mode;
  readonly index: number;
}

/** One daemon with N services on one shared health file, measured once per trigger. */
class BenchDaemon {
  readonly d: DaemonProcess;
  readonly status: ReconnectingStatus;
  readonly shared: string;
  readonly wanted: readonly string[];
  readonly spawnedAt = performance.now();

  constructor(
    readonly input: DaemonInput,
    readonly peer: BirdControl,
  ) {
    const { bed, dir, services, mode, index } = input;
    const caseDir = join(dir, `case-${index}`);
    mkdirSync(caseDir, { recursive: true });
    this.shared = join(caseDir, 'all.healthy');
    writeFileSync(this.shared, '');
    const statusSocket = join(caseDir, 'status.sock');
    const files = writeDaemonConfig({
      dir: caseDir,
      prefixFile4: bed.prefixFile4,
      prefixFile6: bed.prefixFile6,
      reconfigureCommand: bed.nodeReconfigureCommand,
      loglevel: 'info',
      extra: { worker_threads: String(mode), status_socket: statusSocket, instance_lock: `ahc-coal-${process.pid}-${index}` },
    });
    writeServiceFiles(
      files.servicesDir,
      Array.from({ length: services }, (_, i) => ({
        name: serviceName(i),
        ipPrefix: servicePrefix(i),
        checkCmd: `/usr/bin/test -e ${this.shared}`,
        checkInterval: 1,
        checkTimeout: 0.5,
        checkRise: 1,
        checkFail: 1,
      })),
    );
    this.wanted = Array.from({ length: services }, (_, i) => servicePrefix(i));
    this.status = new ReconnectingStatus(statusSocket, 10_000);
    this.d = new DaemonProcess(bed.execInNode([BIN, '-f', files.confFile, '-d', files.servicesDir]));
  }

  get watchdogRestarts(): number {
    return this.d.lines.filter(isWatchdogRestart).length;
  }

  /** Every service decided UP, all N prefixes in the file and applied, the peer has all N routes. */
  async waitAllUp(timeoutMs: number): Promise<void> {
    const { services } = this.input;
    let last = 'no status reply yet';
    await pollUntil(
      async () => {
        const view = await this.status.view();
        const bird = birdOf(view, 4);
        const listed = new Set(bird.prefixes);
        const up = view.services.filter((s) => s.state === 'up').length;
        const inFile = this.wanted.filter((p) => listed.has(p)).length;
        last =
          `${up}/${services} services up, ${inFile}/${services} prefixes in the file, ` +
          `${bird.pending ? 'pending' : 'idle'}, ${this.watchdogRestarts} check threads replaced by the watchdog`;
        return up === services && inFile === services && isSettled(bird) ? true : undefined;
      },
      { what: `${services} services up and in the BIRD file`, timeoutMs, intervalMs: 100, describe: () => last },
    );
    await pollUntil(async () => ((await networkCount(this.peer, 'master4')) === services ? true : undefined), {
      what: `the peer to have ${services} routes`,
      timeoutMs: 30_000,
    });
  }

  /** Fail every service at once (remove the shared file; with `sigurg`, also run all checks now). */
  async measure(trigger: Trigger, configureMs: readonly number[], startupSeconds: number, bedLabel: string): Promise<CoalesceMeasurement> {
    const { services, mode } = this.input;
    const d = this.d;
    const from = d.lines.length;
    let peerEmptyAt: number | undefined;
    let pollError: string | undefined;
    let polling = true;
    // The peer poll runs from before the removal, so a withdrawal that beats the log is seen too.
    const poller = (async () => {
      while (polling) {
        const at = performance.now();
        try {
          if ((await networkCount(this.peer, 'master4')) === 0) {
            peerEmptyAt = Date.now();
            return;
          }
        } catch (error) {
          pollError = (error as Error).message;
        }
        await delay(Math.max(0, at + POLL_INTERVAL_MS - performance.now()));
      }
    })();
    try {
      if (trigger === 'busy') {
        const staticFile = this.input.staticFile;
        if (staticFile === undefined) throw new Error('the busy trigger needs a bed with static routes');
        writeFileSync(staticFile, '');
        const r = await exec([this.input.bed.binaries.birdc, '-s', this.input.bed.nodeSocket, 'configure'], { allowFailure: true });
        this.busyAnswer = `${r.stdout.trim().split('\n').pop() ?? ''} (exit ${r.code})`;
      }
      const removedAt = Date.now();
      rmSync(this.shared);
      if (trigger !== 'tick') process.kill(d.pid ?? 0, 'SIGURG');
      await pollUntil(async () => (d.lines.slice(from).filter(isDown).length >= services ? true : undefined), {
        what: `${services} "changed to DOWN" lines`,
        timeoutMs: 30_000,
        describe: () => `${d.lines.slice(from).filter(isDown).length} so far`,
      });
      await pollUntil(async () => (peerEmptyAt !== undefined ? true : undefined), {
        what: 'the peer to lose every route',
        timeoutMs: 30_000,
        describe: () => pollError ?? '',
      });
      // Settled: nothing pending any more, so every reconfigure of this failure has been logged.
      await pollUntil(
        async () => {
          const bird = birdOf(await this.status.view(), 4);
          return isSettled(bird) && bird.prefixes.length === 1 ? true : undefined;
        },
        { what: 'the IPv4 reconciler to settle on the dummy alone', timeoutMs: 30_000 },
      );
      const after = d.lines.slice(from);
      const unexpectedUp = after.filter(isUp);
      if (unexpectedUp.length > 0) throw new Error(`services came back UP during the case:\n${unexpectedUp.map((l) => l.raw).join('\n')}`);
      return {
        bed: bedLabel,
        services,
        mode,
        trigger,
        removedAt,
        pollIntervalMs: POLL_INTERVAL_MS,
        configureMs,
        startupSeconds,
        watchdogRestarts: this.watchdogRestarts,
        decisions: after.filter(isDown).map(wallOf),
        peerEmptyAt: peerEmptyAt ?? Number.NaN,
        reconfigures: after.filter(isReconfigure).map(wallOf),
        reconfigured: after.filter(isReconfigured).map(wallOf),
      };
    } finally {
      polling = false;
      await poller;
    }
  }

  /** The operator's `birdc configure` of the busy trigger: BIRD's answer. */
  busyAnswer: string | undefined;

  /** Daemon log lines since `from` that say BIRD accepted a configuration to apply in the background. */
  inBackground(from: number): number {
    return this.d.lines
      .slice(from)
      .filter((l) => (l.message ?? '').startsWith('BIRD accepted the configuration and applies it in the background')).length;
  }

  /** Make every service healthy again (and put the static routes back after the busy trigger). */
  async restore(): Promise<void> {
    writeFileSync(this.shared, '');
    if (this.busyAnswer !== undefined && this.input.staticFile !== undefined) {
      writeStaticRoutes(this.input.staticFile, this.input.staticRoutes);
      await timedConfigure(this.input.bed);
      this.busyAnswer = undefined;
    }
  }

  async stop(): Promise<void> {
    this.status.close();
    if (!this.d.hasExited) await this.d.stop('SIGTERM', 30_000).catch(() => undefined);
  }
}

interface CaseFailure {
  readonly bed: string;
  readonly services: number;
  readonly mode: Mode;
  readonly triggers: readonly Trigger[];
  readonly reason: string;
}

/** All triggers against one daemon: up, configure baseline, fail all, measure, restore, next. */
async function runDaemonCases(
  input: DaemonInput,
  triggers: readonly Trigger[],
  startTimeoutMs: number,
  results: CoalesceResult[],
): Promise<void> {
  const peer = await BirdControl.open(input.bed.peerSocket);
  const daemon = new BenchDaemon(input, peer);
  const withTail = (e: Error): never => {
    throw new Error(`${e.message}\n${daemon.d.tail(15)}`);
  };
  try {
    await daemon.waitAllUp(startTimeoutMs).catch(withTail);
    const startupSeconds = (performance.now() - daemon.spawnedAt) / 1000;
    for (const trigger of triggers) {
      process.stdout.write(
        `- ${input.bedLabel}, ${input.services} services, worker_threads = ${input.mode}, ${trigger} (up after ${startupSeconds.toFixed(1)} s) ...\n`,
      );
      await daemon.waitAllUp(startTimeoutMs).catch(withTail);
      // One `birdc configure` with N prefixes in the file, measured now, beside the running daemon.
      const samples: ConfigureSample[] = [];
      for (let i = 0; i < CONFIGURE_SAMPLES; i += 1) samples.push(await timedConfigure(input.bed));
      const configureMs = samples.map((c) => c.doneMs);
      const answers = [...new Set(samples.map((c) => c.answer))].join('; ');
      process.stdout.write(
        `  bare birdc configure: answer ${answers}; reply after ${medianOf(samples.map((c) => c.replyMs)).toFixed(1)} ms, ` +
          `in effect (BIRD logged "Reconfigured") after ${medianOf(configureMs).toFixed(1)} ms (medians of ${samples.length})\n`,
      );
      configureAnswers.push({ bed: input.bedLabel, services: input.services, samples });
      await daemon.waitAllUp(30_000).catch(withTail);
      const from = daemon.d.lines.length;
      const measured = await daemon.measure(trigger, configureMs, startupSeconds, input.bedLabel).catch(withTail);
      // A BIRD that died also empties the peer: that is no withdrawal, and the case is not measured.
      const alive = await input.bed.nodeBirdc(['show', 'status']).catch((e: Error) => ({ stdout: e.message }));
      if (!/Daemon is up and running|Reconfiguration in progress/.test(alive.stdout)) {
        const tail = input.bed.birdLog('node').split('\n').slice(-8).join('\n');
        throw new Error(
          `the node's BIRD died during the ${trigger} case (the peer lost the routes with it): ${alive.stdout.trim()}\n${tail}`,
        );
      }
      const result = judge(measured);
      results.push(result);
      process.stdout.write(progressLine(result));
      const background = daemon.inBackground(from);
      if (daemon.busyAnswer !== undefined || background > 0) {
        process.stdout.write(
          `  ${daemon.busyAnswer === undefined ? '' : `operator's configure just before: ${daemon.busyAnswer}; `}` +
            `daemon logged "applies it in the background" ${background} times\n`,
        );
      }
      busyNotes.push({
        bed: input.bedLabel,
        services: input.services,
        trigger,
        operatorAnswer: daemon.busyAnswer ?? null,
        inBackground: background,
      });
      await daemon.restore();
    }
  } finally {
    peer.close();
    await daemon.stop();
  }
}

function progressLine(r: CoalesceResult): string {
  return (
    `  decisions spread over ${r.spreadMs} ms (p50 +${r.p50OffsetMs} ms, p90 +${r.p90OffsetMs} ms, ${r.clusters} clusters); ` +
    `daemon's reconfigures took ${r.daemonReconfigureMedianMs} ms (median); ` +
    `peer empty ${r.goneAfterLastDecisionMs} ms after the last one (target ${r.targetGoneMs.toFixed(0)} ms: ${r.goneVerdict}); ` +
    `${r.reconfigures.length} reconfigures (${r.reconfigureVerdict}); birdc configure median ${r.configureMedianMs.toFixed(1)} ms\n`
  );
}

function writeResult(report: Record<string, unknown>): void {
  mkdirSync(dirname(RESULT_FILE), { recursive: true });
  writeFileSync(RESULT_FILE, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nresults written to ${RESULT_FILE}\n`);
}

interface BedSpec {
  readonly major: 2 | 3;
  readonly staticRoutes: number;
}

/** `bird2`, `bird3`, `bird2-300k`, `bird3-300000`: the BIRD build and how many static routes. */
function parseBed(text: string): BedSpec {
  const m = /^bird([23])(?:-(\d+)(k?))?$/.exec(text);
  if (m === null) throw new Error(`BENCH_COALESCE_BEDS: unknown bed ${text} (e.g. bird2, bird3-300k)`);
  return { major: m[1] === '3' ? 3 : 2, staticRoutes: m[2] === undefined ? 0 : Number(m[2]) * (m[3] === 'k' ? 1000 : 1) };
}

/** One BIRD pair (build + static routes) and every daemon case on it; returns the next case index. */
async function runBed(
  spec: { readonly binaries: BirdBinaries; readonly label: string; readonly staticRoutes: number },
  counts: readonly number[],
  modes: readonly Mode[],
  triggers: readonly Trigger[],
  startTimeoutMs: number,
  results: CoalesceResult[],
  failures: CaseFailure[],
  firstIndex: number,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), `ahc-coal-${process.pid}-`));
  const staticFile = join(dir, 'static-routes.conf');
  if (spec.staticRoutes > 0) writeStaticRoutes(staticFile, spec.staticRoutes);
  const bedStarted = performance.now();
  const bed = await createBirdPair({
    id: 'coal',
    binaries: spec.binaries,
    prefixFile4: join(dir, 'anycast-prefixes.conf'),
    prefixFile6: join(dir, '6', 'anycast-prefixes.conf'),
    ...(spec.staticRoutes > 0 ? { nodeExtraConfig: `include "${staticFile}";` } : {}),
    establishTimeoutMs: 120_000,
  });
  let index = firstIndex;
  // `busy` needs static routes to drop; on the other beds it is left out.
  const bedTriggers = triggers.filter((t) => t !== 'busy' || spec.staticRoutes > 0);
  try {
    await addAddresses(bed, dir, Math.max(...counts));
    process.stdout.write(
      `coalesce benchmark, ${spec.label} (up after ${((performance.now() - bedStarted) / 1000).toFixed(1)} s): node ${process.version}, ` +
        `${counts.join('/')} services x worker_threads ${modes.map(modeLabel).join(', ')} ` +
        `x trigger ${bedTriggers.join(', ')}; check_interval 1 s, rise 1, fail 1, one shared health file; ${cpus().length} CPUs, ` +
        `load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}\n`,
    );
    for (const services of counts) {
      for (const mode of modes) {
        index += 1;
        const done = results.length;
        try {
          const input = {
            bed,
            bedLabel: spec.label,
            dir,
            services,
            mode,
            index,
            staticRoutes: spec.staticRoutes,
            ...(spec.staticRoutes > 0 ? { staticFile } : {}),
          };
          await runDaemonCases(input, bedTriggers, startTimeoutMs, results);
        } catch (error) {
          const missing = bedTriggers.slice(results.length - done);
          // Why BIRD itself may be gone (e.g. it crashed): the end of the node BIRD's log.
          const birdTail = bed.birdLog('node').split('\n').slice(-25).join('\n');
          const reason = `${(error as Error).message}\nnode BIRD log, last lines:\n${birdTail}`;
          failures.push({ bed: spec.label, services, mode, triggers: missing, reason: reason.split('\n')[0] ?? reason });
          process.stdout.write(`  NOT MEASURED (${missing.join(', ')}): ${reason}\n`);
        }
      }
    }
  } finally {
    await bed.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return index;
}

async function main(): Promise<void> {
  const reason =
    requireNetnsSupport() ?? (existsSync(DAEMON_BUNDLE) ? null : `${DAEMON_BUNDLE} is missing; build the daemon first (pnpm run build)`);
  if (reason !== null) {
    process.stdout.write(`coalesce benchmark skipped: ${reason}\n`);
    writeResult({ skipped: reason, finishedAt: new Date().toISOString() });
    return;
  }
  const counts = listSetting('BENCH_COALESCE_SERVICES', '50,200', Number);
  const modes = listSetting<Mode>('BENCH_COALESCE_MODES', '2,per-service', (s) => (s === 'per-service' ? s : Number(s)));
  const triggers = listSetting<Trigger>('BENCH_COALESCE_TRIGGERS', 'tick,sigurg,busy', (s) => {
    if (s !== 'tick' && s !== 'sigurg' && s !== 'busy') throw new Error(`BENCH_COALESCE_TRIGGERS: unknown trigger ${s}`);
    return s;
  });
  const startTimeoutMs = Number(process.env.BENCH_COALESCE_START_S ?? '120') * 1000;
  const routerCounts = listSetting('BENCH_COALESCE_ROUTER_SERVICES', '50', Number);
  const routerModes = listSetting<Mode>('BENCH_COALESCE_ROUTER_MODES', '2', (s) => (s === 'per-service' ? s : Number(s)));
  const beds = listSetting('BENCH_COALESCE_BEDS', 'bird2,bird2-300k,bird3,bird3-300k', parseBed);
  const results: CoalesceResult[] = [];
  const failures: CaseFailure[] = [];
  const skippedBeds: string[] = [];
  let index = 0;
  for (const bedSpec of beds) {
    const binaries = bedSpec.major === 2 ? BIRD2 : bird3Binaries(REPO_ROOT);
    const label = `${bedSpec.major === 2 ? 'BIRD 2' : 'BIRD 3'}${bedSpec.staticRoutes > 0 ? ` + ${bedSpec.staticRoutes} static` : ''}`;
    if (typeof binaries === 'string') {
      skippedBeds.push(`${label}: skipped, ${binaries}`);
      process.stdout.write(`${label}: skipped, ${binaries}\n`);
      continue;
    }
    // The plain BIRD 2 bed runs the full matrix; the others the router cases (50 services, 2 threads).
    const plain = bedSpec.major === 2 && bedSpec.staticRoutes === 0;
    const bedCounts = plain ? counts : routerCounts;
    const bedModes = plain ? modes : routerModes;
    index = await runBed(
      { binaries, label, staticRoutes: bedSpec.staticRoutes },
      bedCounts,
      bedModes,
      triggers,
      startTimeoutMs,
      results,
      failures,
      index,
    );
  }
  process.stdout.write(`\n${formatCoalesceReport(results)}\n`);
  for (const line of skippedBeds) process.stdout.write(`\n${line}\n`);
  for (const f of failures) {
    process.stdout.write(
      `\nnot measured: ${f.bed}, ${f.services} services, worker_threads = ${f.mode}, ${f.triggers.join(', ')}: ${f.reason}\n`,
    );
  }
  writeResult({
    node: process.version,
    cpus: cpus().length,
    loadavg: loadavg(),
    finishedAt: new Date().toISOString(),
    pollIntervalMs: POLL_INTERVAL_MS,
    results,
    configureAnswers,
    busyNotes,
    skippedBeds,
    notMeasured: failures,
  });
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`coalesce benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
