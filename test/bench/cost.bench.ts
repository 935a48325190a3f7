// What the daemon costs next to the Python anycast-healthchecker 0.9.10 it replaces, and next to
// what the runtime itself costs, all in one run: 10 and 100 services running `/bin/true` every
// second with the IP check on (the prefixes are on `lo` of a network namespace of this run), for
// Python, ours per-service and ours with `worker_threads = 2` (and at 100 services once more with
// `release_startup_pages = false`, to show what releasing node's start-up pages saves); plus four floors: a bare idle
// node, a node with FLOOR_WORKERS idle worker threads (MiB per worker), a node with 2 idle
// workers (the runtime's own share of `worker_threads = 2`: main thread and two isolates) and a
// node spawning `/bin/true` 100 times a second (CPU of a spawn loop). CPU and RSS count the whole process
// tree: the daemon and its long-lived descendants (proc-tree.ts), CPU split into own and reaped
// children. Cases run one after another. See README.md here for the targets.
//
// Environment: BENCH_SECONDS (window per case, default 60), BENCH_CASES (comma-separated ids),
// BENCH_SETTLE_SECONDS (wait after all prefixes are advertised, default 10), BENCH_KEEP=1,
// AHC_BENCH_PYTHON (command that starts the Python daemon, e.g. "python3 -m
// anycast_healthchecker.main" with PYTHONPATH set by the caller; `-f FILE -d DIR` is appended;
// unset: the Python cases are skipped with the reason printed).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { delay } from '../helpers/poll.js';
import { DAEMON_BUNDLE, DAEMON_ENTRY, resultFile } from './bench-paths.js';
import { launcherNodeFlags } from './launcher-flags.js';
import { clockTicksPerSecond } from './proc-stats.js';
import { measureTree, type TreeWindow } from './proc-tree.js';
import { TreeProcess, createPrefixNamespace, deleteNamespace, intSetting, prefixesListed } from './tree-process.js';

const RESULT_FILE = resultFile('cost');
const FLOOR_WORKERS = 20;
const SPAWNS_PER_SECOND = 100;
const UP_TIMEOUT_MS = 120_000;

type Kind = 'bare-node' | 'worker-floor' | 'pooled-floor' | 'spawn-floor' | 'python' | 'ours';
type Mode = 'per-service' | 2;

interface CostCase {
  readonly id: string;
  readonly label: string;
  readonly kind: Kind;
  readonly services: number;
  readonly mode: Mode | null;
  /** `release_startup_pages = false`: the same daemon with node's start-up pages left mapped. */
  readonly keepPages?: boolean;
}

interface CostResult extends CostCase, TreeWindow {
  readonly upSeconds: number;
  readonly exit: { code: number | null; signal: string | null };
}

function allCases(): CostCase[] {
  const cases: CostCase[] = [
    { id: 'bare-node', label: 'bare idle node', kind: 'bare-node', services: 0, mode: null },
    { id: 'worker-floor', label: `node + ${FLOOR_WORKERS} idle workers`, kind: 'worker-floor', services: 0, mode: null },
    { id: 'pooled-floor', label: 'node + 2 idle workers', kind: 'pooled-floor', services: 0, mode: null },
    { id: 'spawn-floor', label: `node spawning /bin/true ${SPAWNS_PER_SECOND}/s`, kind: 'spawn-floor', services: 0, mode: null },
  ];
  for (const services of [10, 100]) {
    cases.push({ id: `python-${services}`, label: `Python 0.9.10, ${services}`, kind: 'python', services, mode: null });
    cases.push({ id: `per-service-${services}`, label: `ours per-service, ${services}`, kind: 'ours', services, mode: 'per-service' });
    cases.push({ id: `pooled-2-${services}`, label: `ours worker_threads=2, ${services}`, kind: 'ours', services, mode: 2 });
  }
  cases.push({
    id: 'pooled-2-100-kept',
    label: 'ours worker_threads=2, 100, release_startup_pages = false',
    kind: 'ours',
    services: 100,
    mode: 2,
    keepPages: true,
  });
  return cases;
}

const serviceName = (i: number): string => `svc-${String(i + 1).padStart(3, '0')}`;
const servicePrefix = (i: number): string => `10.54.${Math.floor(i / 250)}.${(i % 250) + 1}/32`;
const prefixes = (n: number): string[] => Array.from({ length: n }, (_, i) => servicePrefix(i));

/** The [daemon] and service files; the same for Python and ours (ours is a drop-in). */
function writeConfig(
  dir: string,
  services: number,
  mode: Mode | null,
  keepPages = false,
): { conf: string; servicesDir: string; birdConf: string } {
  const servicesDir = join(dir, 'services.d');
  mkdirSync(servicesDir, { recursive: true });
  const birdConf = join(dir, 'anycast-prefixes.conf');
  const daemon = [
    '[daemon]',
    `pidfile = ${join(dir, 'ahc.pid')}`,
    `state_dir = ${join(dir, 'state')}`,
    `bird_conf = ${birdConf}`,
    `bird6_conf = ${join(dir, '6', 'anycast-prefixes.conf')}`,
    'bird_reconfigure_cmd = /bin/echo Reconfigured',
    'bird6_reconfigure_cmd = /bin/echo Reconfigured',
    'loglevel = info',
    ...(mode === null ? [`log_file = ${join(dir, 'python.log')}`, `stderr_file = ${join(dir, 'python.err')}`] : []),
    ...(mode === null ? [] : [`worker_threads = ${mode}`]),
    ...(keepPages ? ['release_startup_pages = false'] : []),
    '',
  ];
  mkdirSync(join(dir, '6'), { recursive: true });
  writeFileSync(join(dir, 'ahc.conf'), daemon.join('\n'));
  for (let i = 0; i < services; i += 1) {
    const svc = [
      `[${serviceName(i)}]`,
      'check_cmd = /bin/true',
      'check_interval = 1',
      'check_timeout = 1',
      'check_rise = 2',
      'check_fail = 2',
      'check_disabled = false',
      'on_disabled = withdraw',
      `ip_prefix = ${servicePrefix(i)}`,
      'interface = lo',
      'ip_check_disabled = false',
      '',
    ];
    writeFileSync(join(servicesDir, `${serviceName(i)}.conf`), svc.join('\n'));
  }
  return { conf: join(dir, 'ahc.conf'), servicesDir, birdConf };
}

interface Ctx {
  readonly ns: string;
  readonly nodeFlags: readonly string[];
  readonly python: readonly string[] | null;
  readonly seconds: number;
  readonly settle: number;
  readonly ticks: number;
}

/** A node program that starts `n` idle worker threads and idles itself. */
const idleWorkers = (n: number): string =>
  `const {Worker}=require('node:worker_threads');for(let i=0;i<${n};i++)new Worker('setInterval(()=>{},1000)',{eval:true});setInterval(()=>{},1000)`;

function argvFor(c: CostCase, dir: string, ctx: Ctx): { argv: string[]; birdConf: string | null } {
  const node = [process.execPath, ...ctx.nodeFlags];
  switch (c.kind) {
    case 'bare-node':
      return { argv: [...node, '-e', 'setInterval(()=>{},1000)'], birdConf: null };
    case 'worker-floor':
      return { argv: [...node, '-e', idleWorkers(FLOOR_WORKERS)], birdConf: null };
    case 'pooled-floor':
      return { argv: [...node, '-e', idleWorkers(2)], birdConf: null };
    case 'spawn-floor':
      return {
        argv: [
          ...node,
          '-e',
          `const {spawn}=require('node:child_process');setInterval(()=>spawn('/bin/true',{stdio:'ignore'}),${1000 / SPAWNS_PER_SECOND})`,
        ],
        birdConf: null,
      };
    case 'python':
    case 'ours': {
      const { conf, servicesDir, birdConf } = writeConfig(dir, c.services, c.mode, c.keepPages);
      const program = c.kind === 'python' ? [...(ctx.python ?? [])] : [...node, DAEMON_ENTRY];
      // `ip netns exec` execs the program (no fork): the pid we hold is the daemon's.
      return { argv: ['ip', 'netns', 'exec', ctx.ns, ...program, '-f', conf, '-d', servicesDir], birdConf };
    }
  }
}

async function runCase(c: CostCase, root: string, ctx: Ctx): Promise<CostResult> {
  const dir = join(root, c.id);
  mkdirSync(dir, { recursive: true });
  const { argv, birdConf } = argvFor(c, dir, ctx);
  const started = performance.now();
  const p = new TreeProcess(argv, join(dir, 'output.log'));
  try {
    if (birdConf !== null) {
      await p.until(
        () => prefixesListed(birdConf, prefixes(c.services)) === c.services,
        `all ${c.services} prefixes in ${birdConf}`,
        UP_TIMEOUT_MS,
      );
    }
    const upSeconds = (performance.now() - started) / 1000;
    await delay(ctx.settle * 1000);
    p.alive('while settling');
    const window = await measureTree(p.pid, ctx.seconds, ctx.ticks, () => p.alive(`during the window; see ${dir}`));
    if (birdConf !== null && prefixesListed(birdConf, prefixes(c.services)) !== c.services)
      throw new Error(`prefixes were withdrawn during the window; see ${dir}`);
    const exit = await p.stop();
    return { ...c, ...window, upSeconds, exit };
  } finally {
    await p.stop();
  }
}

const f = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a === undefined || b === undefined || b === 0 ? null : a / b;

interface Verdict {
  readonly target: string;
  readonly value: number | null;
  readonly limit: number | null;
  readonly verdict: 'PASS' | 'MISS' | 'NOT RUN';
}

function judge(value: number | null, limit: number | null, target: string): Verdict {
  if (value === null || limit === null) return { target, value, limit, verdict: 'NOT RUN' };
  return { target, value, limit, verdict: value <= limit ? 'PASS' : 'MISS' };
}

function report(
  results: readonly CostResult[],
  pythonSkip: string | null,
): { text: string; verdicts: Verdict[]; derived: Record<string, number | null> } {
  const by = new Map(results.map((r) => [r.id, r]));
  const get = (id: string): CostResult | undefined => by.get(id);
  const bare = get('bare-node');
  const wf = get('worker-floor');
  const sf = get('spawn-floor');
  const pf = get('pooled-floor');
  const perWorker = wf !== undefined && bare !== undefined ? (wf.rssMedianMiB - bare.rssMedianMiB) / FLOOR_WORKERS : null;
  const perExtra = (prefix: string): number | null => {
    const a = get(`${prefix}-10`);
    const b = get(`${prefix}-100`);
    return a === undefined || b === undefined ? null : (b.rssMedianMiB - a.rssMedianMiB) / 90;
  };
  const lines: string[] = [];
  lines.push('| case | processes | up s | RSS med MiB | RSS max | CPU own s/min | CPU children s/min | CPU total s/min |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    lines.push(
      `| ${r.label} | ${r.longLived.length} | ${f(r.upSeconds, 1)} | ${f(r.rssMedianMiB, 1)} | ${f(r.rssMaxMiB, 1)} | ` +
        `${f(r.ownCpuPerMin)} | ${f(r.childCpuPerMin)} | ${f(r.totalCpuPerMin)} |`,
    );
  }
  lines.push('');
  lines.push('Side by side (RSS median MiB / CPU own + children s/min; ratios to Python in brackets):');
  lines.push('| services | Python 0.9.10 | ours, per-service | ours, worker_threads = 2 |');
  lines.push('| --- | --- | --- | --- |');
  for (const n of [10, 100]) {
    const py = get(`python-${n}`);
    const cell = (r: CostResult | undefined): string => {
      if (r === undefined) return 'not run';
      const rr = ratio(r.rssMedianMiB, py?.rssMedianMiB);
      const cr = ratio(r.totalCpuPerMin, py?.totalCpuPerMin);
      const rel = py === undefined || r === py ? '' : ` (${f(rr)}x / ${f(cr)}x)`;
      return `${f(r.rssMedianMiB, 1)} MiB / ${f(r.ownCpuPerMin)} + ${f(r.childCpuPerMin)} = ${f(r.totalCpuPerMin)}${rel}`;
    };
    lines.push(
      `| ${n} | ${py === undefined ? `skipped${pythonSkip === null ? '' : `: ${pythonSkip}`}` : cell(py)} | ${cell(get(`per-service-${n}`))} | ${cell(get(`pooled-2-${n}`))} |`,
    );
  }
  lines.push('');
  const spawnFloorPerCheck = sf === undefined ? null : sf.totalCpuPerMin / (SPAWNS_PER_SECOND * 60);
  lines.push(
    `Floors: bare node ${f(bare?.rssMedianMiB, 1)} MiB, ${f(bare?.totalCpuPerMin, 3)} CPU s/min; idle worker ${f(perWorker)} MiB each; ` +
      `spawn loop (${SPAWNS_PER_SECOND}/s) ${f(sf?.ownCpuPerMin)} + ${f(sf?.childCpuPerMin)} = ${f(sf?.totalCpuPerMin)} CPU s/min ` +
      `(${f(spawnFloorPerCheck === null ? null : spawnFloorPerCheck * 1000, 3)} ms per spawn)`,
  );
  const p2 = get('pooled-2-100');
  const kept = get('pooled-2-100-kept');
  const above = (r: CostResult | undefined): string => {
    const d = r === undefined || pf === undefined ? null : r.rssMedianMiB - pf.rssMedianMiB;
    return d === null ? '-' : d >= 0 ? `${f(d, 1)} MiB above it` : `${f(-d, 1)} MiB below it`;
  };
  lines.push(
    `Pooled floor (node + 2 idle workers, this runtime, every page it touched still mapped): ${f(pf?.rssMedianMiB, 1)} MiB; ` +
      `ours with worker_threads = 2 and 100 services is ${above(p2)}, and ${above(kept)} with release_startup_pages = false ` +
      "(the services, the daemon's code and state, ahc-spawn and its address watch)",
  );
  lines.push(
    `Start-up pages of node released (release_startup_pages, docs/design.md): ${f(p2?.rssMedianMiB, 1)} MiB against ` +
      `${f(kept?.rssMedianMiB, 1)} MiB kept, ${f(p2 === undefined || kept === undefined ? null : kept.rssMedianMiB - p2.rssMedianMiB, 1)} MiB less; ` +
      `CPU ${f(p2?.totalCpuPerMin)} against ${f(kept?.totalCpuPerMin)} s/min`,
  );
  const derived: Record<string, number | null> = {
    perWorkerMiB: perWorker,
    pooledFloorMiB: pf?.rssMedianMiB ?? null,
    startupPagesReleasedMiB: p2 === undefined || kept === undefined ? null : kept.rssMedianMiB - p2.rssMedianMiB,
    spawnFloorCpuMsPerSpawn: spawnFloorPerCheck === null ? null : spawnFloorPerCheck * 1000,
  };
  for (const prefix of ['python', 'per-service', 'pooled-2']) {
    const x = perExtra(prefix);
    derived[`${prefix}.MiBPerExtraService`] = x;
    const r100 = get(`${prefix}-100`);
    const vsSpawn = ratio(r100?.totalCpuPerMin, sf?.totalCpuPerMin);
    derived[`${prefix}-100.cpuOverSpawnFloor`] = vsSpawn;
    derived[`${prefix}-100.rssOverBareNode`] = ratio(r100?.rssMedianMiB, bare?.rssMedianMiB);
    lines.push(
      `${prefix}: ${f(x)} MiB per extra service (100 vs 10)` +
        `${perWorker === null || x === null ? '' : `, ${f(x / perWorker)}x the idle-worker floor`}; ` +
        `CPU at 100 services ${f(vsSpawn)}x the spawn floor (100 checks/s vs 100 spawns/s)` +
        `; RSS at 100 ${f(derived[`${prefix}-100.rssOverBareNode`])}x bare node`,
    );
  }
  const py100 = get('python-100');
  const ps100 = get('per-service-100');
  const p2100 = get('pooled-2-100');
  const verdicts = [
    judge(ratio(ps100?.totalCpuPerMin, py100?.totalCpuPerMin), 1.0, 'per-service, 100: CPU own+children / Python <= 1.0'),
    judge(
      perExtra('per-service'),
      perWorker === null ? null : perWorker + 0.5,
      'per-service: MiB per extra service <= idle-worker floor + 0.5',
    ),
    judge(ratio(p2100?.totalCpuPerMin, py100?.totalCpuPerMin), 0.5, 'worker_threads=2, 100: CPU own+children / Python <= 0.5'),
    judge(p2100?.rssMedianMiB ?? null, 70, 'worker_threads=2, 100: tree RSS median MiB <= 70'),
  ];
  lines.push('');
  for (const v of verdicts) lines.push(`${v.verdict.padEnd(7)} ${v.target}: ${f(v.value)} (limit ${f(v.limit)})`);
  return { text: lines.join('\n'), verdicts, derived };
}

async function main(): Promise<void> {
  if (!existsSync(DAEMON_BUNDLE)) throw new Error(`${DAEMON_BUNDLE} is missing; build the daemon first (pnpm run build)`);
  if (process.getuid?.() !== 0) {
    process.stdout.write('cost benchmark skipped: needs root (a network namespace holds the prefixes for the IP check)\n');
    return;
  }
  const seconds = intSetting('BENCH_SECONDS', 60);
  const settle = intSetting('BENCH_SETTLE_SECONDS', 10);
  const wanted = (process.env['BENCH_CASES'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const known = allCases();
  const unknown = wanted.filter((id) => !known.some((c) => c.id === id));
  if (unknown.length > 0) throw new Error(`unknown BENCH_CASES ${unknown.join(', ')}; known: ${known.map((c) => c.id).join(', ')}`);
  const pythonText = (process.env['AHC_BENCH_PYTHON'] ?? '').trim();
  const python = pythonText === '' ? null : pythonText.split(/\s+/);
  const pythonSkip = python === null ? 'AHC_BENCH_PYTHON is not set (e.g. "python3 -m anycast_healthchecker.main" with PYTHONPATH)' : null;
  const cases = known.filter((c) => wanted.length === 0 || wanted.includes(c.id)).filter((c) => c.kind !== 'python' || python !== null);
  const ns = `ahc-cost-${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'ahc-cost-'));
  const ctx: Ctx = { ns, nodeFlags: launcherNodeFlags(DAEMON_ENTRY), python, seconds, settle, ticks: clockTicksPerSecond() };
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  process.stdout.write(
    `cost benchmark: ${cases.length} cases x ${seconds} s (+${settle} s settle), node ${process.version} ${ctx.nodeFlags.join(' ')}, ` +
      `${cpus().length} CPUs, load average ${load()}, work dir ${root}\n` +
      (pythonSkip === null ? `Python: ${pythonText}\n` : `Python cases skipped: ${pythonSkip}\n`),
  );
  createPrefixNamespace(ns, prefixes(100));
  const results: CostResult[] = [];
  try {
    for (const c of cases) {
      process.stdout.write(`- ${c.label} ...\n`);
      const r = await runCase(c, root, ctx);
      results.push(r);
      process.stdout.write(
        `  RSS ${f(r.rssMedianMiB, 1)} MiB over ${r.longLived.join(' ')}; CPU ${f(r.ownCpuPerMin)} own + ${f(r.childCpuPerMin)} children s/min; exit ${JSON.stringify(r.exit)}\n`,
      );
    }
  } finally {
    deleteNamespace(ns);
  }
  if (process.env['BENCH_KEEP'] !== '1') rmSync(root, { recursive: true, force: true });
  const { text, verdicts, derived } = report(results, pythonSkip);
  process.stdout.write(`\n${text}\nload average at the end ${load()}\n`);
  mkdirSync(dirname(RESULT_FILE), { recursive: true });
  writeFileSync(
    RESULT_FILE,
    `${JSON.stringify({ node: process.version, seconds, settle, python: pythonText, pythonSkip, cpus: cpus().length, finishedAt: new Date().toISOString(), results, derived, verdicts }, null, 2)}\n`,
  );
  process.stdout.write(`\nresults written to ${RESULT_FILE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`cost benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
