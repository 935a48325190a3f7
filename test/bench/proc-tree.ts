// CPU and memory of a whole process tree (Linux /proc): a daemon and its long-lived descendants
// (helper processes such as a spawn helper or an `ip monitor` child). Short-lived children (the
// checks) are not sampled: their CPU reaches the tree through the cutime/cstime of the long-lived
// process that reaped them.
import { readFileSync, readdirSync } from 'node:fs';
import { delay, median } from '../helpers/poll.js';
import { KIB_PER_MIB } from './proc-stats.js';

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  /** utime + stime, clock ticks. */
  readonly own: number;
  /** cutime + cstime: CPU of reaped children (and their reaped descendants), clock ticks. */
  readonly children: number;
  /** Start time after boot, clock ticks: tells a pid from a reused one. */
  readonly start: number;
}

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const f = text.slice(close + 2).split(' ');
  const n = (i: number): number => Number(f[i - 3]);
  return { pid, ppid: n(4), comm, own: n(14) + n(15), children: n(16) + n(17), start: n(22) };
}

/** `root` and every live descendant of it, found by scanning /proc for parent pids. */
export function treeStats(root: number): ProcStat[] {
  const all: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (s !== undefined) all.push(s);
  }
  const byParent = new Map<number, ProcStat[]>();
  for (const s of all) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const rootStat = all.find((s) => s.pid === root);
  if (rootStat === undefined) return [];
  const out: ProcStat[] = [];
  const queue = [rootStat];
  while (queue.length > 0) {
    const s = queue.shift() as ProcStat;
    out.push(s);
    queue.push(...(byParent.get(s.pid) ?? []));
  }
  return out;
}

function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

const key = (s: ProcStat): string => `${s.pid}@${s.start}`;

export interface TreeWindow {
  readonly windowSeconds: number;
  /** Processes alive at both ends of the window (the root first), as `comm[pid]`. */
  readonly longLived: readonly string[];
  readonly rssMedianMiB: number;
  readonly rssMaxMiB: number;
  /** Median RSS of the root process alone. */
  readonly rootRssMedianMiB: number;
  /** CPU seconds per minute: own (utime+stime) and reaped children (cutime+cstime), summed. */
  readonly ownCpuPerMin: number;
  readonly childCpuPerMin: number;
  readonly totalCpuPerMin: number;
  readonly cpuSeconds: number;
}

/**
 * Sample the tree under `root` once a second for `seconds` s: RSS summed over the processes
 * that were in the tree at the window's start and are still alive, CPU as the difference of
 * each long-lived process's counters between the two ends.
 */
export async function measureTree(root: number, seconds: number, ticksPerSecond: number, alive: () => void): Promise<TreeWindow> {
  const first = treeStats(root);
  if (first.length === 0) throw new Error(`process ${root} is gone`);
  const startSet = new Map(first.map((s) => [key(s), s]));
  const t0 = performance.now();
  const rss: number[] = [];
  const rootRss: number[] = [];
  let last = first;
  for (let i = 1; i <= seconds; i += 1) {
    await delay(Math.max(0, t0 + i * 1000 - performance.now()));
    alive();
    last = treeStats(root);
    let sum = 0;
    for (const s of last) if (startSet.has(key(s))) sum += rssKiB(s.pid) ?? 0;
    rss.push(sum / KIB_PER_MIB);
    rootRss.push((rssKiB(root) ?? 0) / KIB_PER_MIB);
  }
  const windowSeconds = (performance.now() - t0) / 1000;
  let own = 0;
  let children = 0;
  const longLived: string[] = [];
  for (const s of last) {
    const before = startSet.get(key(s));
    if (before === undefined) continue;
    own += s.own - before.own;
    children += s.children - before.children;
    longLived.push(`${s.comm}[${s.pid}]`);
  }
  const perMin = (ticks: number): number => (ticks / ticksPerSecond) * (60 / windowSeconds);
  return {
    windowSeconds,
    longLived,
    rssMedianMiB: median(rss),
    rssMaxMiB: Math.max(...rss),
    rootRssMedianMiB: median(rootRss),
    ownCpuPerMin: perMin(own),
    childCpuPerMin: perMin(children),
    totalCpuPerMin: perMin(own + children),
    cpuSeconds: (own + children) / ticksPerSecond,
  };
}
