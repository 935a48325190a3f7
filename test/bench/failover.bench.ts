// Failure -> route gone at a real BGP peer, ours next to the Python anycast-healthchecker 0.9.10
// in the same run: one service, check_interval 0.5 s, rise 1, fail 1, on the namespace test bed
// (node BIRD exporting to a peer over BGP, test/helpers/bird-pair.ts). The node's BIRD also
// originates the service prefix from a static route, so when the address leaves `lo` (and BIRD's
// direct route with it) the static route is still exported: only the daemon's withdrawal (the
// prefix leaving the prefix list) removes the route at the peer.
//
// Two kinds of samples per daemon, at phases of the check interval spread evenly over it, in a
// random order (stratified: a daemon's wait for its next check then averages out to half an
// interval in every run, instead of depending on where a handful of random draws fell, so the
// median compares what the daemons add, not the luck of the draw):
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
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createBirdPair, requireNetnsSupport, type BirdPair } from '../helpers/bird-pair.js';
import { BirdControl, networkCount } from '../helpers/bird-control.js';
import { BIRD2, bird3Binaries } from '../helpers/birdc.js';
import { DaemonProcess, daemonBin, writeDaemonConfig, writeServiceFiles } from '../helpers/daemon-process.js';
import { delay, median } from '../helpers/poll.js';
import { DAEMON_BUNDLE, REPO_ROOT, resultFile } from './bench-paths.js';
import { intSetting } from './tree-process.js';

const RESULT_FILE = resultFile('failover');
const BIN = daemonBin(REPO_ROOT);
const PREFIX = '10.56.0.1/32';
const INTERVAL_S = 0.5;
const POLL_MS = 5;
const ADDRESS_MEDIAN_TARGET_MS = 100;

type Kind = 'health' | 'address';

interface DaemonResult {
  readonly daemon: string;
  readonly health: readonly number[];
  readonly address: readonly number[];
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
  try {
    await peerCountIs(peer, 1, 60_000).catch(withTail);
    for (const kind of ['health', 'address'] as const) {
      for (const phase of evenPhases(samples[kind])) {
        // The sample's phase of the check interval, after the route has been back for a while.
        await delay(300 + phase * INTERVAL_S * 1000);
        if (d.hasExited) withTail(new Error('the daemon exited'));
        const started = performance.now();
        if (kind === 'health') rmSync(health);
        else await bed.delAddress(PREFIX);
        const goneAt = await peerCountIs(peer, 0, 10_000).catch(withTail);
        result[kind].push(goneAt - started);
        if (kind === 'health') writeFileSync(health, '');
        else await bed.addAddress(PREFIX);
        await peerCountIs(peer, 1, 10_000).catch(withTail);
      }
      process.stdout.write(
        `  ${label}, ${kind}: median ${median(result[kind]).toFixed(0)} ms, max ${Math.max(...result[kind]).toFixed(0)} ms ` +
          `(${result[kind].map((v) => v.toFixed(0)).join(' ')})\n`,
      );
    }
  } finally {
    if (!d.hasExited) await d.stop('SIGTERM', 20_000).catch(() => undefined);
  }
  return { daemon: label, ...result };
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
      writeServiceFiles(files.servicesDir, [
        {
          name: 'svc',
          ipPrefix: PREFIX,
          checkCmd: `/usr/bin/test -e ${join(caseDir, 'svc.healthy')}`,
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
    '| ms until the peer lost the route | health file removed: median / max | address removed: median / max |',
    '| --- | --- | --- |',
  ];
  for (const r of results) {
    const h = stat(r.health);
    const a = stat(r.address);
    lines.push(`| ${r.daemon} | ${f(h?.median)} / ${f(h?.max)} | ${f(a?.median)} / ${f(a?.max)} |`);
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
