// The memory benchmark's verdicts and printed table: every case against the bare `node`
// process of the same run, the cost of each extra service, and PASS/MISS per target.
import type { WorkerMode } from './daemon-fixture.js';
import type { ProcessExit, WindowMeasurement } from './measured-process.js';

export interface BenchCase {
  readonly id: string;
  readonly label: string;
  readonly kind: 'bare-node' | 'daemon';
  readonly services: number;
  /** Worker mode of a daemon case; null for the bare node process. */
  readonly mode: WorkerMode | null;
}

export interface CaseResult extends BenchCase, WindowMeasurement {
  /** From spawn until the log showed every service's first check and the main thread idled. */
  readonly startupSeconds: number;
  /** ERROR/CRITICAL lines in the log (e.g. a check thread that died and was restarted). */
  readonly logErrors: number;
  readonly exit: ProcessExit;
}

export interface DerivedRow {
  readonly id: string;
  readonly rssOverNodeMiB: number | null;
  readonly rssRatio: number | null;
  readonly cpuRatio: number | null;
  /** (median RSS at the largest count − at the smallest) / extra services, same mode. */
  readonly perExtraServiceMiB: number | null;
  /** The same from the "RSS end" values (after the heaps have shrunk). */
  readonly perExtraServiceEndMiB: number | null;
}

export interface TargetVerdict {
  readonly target: string;
  readonly value: number | null;
  readonly limit: number;
  readonly verdict: 'PASS' | 'MISS' | 'NOT RUN';
  readonly informational: boolean;
}

export const POOLED_LIMIT_MIB = 70;
export const PER_SERVICE_TARGET_MIB = 5;

function sameMode(a: BenchCase, b: BenchCase): boolean {
  return a.kind === 'daemon' && b.kind === 'daemon' && a.mode === b.mode;
}

/** Per extra service between the fewest-services and the most-services case of `row`'s mode. */
function perExtraService(row: CaseResult, all: readonly CaseResult[], rss: (r: CaseResult) => number): number | null {
  const peers = all.filter((r) => sameMode(r, row) && r.services > 0);
  const fewest = peers.reduce<CaseResult | undefined>((m, r) => (m === undefined || r.services < m.services ? r : m), undefined);
  const most = peers.reduce<CaseResult | undefined>((m, r) => (m === undefined || r.services > m.services ? r : m), undefined);
  if (fewest === undefined || most === undefined || most !== row || most.services === fewest.services) return null;
  return (rss(most) - rss(fewest)) / (most.services - fewest.services);
}

export function deriveRows(results: readonly CaseResult[]): DerivedRow[] {
  const bare = results.find((r) => r.kind === 'bare-node');
  return results.map((r) => ({
    id: r.id,
    rssOverNodeMiB: bare === undefined ? null : r.rssMedianMiB - bare.rssMedianMiB,
    rssRatio: bare === undefined ? null : r.rssMedianMiB / bare.rssMedianMiB,
    cpuRatio: bare === undefined || bare.cpuSeconds === 0 ? null : r.cpuSecondsPerMinute / bare.cpuSecondsPerMinute,
    perExtraServiceMiB: perExtraService(r, results, (x) => x.rssMedianMiB),
    perExtraServiceEndMiB: perExtraService(r, results, (x) => x.rssEndMiB),
  }));
}

function verdict(value: number | null, pass: (v: number) => boolean): TargetVerdict['verdict'] {
  if (value === null) return 'NOT RUN';
  return pass(value) ? 'PASS' : 'MISS';
}

export function judgeTargets(results: readonly CaseResult[], rows: readonly DerivedRow[]): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  for (const threads of [1, 2]) {
    const hit = results.find((r) => r.kind === 'daemon' && r.mode === threads && r.services === 100);
    const value = hit?.rssMedianMiB ?? null;
    verdicts.push({
      target: `pooled (${threads} thread${threads === 1 ? '' : 's'}), 100 services: median RSS < ${POOLED_LIMIT_MIB} MiB`,
      value,
      limit: POOLED_LIMIT_MIB,
      verdict: verdict(value, (v) => v < POOLED_LIMIT_MIB),
      informational: false,
    });
  }
  const perServiceIds = new Set(results.filter((r) => r.kind === 'daemon' && r.mode === 'per-service').map((r) => r.id));
  const row = rows.find((d) => perServiceIds.has(d.id) && d.perExtraServiceMiB !== null);
  const value = row?.perExtraServiceMiB ?? null;
  const settled = row?.perExtraServiceEndMiB ?? null;
  verdicts.push({
    target: `per-service: median RSS per extra service <= ${PER_SERVICE_TARGET_MIB} MiB (informational; from "RSS end": ${fixed(settled, 2, ' MiB')})`,
    value,
    limit: PER_SERVICE_TARGET_MIB,
    verdict: verdict(value, (v) => v <= PER_SERVICE_TARGET_MIB),
    informational: true,
  });
  return verdicts;
}

function fixed(value: number | null, digits: number, suffix = ''): string {
  return value === null ? '-' : `${value.toFixed(digits)}${suffix}`;
}

function signed(value: number | null, digits: number): string {
  if (value === null) return '-';
  return `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
}

function renderTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The whole printed report: the table, notes and the targets. */
export function formatReport(
  results: readonly CaseResult[],
  rows: readonly DerivedRow[],
  verdicts: readonly TargetVerdict[],
  seconds: number,
): string {
  const header = [
    'case',
    'threads',
    'RSS med MiB',
    'RSS max',
    'RSS end',
    'HWM',
    'RSS - node',
    'MiB/extra svc (end)',
    'CPU s/min',
    'RSS x node',
    'CPU x node',
  ];
  const body = results.map((r) => {
    const d = rows.find((row) => row.id === r.id);
    return [
      r.label,
      String(r.threads),
      fixed(r.rssMedianMiB, 1),
      fixed(r.rssMaxMiB, 1),
      fixed(r.rssEndMiB, 1),
      fixed(r.hwmMiB, 1),
      signed(d?.rssOverNodeMiB ?? null, 1),
      d?.perExtraServiceMiB == null ? '-' : `${fixed(d.perExtraServiceMiB, 2)} (${fixed(d.perExtraServiceEndMiB, 2)})`,
      fixed(r.cpuSecondsPerMinute, 3),
      fixed(d?.rssRatio ?? null, 2, 'x'),
      fixed(d?.cpuRatio ?? null, 1, 'x'),
    ];
  });
  const notes = [
    `window ${seconds} s per case, RSS sampled every second from /proc/PID/status after every service's first check;`,
    'RSS end = median of the last 10 samples; HWM = VmHWM (peak since start, startup included); threads at the end;',
    'MiB/extra svc = (median RSS at 100 services - at 10) / 90, same worker mode, (end) from RSS end; CPU = utime+stime over the window.',
  ];
  const troubles = results
    .filter((r) => r.logErrors > 0 || (r.kind === 'daemon' && r.exit.code !== 0))
    .map((r) => `WARNING ${r.label}: ${r.logErrors} ERROR/CRITICAL log lines, exit code ${r.exit.code} signal ${r.exit.signal}`);
  const targets = verdicts.map((v) => `${v.verdict.padEnd(7)} ${v.target}: ${fixed(v.value, v.informational ? 2 : 1, ' MiB')}`);
  return [renderTable(header, body), '', ...notes, ...troubles, '', 'Targets:', ...targets].join('\n');
}
