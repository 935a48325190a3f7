// Failure -> route gone at a real BGP peer, ours next to the Python anycast-healthchecker 0.9.10
// in the same run: one service, check_interval 0.5 s, rise 1, fail 1, on the namespace test bed
// (node BIRD exporting to a peer over BGP, test/helpers/bird-pair.ts). The node's BIRD also
// originates the service prefix from a static route, so when the address leaves `lo` (and BIRD's
// direct route with it) the static route is still exported: only the daemon's withdrawal (the
// prefix leaving the prefix list) removes the route at the peer.
//
// Two kinds of samples per daemon, at phases of the check interval spread evenly over it, in a
// random order, and anchored to the daemon's own checks: the check command is a script that
// touches a file before it tests the health file, and the bench watches that file (inotify), so it
// knows when each check starts. A sample's removal is then placed at the chosen phase after a
// check start. (Anchored to the route's return at the peer instead, the wait for the next check
// grew by exactly what a daemon saved on the way back, and the comparison measured nothing.)
// So both daemons get the same waits, and the split of every sample is printed: the wait for the
// next check, and the daemon's own share from that check's start to the route gone at the peer.
//   health: the service's health file is removed; time until the peer's table lacks the route.
//   address: the prefix is removed from the interface (the IP check); same measurement.
// The peer is polled every POLL_MS over one control-socket connection (`show route count`).
// Targets (PASS/MISS): ours median and max <= 1.0x Python's for both kinds; address removed,
// ours median <= 100 ms.
//
// Environment: BENCH_FAILOVER_SAMPLES (health samples per daemon, default 40),
// BENCH_FAILOVER_ADDRESS_SAMPLES (default 20), BENCH_FAILOVER_MODE (ours: worker_threads,
// default per-service), BENCH_FAILOVER_BIRD (2 or 3, default 2), AHC_BENCH_PYTHON (as in
// cost.bench.ts; unset: Python skipped with the reason printed).
import { existsSync, mkdirSync, mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createBirdPair, requireNetnsSupport, type BirdPair } from '../helpers/bird-pair.js';
import { BirdControl, networkCount } from '../helpers/bird-control.js';
import { BIRD2, bird3Binaries } from '../helpers/birdc.js';
import { DaemonProcess, daemonBin, writeDaemonConfig, writeServiceFiles } from '../helpers/daemon-process.js';
import { delay, median, pollUntil } from '../helpers/poll.js';
import { DAEMON_BUNDLE, REPO_ROOT, resultFile } from './bench-paths.js';
import { intSetting } from './tree-process.js';

const RESULT_FILE = resultFile('failover');
const BIN = daemonBin(REPO_ROOT);
const PREFIX = '10.56.0.1/32';
const INTERVAL_S = 0.5;
const POLL_MS = 2;
const ADDRESS_MEDIAN_TARGET_MS = 100;

type Kind = 'health' | 'address';

interface DaemonResult {
  readonly daemon: string;
  readonly health: readonly number[];
  readonly address: readonly number[];
  /** Per sample: from the removal to the start of the daemon's next check (health only). */
  readonly healthWait: readonly number[];
  /** Per sample: from that check's start to the route gone at the peer (health only). */
  readonly healthOwn: readonly number[];
}

/** The file the check script touches before it tests the health file. */
const checkScript = (dir: string): string =>
  `#!/bin/sh\n: > ${join(dir, 'check.ran')}\nexec /usr/bin/test -e ${join(dir, 'svc.healthy')}\n`;

/** Check starts, as performance.now(), from inotify events on the file the check script touches. */
class CheckStarts {
  readonly starts: number[] = [];
  private readonly watcher;
  constructor(file: string) {
    writeFileSync(file, '');
    this.watcher = watch(file, () => {
      const now = performance.now();
      // One check can raise more than one event (open with O_TRUNC, then the write's close).
      const last = this.starts.at(-1);
      if (last === undefined || now - last > 50) this.starts.push(now);
    });
  }
  /** The first check start at or after `t`. */
  firstAfter(t: number): number | undefined {
    return this.starts.find((s) => s >= t);
  }
  close(): void {
    this.watcher.close();
  }
}

/** Resolves to performance.now() of the first poll that finds the peer's master4 with `want` networks. */
async function peerCountIs(peer: BirdControl, want: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const at = performance.now();
    if ((await networkCount(peer, 'master4')) === want) return performance.now();
    if (at > deadline) throw new Error(`the peer did not get to ${want} routes within ${timeoutMs} ms`);
    await delay(Math.max(0, at + POLL_MS - performance.now()));
  }
}

/** `n` phases in [0, 1), one in the middle of each of n equal slices, shuffled. */
function evenPhases(n: number): number[] {
  const phases = Array.from({ length: n }, (_, i) => (i + 0.5) / n);
  for (let i = phases.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [phases[i], phases[j]] = [phases[j] ?? 0, phases[i] ?? 0];
  }
  return phases;
}

async function runDaemon(
  label: string,
  argv: readonly string[],
  bed: BirdPair,
  peer: BirdControl,
  dir: string,
  samples: { health: number; address: number },
): Promise<DaemonResult> {
  const health = join(dir, 'svc.healthy');
  writeFileSync(health, '');
  const d = new DaemonProcess(bed.execInNode(argv));
  const withTail = (e: Error): never => {
    throw new Error(`${label}: ${e.message}\n${d.tail(20)}`);
  };
  const result: Record<Kind, number[]> = { health: [], address: [] };
  const healthWait: number[] = [];
  const healthOwn: number[] = [];
  const checks = new CheckStarts(join(dir, 'check.ran'));
  const intervalMs = INTERVAL_S * 1000;
  try {
    await peerCountIs(peer, 1, 60_000).catch(withTail);
    // The route may still be at the peer from the daemon before (a stopped daemon leaves its
    // prefix list as it was): wait for this daemon's first check too.
    await pollUntil(async () => checks.starts.at(-1), { what: `${label}'s first check`, timeoutMs: 60_000 }).catch(withTail);
    for (const kind of ['health', 'address'] as const) {
      for (const phase of evenPhases(samples[kind])) {
        // The sample's phase after one of the daemon's check starts, at least 300 ms after the
        // route came back. Both daemons keep their checks on a fixed grid, so the last start
        // seen predicts the next ones.
        const earliest = performance.now() + 300;
        let at = (checks.starts.at(-1) ?? 0) + phase * intervalMs;
        while (at < earliest) at += intervalMs;
        await delay(at - performance.now());
        if (d.hasExited) withTail(new Error('the daemon exited'));
        const started = performance.now();
        if (kind === 'health') rmSync(health);
        else await bed.delAddress(PREFIX);
        const goneAt = await peerCountIs(peer, 0, 10_000).catch(withTail);
        result[kind].push(goneAt - started);
        if (kind === 'health') {
          const check = checks.firstAfter(started);
          if (check !== undefined && check <= goneAt) {
            healthWait.push(check - started);
            healthOwn.push(goneAt - check);
          }
          writeFileSync(health, '');
        } else await bed.addAddress(PREFIX);
        await peerCountIs(peer, 1, 10_000).catch(withTail);
      }
      process.stdout.write(
        `  ${label}, ${kind}: median ${median(result[kind]).toFixed(0)} ms, max ${Math.max(...result[kind]).toFixed(0)} ms ` +
          `(${result[kind].map((v) => v.toFixed(0)).join(' ')})\n`,
      );
      if (kind === 'health' && healthOwn.length > 0) {
        process.stdout.write(
          `  ${label}, health split: wait for the next check median ${median(healthWait).toFixed(1)} / max ${Math.max(...healthWait).toFixed(1)} ms; ` +
            `its start -> route gone at the peer median ${median(healthOwn).toFixed(1)} / max ${Math.max(...healthOwn).toFixed(1)} ms ` +
            `(${healthOwn.map((v) => v.toFixed(1)).join(' ')})\n`,
        );
      }
    }
  } finally {
    checks.close();
    if (!d.hasExited) await d.stop('SIGTERM', 20_000).catch(() => undefined);
  }
  return { daemon: label, ...result, healthWait, healthOwn };
}

const f = (v: number | null | undefined, d = 0): string => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));

async function main(): Promise<void> {
  const reason =
    requireNetnsSupport() ?? (existsSync(DAEMON_BUNDLE) ? null : `${DAEMON_BUNDLE} is missing; build the daemon first (pnpm run build)`);
  if (reason !== null) {
    process.stdout.write(`failover benchmark skipped: ${reason}\n`);
    return;
  }
  const samples = { health: intSetting('BENCH_FAILOVER_SAMPLES', 40), address: intSetting('BENCH_FAILOVER_ADDRESS_SAMPLES', 20) };
  const mode = process.env['BENCH_FAILOVER_MODE'] ?? 'per-service';
  const binaries = process.env['BENCH_FAILOVER_BIRD'] === '3' ? bird3Binaries(REPO_ROOT) : BIRD2;
  if (typeof binaries === 'string') throw new Error(`BENCH_FAILOVER_BIRD=3: ${binaries}`);
  const pythonText = (process.env['AHC_BENCH_PYTHON'] ?? '').trim();
  const python = pythonText === '' ? null : pythonText.split(/\s+/);
  const dir = mkdtempSync(join(tmpdir(), `ahc-fo-${process.pid}-`));
  const bed = await createBirdPair({
    id: 'fo',
    binaries,
    prefixFile4: join(dir, 'anycast-prefixes.conf'),
    prefixFile6: join(dir, '6', 'anycast-prefixes.conf'),
    // A route independent of lo; the daemon's prefix list alone decides whether it is exported.
    nodeExtraConfig: `protocol static anycast4 {\n    ipv4;\n    route ${PREFIX} blackhole;\n}`,
  });
  const results: DaemonResult[] = [];
  const peer = await BirdControl.open(bed.peerSocket);
  try {
    await bed.addAddress(PREFIX);
    process.stdout.write(
      `failover benchmark: ${binaries.label}, one service, check_interval ${INTERVAL_S} s, rise 1, fail 1; ` +
        `${samples.health} health + ${samples.address} address samples per daemon; peer polled every ${POLL_MS} ms; ` +
        `node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}\n` +
        (python === null ? 'Python skipped: AHC_BENCH_PYTHON is not set\n' : `Python: ${pythonText}\n`),
    );
    const daemons: Array<{ label: string; program: readonly string[]; extra: Record<string, string> }> = [
      { label: `ours (worker_threads = ${mode})`, program: [BIN], extra: { worker_threads: mode } },
    ];
    if (python !== null) daemons.unshift({ label: 'Python 0.9.10', program: python, extra: {} });
    for (const [i, spec] of daemons.entries()) {
      const caseDir = join(dir, `case-${i}`);
      mkdirSync(caseDir, { recursive: true });
      const files = writeDaemonConfig({
        dir: caseDir,
        prefixFile4: bed.prefixFile4,
        prefixFile6: bed.prefixFile6,
        reconfigureCommand: bed.nodeReconfigureCommand,
        loglevel: 'info',
        extra: spec.extra,
      });
      const script = join(caseDir, 'check.sh');
      writeFileSync(script, checkScript(caseDir), { mode: 0o755 });
      writeServiceFiles(files.servicesDir, [
        {
          name: 'svc',
          ipPrefix: PREFIX,
          checkCmd: script,
          checkInterval: INTERVAL_S,
          checkTimeout: 0.4,
          checkRise: 1,
          checkFail: 1,
        },
      ]);
      process.stdout.write(`- ${spec.label} ...\n`);
      results.push(
        await runDaemon(spec.label, [...spec.program, '-f', files.confFile, '-d', files.servicesDir], bed, peer, caseDir, samples),
      );
    }
  } finally {
    peer.close();
    await bed.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  const py = results.find((r) => r.daemon.startsWith('Python'));
  const ours = results.find((r) => r.daemon.startsWith('ours'));
  const stat = (v: readonly number[] | undefined): { median: number; max: number } | null =>
    v === undefined || v.length === 0 ? null : { median: median(v), max: Math.max(...v) };
  const lines = [
    '| ms until the peer lost the route | health file removed: median / max | of which the check start -> gone: median / max | address removed: median / max |',
    '| --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const h = stat(r.health);
    const a = stat(r.address);
    const own = stat(r.healthOwn);
    lines.push(
      `| ${r.daemon} | ${f(h?.median)} / ${f(h?.max)} | ${f(own?.median, 1)} / ${f(own?.max, 1)} | ${f(a?.median)} / ${f(a?.max)} |`,
    );
  }
  const verdicts: Array<{ target: string; value: number | null; limit: number; verdict: string }> = [];
  const judge = (target: string, value: number | null, limit: number): void => {
    verdicts.push({
      target,
      value,
      limit,
      verdict: value === null || !Number.isFinite(value) ? 'NOT RUN' : value <= limit ? 'PASS' : 'MISS',
    });
  };
  for (const kind of ['health', 'address'] as const) {
    const o = stat(ours?.[kind]);
    const p = stat(py?.[kind]);
    judge(`${kind}: ours / Python, median`, o === null || p === null ? null : o.median / p.median, 1.0);
    judge(`${kind}: ours / Python, max`, o === null || p === null ? null : o.max / p.max, 1.0);
  }
  judge('address: ours median, ms', stat(ours?.address)?.median ?? null, ADDRESS_MEDIAN_TARGET_MS);
  lines.push('', ...verdicts.map((v) => `${v.verdict.padEnd(7)} ${v.target}: ${f(v.value, 2)} (limit ${v.limit})`));
  // Not a target: what each daemon adds once its check has started, without the wait for it.
  const ownOurs = stat(ours?.healthOwn);
  const ownPy = stat(py?.healthOwn);
  if (ownOurs !== null && ownPy !== null)
    lines.push(
      `info    health, check start -> route gone: ours / Python, median ${f(ownOurs.median / ownPy.median, 2)} ` +
        `(${f(ownOurs.median, 1)} / ${f(ownPy.median, 1)} ms)`,
    );
  process.stdout.write(`\n${lines.join('\n')}\n`);
  mkdirSync(dirname(RESULT_FILE), { recursive: true });
  writeFileSync(
    RESULT_FILE,
    `${JSON.stringify({ node: process.version, bird: binaries.label, python: pythonText, samples, finishedAt: new Date().toISOString(), results, verdicts }, null, 2)}\n`,
  );
  process.stdout.write(`\nresults written to ${RESULT_FILE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`failover benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
