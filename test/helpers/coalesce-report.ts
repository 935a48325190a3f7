// Figures of the coalescing benchmark (test/bench/coalesce.bench.ts): how the failure decisions
// were spread in time, how long after the last one the peer had lost every route, how many
// reconfigure commands ran, each judged against one `birdc configure` measured in the same run.

export interface CoalesceMeasurement {
  /** The node's BIRD: build and extra configuration (e.g. `BIRD 3 + 300000 static`). */
  readonly bed: string;
  readonly services: number;
  readonly mode: 'per-service' | number;
  /**
   * `tick`: the shared health file removed, checks find it at their next tick; `sigurg`: then
   * SIGURG; `busy`: as sigurg while BIRD is still applying an operator's reconfigure.
   */
  readonly trigger: 'tick' | 'sigurg' | 'busy';
  /** Wall-clock ms (log timestamps, ms resolution) of every `changed to DOWN` line. */
  readonly decisions: readonly number[];
  /** Wall-clock ms when the health file was removed. */
  readonly removedAt: number;
  /** Wall-clock ms of the first peer poll that saw none of the N routes. */
  readonly peerEmptyAt: number;
  /** Interval between the peer polls (the resolution of peerEmptyAt). */
  readonly pollIntervalMs: number;
  /** Wall-clock ms of each `reconfiguring BIRD by running` line after the removal. */
  readonly reconfigures: readonly number[];
  /** Wall-clock ms of each `reconfigured BIRD daemon` line after the removal (the ends). */
  readonly reconfigured: readonly number[];
  /** Bare `birdc configure` durations (ms) measured in the same run, with N prefixes in the file. */
  readonly configureMs: readonly number[];
  /** From spawning the daemon to every service UP, in the file and applied. */
  readonly startupSeconds: number;
  /** Check threads the watchdog replaced during the case (a sign of an overloaded machine). */
  readonly watchdogRestarts: number;
}

export interface CoalesceResult extends CoalesceMeasurement {
  readonly configureMedianMs: number;
  /** Median of the daemon's own reconfigures during the failure, start line to end line (log ms). */
  readonly daemonReconfigureMedianMs: number;
  readonly firstDecision: number;
  readonly lastDecision: number;
  readonly spreadMs: number;
  /** Offsets of the decisions from the first one at the 50th and 90th percentile. */
  readonly p50OffsetMs: number;
  readonly p90OffsetMs: number;
  /**
   * Groups of decisions separated by gaps longer than one configure: a reconciler that merges
   * everything arriving during a write/reconfigure needs about this many reconfigures.
   */
  readonly clusters: number;
  readonly goneAfterLastDecisionMs: number;
  readonly goneAfterRemovalMs: number;
  readonly targetGoneMs: number;
  readonly goneVerdict: 'PASS' | 'MISS';
  readonly reconfigureVerdict: 'PASS' | 'MISS';
}

const MAX_RECONFIGURES = 3;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function judge(m: CoalesceMeasurement): CoalesceResult {
  const sorted = [...m.decisions].sort((a, b) => a - b);
  const first = sorted[0] ?? Number.NaN;
  const last = sorted[sorted.length - 1] ?? Number.NaN;
  const configureMedianMs = medianOf(m.configureMs);
  const offsets = sorted.map((t) => t - first);
  let clusters = sorted.length === 0 ? 0 : 1;
  for (let i = 1; i < sorted.length; i += 1) {
    if ((sorted[i] ?? 0) - (sorted[i - 1] ?? 0) > configureMedianMs) clusters += 1;
  }
  const targetGoneMs = 3 * configureMedianMs + 100;
  const goneAfterLastDecisionMs = m.peerEmptyAt - last;
  const cycles = m.reconfigures.map((start, i) => (m.reconfigured[i] ?? Number.NaN) - start).filter(Number.isFinite);
  return {
    ...m,
    configureMedianMs,
    daemonReconfigureMedianMs: medianOf(cycles),
    firstDecision: first,
    lastDecision: last,
    spreadMs: last - first,
    p50OffsetMs: quantile(offsets, 0.5),
    p90OffsetMs: quantile(offsets, 0.9),
    clusters,
    goneAfterLastDecisionMs,
    goneAfterRemovalMs: m.peerEmptyAt - m.removedAt,
    targetGoneMs,
    goneVerdict: goneAfterLastDecisionMs <= targetGoneMs ? 'PASS' : 'MISS',
    reconfigureVerdict: m.reconfigures.length <= MAX_RECONFIGURES ? 'PASS' : 'MISS',
  };
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '-');

export function modeLabel(mode: 'per-service' | number): string {
  return mode === 'per-service' ? 'per-service' : `${mode} threads`;
}

function legend(pollIntervalMs: number | undefined): Array<[string, string]> {
  return [
    ['BIRD', "the node's BIRD build, and how many static routes its configuration also holds"],
    ['cfg ms', 'median of 10 bare `birdc configure` (spawn included) in the same case, daemon idle, until BIRD logged `Reconfigured`'],
    [
      'daemon cfg',
      "median of the daemon's own reconfigures during the failure, `reconfiguring BIRD` to `reconfigured BIRD daemon` (or BIRD 3's accepted-in-the-background line)",
    ],
    ['spread/p50/p90', 'last / median / 90th-percentile `changed to DOWN` after the first one, ms'],
    ['clusters', 'groups of decisions split at gaps longer than cfg ms'],
    ['gone after last', `the peer had none of the N routes, ms after the last decision (peer polled every ${pollIntervalMs ?? '-'} ms)`],
    ['target', '3 x cfg ms + 100'],
    ['reconfigs', '`reconfiguring BIRD by running` lines after the removal (target <= 3)'],
    ['gone after rm', 'the peer had none of the N routes, ms after the shared health file was removed'],
    ['startup s', 'daemon spawn to all N up, in the file and applied'],
    ['wd restarts', 'check threads the watchdog replaced (startup included)'],
  ];
}

export function formatCoalesceReport(results: readonly CoalesceResult[]): string {
  const header = [
    'BIRD',
    'N',
    'worker_threads',
    'trigger',
    'cfg ms',
    'daemon cfg',
    'spread',
    'p50',
    'p90',
    'clusters',
    'gone after last',
    'target',
    'verdict',
    'reconfigs',
    'verdict',
    'gone after rm',
    'startup s',
    'wd restarts',
  ];
  const rows = results.map((r) => [
    r.bed,
    String(r.services),
    modeLabel(r.mode),
    r.trigger,
    r.configureMedianMs.toFixed(1),
    ms(r.daemonReconfigureMedianMs),
    ms(r.spreadMs),
    ms(r.p50OffsetMs),
    ms(r.p90OffsetMs),
    String(r.clusters),
    ms(r.goneAfterLastDecisionMs),
    ms(r.targetGoneMs),
    r.goneVerdict,
    String(r.reconfigures.length),
    r.reconfigureVerdict,
    ms(r.goneAfterRemovalMs),
    r.startupSeconds.toFixed(1),
    String(r.watchdogRestarts),
  ]);
  const timelines = results.map((r) => {
    const rel = (t: number): string => `${ms(t - r.firstDecision)}`;
    return (
      `  ${r.bed}, ${r.services} services, ${modeLabel(r.mode)}, ${r.trigger}: reconfigures at +${r.reconfigures.map(rel).join(', +') || '-'} ms, ` +
      `peer empty at +${rel(r.peerEmptyAt)} ms (from the first decision; removal at ${rel(r.removedAt)} ms)`
    );
  });
  return [
    table(header, rows),
    '',
    'columns:',
    ...legend(results[0]?.pollIntervalMs).map(([key, text]) => `  ${key.padEnd(16)} ${text}`),
    '',
    'timelines:',
    ...timelines,
  ].join('\n');
}
