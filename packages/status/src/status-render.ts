import type { DrainStatus, ServiceStatus, StateFileStatus, StatusReply } from './status-protocol';

/** Nagios plugin exit codes. */
export const NAGIOS = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type NagiosCode = (typeof NAGIOS)[keyof typeof NAGIOS];
const NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

export interface NagiosResult {
  readonly code: NagiosCode;
  readonly line: string;
}

function count(services: readonly ServiceStatus[], pred: (s: ServiceStatus) => boolean): number {
  return services.filter(pred).length;
}

/**
 * The text part of a plugin line (before `|`): Nagios takes everything after the first `|` as
 * performance data and only the first line as the status, so a `|` (from a service name, a path,
 * BIRD's output) becomes `/` and control characters (newlines) become spaces.
 */
export function nagiosText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replaceAll('|', '/').replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/**
 * A performance-data label (plugin guidelines: `'label'=value[UOM];warn;crit;min;max`). A label
 * may hold any printable character except `=` (no parser could tell where it ends: it becomes
 * `_`); one with a space or a `'` is quoted, and a `'` inside is written twice.
 */
export function perfLabel(name: string): string {
  // eslint-disable-next-line no-control-regex
  const label = name.replace(/[\u0000-\u001f\u007f]/g, ' ').replaceAll('=', '_');
  return /[ ']/.test(label) ? `'${label.replaceAll("'", "''")}'` : label;
}

/** A value without exponent notation (which some performance-data parsers reject). */
function perfNumber(value: number): string {
  if (!Number.isFinite(value)) return 'U';
  return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/\.?0+$/, '');
}

/**
 * One line with perf data, and the plugin exit code (replaces contrib/nagios of the Python
 * daemon). After the daemon-wide counts comes each service's last check duration,
 * `NAME_duration=Xms;;;0`, for the services that ran a check.
 */
export function renderNagios(reply: StatusReply): NagiosResult {
  const s = reply.services;
  const failed = s.filter((x) => x.worker.state === 'failed');
  const restarting = s.filter((x) => x.worker.state === 'restarting' || x.worker.state === 'starting');
  const stale = reply.daemon.bird.filter((b) => b.lastError !== null);
  const enabled = count(s, (x) => x.worker.state !== 'disabled');
  const perf = [
    `services=${s.length}`,
    `running=${count(s, (x) => x.worker.state === 'running')}`,
    `failed=${failed.length}`,
    `restarting=${restarting.length}`,
    `disabled=${count(s, (x) => x.worker.state === 'disabled')}`,
    `up=${count(s, (x) => x.state === 'up')}`,
    `down=${count(s, (x) => x.state === 'down')}`,
    `unknown=${count(s, (x) => x.state === 'unknown')}`,
    `drained=${count(s, (x) => (x.drains ?? []).length > 0)}`,
    `restarts=${s.reduce((a, x) => a + x.worker.restarts, 0)}c`,
    `uptime=${perfNumber(reply.daemon.uptimeSeconds)}s`,
    `loop_lag=${perfNumber(reply.daemon.eventLoop.lagMs)}ms`,
    ...s.flatMap((x) => (x.lastCheck === null ? [] : [`${perfLabel(`${x.name}_duration`)}=${perfNumber(x.lastCheck.durationMs)}ms;;;0`])),
  ].join(' ');
  let code: NagiosCode = NAGIOS.OK;
  const problems: string[] = [];
  if (failed.length > 0) {
    code = NAGIOS.CRITICAL;
    problems.push(`${failed.length} check worker(s) failed: ${failed.map((x) => x.name).join(', ')}`);
  }
  if (restarting.length > 0) {
    if (code === NAGIOS.OK) code = NAGIOS.WARNING;
    problems.push(`${restarting.length} check worker(s) restarting: ${restarting.map((x) => x.name).join(', ')}`);
  }
  if (stale.length > 0) {
    if (code === NAGIOS.OK) code = NAGIOS.WARNING;
    problems.push(`BIRD not updated: ${stale.map((b) => `IPv${b.family}: ${b.lastError ?? ''}`).join('; ')}`);
  }
  const st = reply.daemon.stateFile;
  if (st !== undefined && st.state !== 'ok') {
    if (code === NAGIOS.OK) code = NAGIOS.WARNING;
    problems.push(`state file ${st.path} ${st.state === 'disabled' ? 'disabled' : 'not written'}: ${st.lastProblem ?? '-'}`);
  }
  if (reply.daemon.eventLoop.blocked) {
    if (code === NAGIOS.OK) code = NAGIOS.WARNING;
    problems.push(`main thread blocked (event loop lag ${reply.daemon.eventLoop.lagMs} ms)`);
  }
  const summary =
    problems.length > 0
      ? problems.join('; ')
      : `${enabled} check(s) running, ${count(s, (x) => x.state === 'up')} up, ${count(s, (x) => x.state === 'down')} down`;
  return { code, line: `ANYCAST-HEALTHCHECKER ${NAMES[code]} - ${nagiosText(summary)} | ${perf}` };
}

export function renderNagiosFailure(code: NagiosCode, reason: string): NagiosResult {
  return { code, line: `ANYCAST-HEALTHCHECKER ${NAMES[code]} - ${nagiosText(reason)}` };
}

function age(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** An ISO 8601 time as the table shows it: `2026-12-01 10:00:00Z` (no `T`, no fraction). */
function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** A readable table for humans. */
export function renderTable(reply: StatusReply): string {
  const d = reply.daemon;
  const lines: string[] = [];
  lines.push(
    `${d.program} ${d.version}${d.nodeVersion === undefined ? '' : ` (Node.js ${d.nodeVersion})`}, pid ${d.pid}, up ${d.uptimeSeconds}s, worker_threads = ${d.workerThreads} (${d.threads} threads), ` +
      `main-thread lag ${d.eventLoop.lagMs} ms${d.eventLoop.blocked ? ' (BLOCKED)' : ''}`,
  );
  lines.push(`config: ${d.configFiles.join(', ')}`);
  const sh = d.spawnHelper;
  if (sh !== undefined) {
    lines.push(
      sh.via === 'self'
        ? `check commands: spawned by the check threads (${sh.reason})`
        : `check commands: spawned by ahc-spawn, ${sh.state ?? '-'}, pid ${sh.pid ?? '-'}, ${sh.restarts ?? 0} restarts, ` +
            `${sh.inFlight ?? 0} running, ${sh.fallbackRuns ?? 0} run directly${sh.lastExit === null || sh.lastExit === undefined ? '' : `, last exit: ${sh.lastExit}`}`,
    );
  }
  const a = d.addresses;
  if (a !== undefined) {
    const pid = a.monitorPid === null ? '' : `, ${a.monitor ?? 'ip -o monitor address'} pid ${a.monitorPid}`;
    lines.push(
      `addresses: ${a.source} since ${a.since}${pid}, ${a.restarts} restarts${a.lastProblem === null ? '' : `, last problem: ${a.lastProblem}`}`,
    );
  }
  if (d.controlSocket !== undefined) lines.push(`control socket: ${d.controlSocket}`);
  const f = d.drainFile;
  if (f !== undefined) {
    const what =
      f.state === 'absent'
        ? 'absent, drains nothing'
        : f.state === 'all'
          ? 'present, drains every service'
          : `present, drains ${f.services.join(', ')}`;
    lines.push(
      `drain file: ${f.path} (${what}${f.watch === 'polling' ? ', directory not watched: re-read every few seconds' : ''}${f.lastProblem === null ? '' : `, problem: ${f.lastProblem}`})`,
    );
  }
  const st = d.stateFile;
  if (st !== undefined) lines.push(`state file: ${st.path} (${stateFileText(st)})`);
  for (const b of d.bird) {
    lines.push(
      `BIRD IPv${b.family}: ${b.path} (${b.variable}) ${b.prefixes.length} prefixes, last applied ${b.lastApplied ?? 'never'}` +
        `${b.pending ? ', update pending' : ''}${b.applying === true ? ', BIRD still applying' : ''}${b.lastError === null ? '' : `, last error: ${b.lastError}`}`,
    );
  }
  const header = [
    'SERVICE',
    'PREFIX',
    'STATE',
    'WORKER',
    'THREAD',
    'HEARTBEAT',
    'RESTARTS',
    'RISE/FAIL',
    'LAST CHECK',
    'EXIT',
    'DURATION',
    'TIMEOUTS',
    'IN BIRD',
    'DRAINED',
  ];
  const rows = reply.services.map((s) => [
    s.name,
    s.prefix,
    s.state.toUpperCase(),
    s.worker.state,
    s.worker.threadId === null ? '-' : String(s.worker.threadId),
    age(s.worker.lastHeartbeatAgeMs),
    String(s.worker.restarts),
    `${s.rise}/${s.fail}`,
    s.lastCheck === null ? '-' : shortTime(s.lastCheck.at),
    s.lastCheck === null ? '-' : s.lastCheck.timedOut ? 'timeout' : !s.lastCheck.ipAssigned ? 'no-ip' : String(s.lastCheck.exitCode ?? '-'),
    s.lastCheck === null ? '-' : `${s.lastCheck.durationMs.toFixed(1)}ms`,
    String(s.timeouts),
    s.inBirdFile ? 'yes' : 'no',
    (s.drains ?? []).length > 0 ? `yes, ${age(Math.min(...(s.drains ?? []).map((x) => x.ageSeconds)) * 1000)}` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  lines.push('', fmt(header), ...rows.map(fmt));
  const drained = reply.services.filter((s) => (s.drains ?? []).length > 0);
  if (drained.length > 0) {
    lines.push('', 'DRAINED (withdrawn whatever the check says):');
    for (const s of drained) lines.push(`  ${s.name}: ${(s.drains ?? []).map(describeDrain).join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The state file's line of the table: written, failing or disabled, and what a restart then loses. */
function stateFileText(s: StateFileStatus): string {
  const at = (iso: string | null): string => (iso === null ? 'never' : shortTime(iso));
  if (s.state === 'disabled') return `DISABLED: ${s.lastProblem ?? '-'}; decided states and drains are not kept across a restart`;
  if (s.state === 'failing') {
    return (
      `NOT WRITTEN since ${at(s.failingSince)}, ${s.failures} failed writes, last written ${at(s.lastWrite)}: ${s.lastProblem ?? '-'}; ` +
      'a restart starts from the last file written'
    );
  }
  return `written ${s.writes} times, last ${at(s.lastWrite)}`;
}

/** `drain command (all services) since 2026-12-01 10:00:00Z, 12.0s ago: maintenance`. */
export function describeDrain(d: DrainStatus): string {
  const by = d.source === 'file' ? 'drain file' : 'drain command';
  const since = shortTime(d.since);
  return `${by}${d.all ? ' (all services)' : ''} since ${since}, ${age(d.ageSeconds * 1000)} ago: ${d.reason}`;
}
