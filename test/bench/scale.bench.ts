// 1000 services with `worker_threads = 2`, `check_interval = 5`, the IP check on (the prefixes are
// on `lo` of a network namespace of this run), next to 100 services configured the same way in
// the same run. Each check is a tiny program that appends CLOCK_MONOTONIC to a file of its
// service and fails while the service's health file is missing, so lateness is measured from
// outside the daemon: the gaps between a service's consecutive check starts minus check_interval.
//
// Measured per case: time from spawn until every prefix is in the BIRD file; over the window (tree
// of the daemon and its long-lived descendants, proc-tree.ts) RSS median and CPU own + reaped
// children; the checks run in the window (from the stamp files) and CPU per check; lateness p50,
// p99 and max; watchdog terminations (log lines). Then, in the 1000 case, one service's health
// file is removed: the time until its prefix leaves the BIRD file. Targets (PASS/MISS): all
// advertised within 30 s, withdrawn within check_fail x check_interval + 1 s, no watchdog
// terminations, tree RSS <= 90 MiB, CPU per check <= 1.0x the 100-service case, lateness p99 <=
// 50 ms.
//
// Environment: BENCH_SECONDS (window per case, default 60), BENCH_SCALE_SERVICES (default
// "100,1000"; the largest is the one that fails a service), BENCH_SETTLE_SECONDS (after all
// prefixes are advertised, default 10), BENCH_SCALE_UP_S (how long to wait for all prefixes before
// measuring anyway, default 90), BENCH_KEEP=1. Needs root and a C compiler (`cc`) for
// the stamp program; without `cc` it falls back to `/bin/sh` + `date +%s%N` (wall clock, two
// execs per check) and says so.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execSync } from '../helpers/exec.js';
import { delay } from '../helpers/poll.js';
import { DAEMON_BUNDLE, DAEMON_ENTRY, resultFile } from './bench-paths.js';
import { launcherNodeFlags } from './launcher-flags.js';
import { clockTicksPerSecond } from './proc-stats.js';
import { measureTree, type TreeWindow } from './proc-tree.js';
import { TreeProcess, createPrefixNamespace, deleteNamespace, intSetting, prefixesListed } from './tree-process.js';

const RESULT_FILE = resultFile('scale');
const INTERVAL_S = 5;
const CHECK_FAIL = 2;
const CHECK_RISE = 2;
const UP_TARGET_S = 30;
const RSS_TARGET_MIB = 90;
const LATENESS_TARGET_MS = 50;
const WATCHDOG = /was terminated by the watchdog/;

const serviceName = (i: number): string => `svc-${String(i + 1).padStart(4, '0')}`;
const servicePrefix = (i: number): string => `10.55.${Math.floor(i / 250)}.${(i % 250) + 1}/32`;
const prefixes = (n: number): string[] => Array.from({ length: n }, (_, i) => servicePrefix(i));

const STAMP_C = `#include <stdio.h>
#include <time.h>
#include <unistd.h>
/* stamp FILE [HEALTH]: append CLOCK_MONOTONIC (s.ns) to FILE; exit 1 when HEALTH is missing. */
int main(int argc, char **argv) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  FILE *f = argc > 1 ? fopen(argv[1], "a") : NULL;
  if (f != NULL) { fprintf(f, "%lld.%09ld\\n", (long long)t.tv_sec, t.tv_nsec); fclose(f); }
  return argc > 2 && access(argv[2], F_OK) != 0 ? 1 : 0;
}
`;

interface Stamper {
  /** check_cmd for a service, given its stamp file and health file. */
  command(stampFile: string, healthFile: string): string;
  /** Seconds on the clock the stamps use, now. */
  now(): number;
  readonly description: string;
}

function makeStamper(dir: string): Stamper {
  const src = join(dir, 'stamp.c');
  const bin = join(dir, 'stamp');
  writeFileSync(src, STAMP_C);
  if (execSync(['cc', '-O2', '-o', bin, src]).code === 0) {
    return {
      command: (s, h) => `${bin} ${s} ${h}`,
      now: () => Number(process.hrtime.bigint()) / 1e9, // libuv's hrtime is CLOCK_MONOTONIC
      description: 'stamp program (cc): CLOCK_MONOTONIC, one exec per check',
    };
  }
  const sh = join(dir, 'stamp.sh');
  writeFileSync(sh, 'date +%s.%N >> "$1"\n[ -e "$2" ]\n');
  return {
    command: (s, h) => `/bin/sh ${sh} ${s} ${h}`,
    now: () => Date.now() / 1000,
    description: 'no cc: /bin/sh + date (wall clock, two execs per check)',
  };
}

interface ScaleResult extends TreeWindow {
  readonly services: number;
  /** null: not all advertised within BENCH_SCALE_UP_S. */
  readonly upSeconds: number | null;
  readonly listedAtEnd: number;
  readonly checksInWindow: number;
  readonly cpuMsPerCheck: number;
  readonly latenessMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly gaps: number };
  readonly watchdogTerminations: number;
  readonly withdrawSeconds: number | null;
  readonly exit: { code: number | null; signal: string | null };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function readStamps(file: string): number[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

async function runCase(
  services: number,
  failOne: boolean,
  root: string,
  ns: string,
  stamper: Stamper,
  seconds: number,
  settle: number,
  ticks: number,
  upLimitS: number,
): Promise<ScaleResult> {
  const dir = join(root, `services-${services}`);
  const servicesDir = join(dir, 'services.d');
  const stamps = join(dir, 'stamps');
  mkdirSync(servicesDir, { recursive: true });
  mkdirSync(stamps, { recursive: true });
  mkdirSync(join(dir, '6'), { recursive: true });
  const birdConf = join(dir, 'anycast-prefixes.conf');
  writeFileSync(
    join(dir, 'ahc.conf'),
    [
      '[daemon]',
      `pidfile = ${join(dir, 'ahc.pid')}`,
      `state_dir = ${join(dir, 'state')}`,
      `bird_conf = ${birdConf}`,
      `bird6_conf = ${join(dir, '6', 'anycast-prefixes.conf')}`,
      'bird_reconfigure_cmd = /bin/echo Reconfigured',
      'bird6_reconfigure_cmd = /bin/echo Reconfigured',
      'loglevel = info',
      'worker_threads = 2',
      '',
    ].join('\n'),
  );
  for (let i = 0; i < services; i += 1) {
    const name = serviceName(i);
    writeFileSync(join(stamps, `${name}.ok`), '');
    writeFileSync(
      join(servicesDir, `${name}.conf`),
      [
        `[${name}]`,
        `check_cmd = ${stamper.command(join(stamps, `${name}.ts`), join(stamps, `${name}.ok`))}`,
        `check_interval = ${INTERVAL_S}`,
        'check_timeout = 2',
        `check_rise = ${CHECK_RISE}`,
        `check_fail = ${CHECK_FAIL}`,
        'check_disabled = false',
        `ip_prefix = ${servicePrefix(i)}`,
        'interface = lo',
        'ip_check_disabled = false',
        '',
      ].join('\n'),
    );
  }
  const all = prefixes(services);
  const argv = [
    'ip',
    'netns',
    'exec',
    ns,
    process.execPath,
    ...launcherNodeFlags(DAEMON_ENTRY),
    DAEMON_ENTRY,
    '-f',
    join(dir, 'ahc.conf'),
    '-d',
    servicesDir,
  ];
  const started = performance.now();
  const p = new TreeProcess(argv, join(dir, 'output.log'));
  try {
    // Not all advertised within upLimitS is a MISS, not the end: the rest is still measured.
    let upSeconds: number | null = null;
    try {
      await p.until(() => prefixesListed(birdConf, all) === services, `all ${services} prefixes in the BIRD file`, upLimitS * 1000);
      upSeconds = (performance.now() - started) / 1000;
      process.stdout.write(`  all ${services} advertised after ${upSeconds.toFixed(1)} s\n`);
    } catch (error) {
      p.alive('before all prefixes were advertised');
      process.stdout.write(
        `  NOT all advertised after ${upLimitS} s: ${prefixesListed(birdConf, all)}/${services} listed (${(error as Error).message})\n`,
      );
    }
    await delay(settle * 1000);
    const from = stamper.now();
    const window = await measureTree(p.pid, seconds, ticks, () => p.alive('during the window'));
    const to = stamper.now();
    let checks = 0;
    const deviations: number[] = [];
    for (let i = 0; i < services; i += 1) {
      const ts = readStamps(join(stamps, `${serviceName(i)}.ts`));
      checks += ts.filter((t) => t >= from && t < to).length;
      // Lateness over the settle period and the window: steady state, startup left out.
      const steady = ts.filter((t) => t >= from - settle && t < to);
      for (let k = 1; k < steady.length; k += 1)
        deviations.push(Math.abs((steady[k] as number) - (steady[k - 1] as number) - INTERVAL_S) * 1000);
    }
    deviations.sort((a, b) => a - b);
    let withdrawSeconds: number | null = null;
    const victim = servicePrefix(0);
    if (failOne && prefixesListed(birdConf, [victim]) === 0) {
      process.stdout.write(`  ${victim} is not advertised: the withdrawal is not measured\n`);
    } else if (failOne) {
      const removedAt = performance.now();
      rmSync(join(stamps, `${serviceName(0)}.ok`));
      await p.until(() => prefixesListed(birdConf, [victim]) === 0, `${victim} to leave the BIRD file`, 60_000, 10);
      withdrawSeconds = (performance.now() - removedAt) / 1000;
      process.stdout.write(`  ${victim} withdrawn ${withdrawSeconds.toFixed(2)} s after its health file was removed\n`);
    }
    const listedAtEnd = prefixesListed(birdConf, all);
    const watchdogTerminations = p
      .log()
      .split('\n')
      .filter((l) => WATCHDOG.test(l)).length;
    const exit = await p.stop();
    return {
      ...window,
      services,
      upSeconds,
      listedAtEnd,
      checksInWindow: checks,
      cpuMsPerCheck: checks === 0 ? Number.NaN : (window.cpuSeconds * 1000) / checks,
      latenessMs: {
        p50: quantile(deviations, 0.5),
        p99: quantile(deviations, 0.99),
        max: deviations.at(-1) ?? Number.NaN,
        gaps: deviations.length,
      },
      watchdogTerminations,
      withdrawSeconds,
      exit,
    };
  } finally {
    await p.stop();
  }
}

const f = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));

async function main(): Promise<void> {
  if (!existsSync(DAEMON_BUNDLE)) throw new Error(`${DAEMON_BUNDLE} is missing; build the daemon first (pnpm run build)`);
  if (process.getuid?.() !== 0) {
    process.stdout.write('scale benchmark skipped: needs root (a network namespace holds the prefixes for the IP check)\n');
    return;
  }
  const seconds = intSetting('BENCH_SECONDS', 60);
  const settle = intSetting('BENCH_SETTLE_SECONDS', 10);
  const upLimitS = intSetting('BENCH_SCALE_UP_S', 90);
  const counts = (process.env['BENCH_SCALE_SERVICES'] ?? '100,1000').split(',').map(Number);
  const largest = Math.max(...counts);
  const root = mkdtempSync(join(tmpdir(), 'ahc-scale-'));
  const ns = `ahc-scale-${process.pid}`;
  const stamper = makeStamper(root);
  const ticks = clockTicksPerSecond();
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  process.stdout.write(
    `scale benchmark: ${counts.join('/')} services, worker_threads = 2, check_interval ${INTERVAL_S} s, IP check on, ` +
      `window ${seconds} s (+${settle} s settle); ${stamper.description}; node ${process.version}, ${cpus().length} CPUs, ` +
      `load average ${load()}, work dir ${root}\n`,
  );
  createPrefixNamespace(ns, prefixes(largest));
  const results: ScaleResult[] = [];
  try {
    for (const n of counts) {
      process.stdout.write(`- ${n} services ...\n`);
      results.push(await runCase(n, n === largest, root, ns, stamper, seconds, settle, ticks, upLimitS));
    }
  } finally {
    deleteNamespace(ns);
  }
  if (process.env['BENCH_KEEP'] !== '1') rmSync(root, { recursive: true, force: true });
  const lines = [
    '| services | up s | listed at end | RSS med MiB | CPU own + children s/min | checks in window | CPU ms/check | lateness p50 / p99 / max ms | watchdog terminations | withdrawn after s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.services} | ${r.upSeconds === null ? `> ${upLimitS}` : f(r.upSeconds, 1)} | ${r.listedAtEnd}/${r.services} | ${f(r.rssMedianMiB, 1)} | ${f(r.ownCpuPerMin)} + ${f(r.childCpuPerMin)} = ${f(r.totalCpuPerMin)} | ` +
        `${r.checksInWindow} | ${f(r.cpuMsPerCheck, 3)} | ${f(r.latenessMs.p50, 1)} / ${f(r.latenessMs.p99, 1)} / ${f(r.latenessMs.max, 1)} | ` +
        `${r.watchdogTerminations} | ${f(r.withdrawSeconds)} |`,
    ),
  ];
  const big = results.find((r) => r.services === largest);
  const small = results.find((r) => r.services !== largest);
  const judge = (
    value: number | null | undefined,
    limit: number,
    target: string,
  ): { target: string; value: number | null; limit: number; verdict: string } => {
    const v = value === undefined || value === null || Number.isNaN(value) ? null : value;
    return { target, value: v, limit, verdict: v === null ? 'NOT RUN' : v <= limit ? 'PASS' : 'MISS' };
  };
  const verdicts = [
    judge(big === undefined ? null : (big.upSeconds ?? Number.POSITIVE_INFINITY), UP_TARGET_S, `${largest}: all advertised after start, s`),
    judge(big?.withdrawSeconds, CHECK_FAIL * INTERVAL_S + 1, `${largest}: failed service withdrawn after, s`),
    judge(big?.watchdogTerminations, 0, `${largest}: watchdog terminations`),
    judge(big?.rssMedianMiB, RSS_TARGET_MIB, `${largest}: tree RSS median, MiB`),
    judge(
      big !== undefined && small !== undefined ? big.cpuMsPerCheck / small.cpuMsPerCheck : null,
      1.0,
      `${largest}: CPU per check / ${small?.services ?? '-'} services'`,
    ),
    judge(big?.latenessMs.p99, LATENESS_TARGET_MS, `${largest}: check lateness p99, ms`),
  ];
  lines.push('', ...verdicts.map((v) => `${v.verdict.padEnd(7)} ${v.target}: ${f(v.value)} (limit ${f(v.limit)})`));
  process.stdout.write(`\n${lines.join('\n')}\nload average at the end ${load()}\n`);
  mkdirSync(dirname(RESULT_FILE), { recursive: true });
  writeFileSync(
    RESULT_FILE,
    `${JSON.stringify({ node: process.version, seconds, settle, stamper: stamper.description, cpus: cpus().length, finishedAt: new Date().toISOString(), results, verdicts }, null, 2)}\n`,
  );
  process.stdout.write(`\nresults written to ${RESULT_FILE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`scale benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
