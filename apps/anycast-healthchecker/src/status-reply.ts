import { readFile } from 'node:fs/promises';
import { parsePrefixFile } from '@ahc/bird';
import type { CompiledConfig } from '@ahc/config';
import type { BirdStatus, DrainFileStatus, DrainStatus, ServiceStatus, SpawnHelperStatus, StatusReply } from '@ahc/status';
import { STATUS_PROTOCOL_VERSION } from '@ahc/status';
import { monotonicMs, prefixesText } from '@ahc/protocol';
import type { CoreSnapshot, Drain, DrainFileState, EventLoopLag, StateStoreSnapshot } from '@ahc/supervisor';

/** What the status reply and the metrics say of the daemon beside the core's snapshot. */
export interface DaemonFacts {
  readonly config: CompiledConfig;
  readonly program: string;
  readonly version: string;
  readonly startedAt: Date;
  /** The start on the monotonic clock (`monotonicMs()`): uptime is measured on it. */
  readonly startedAtMonotonic: number;
  readonly eventLoop: () => EventLoopLag;
  /** How check commands are started now (absent: tests that make no choice). */
  readonly spawnHelper?: () => SpawnHelperStatus;
  /** The control socket, when it listens. */
  readonly controlSocket?: () => string | null;
  /** The drain file's watch, with `drain_file`. */
  readonly drainFile?: () => DrainFileState | null;
  /** The state file (`state_dir`), once it has been opened. */
  readonly stateFile?: () => StateStoreSnapshot | null;
}

function drainStatus(d: Drain, nowMs: number): DrainStatus {
  return { ...d, ageSeconds: Math.max(0, Math.round((nowMs - Date.parse(d.since)) / 100) / 10) };
}

function drainFileStatus(f: DrainFileState): DrainFileStatus {
  return {
    path: f.path,
    state: f.content.kind,
    services: f.content.kind === 'services' ? f.content.names : [],
    watch: f.watch,
    lastProblem: f.lastProblem,
  };
}

export function uptimeSeconds(facts: DaemonFacts): number {
  return Math.round((monotonicMs() - facts.startedAtMonotonic) / 1000);
}

/**
 * The file's prefixes now. The status reply shows the file as it is, so a file edited by hand
 * since the daemon last wrote it shows the edit (docs/design.md, "The data path, from config to
 * BIRD"); the metrics use what the reconciler wrote and never read the file.
 */
async function filePrefixes(path: string): Promise<string[]> {
  try {
    return [...parsePrefixFile(await readFile(path, 'utf8')).prefixes];
  } catch {
    return [];
  }
}

/** The status socket's answer (packages/status/src/status-protocol.ts), rendered from a core snapshot. */
export async function renderStatusReply(snapshot: CoreSnapshot, facts: DaemonFacts): Promise<StatusReply> {
  const bird: BirdStatus[] = [];
  const inFile = new Set<string>();
  for (const f of snapshot.families) {
    const prefixes = await filePrefixes(f.bird.path);
    for (const p of prefixes) inFile.add(p);
    bird.push({
      family: f.family,
      path: f.bird.path,
      variable: f.bird.variable,
      reconfigureCommand: f.bird.reconfigureCmd.text,
      prefixes,
      applied: f.applied,
      reconfigureRuns: f.reconfigureRuns,
      reconfigureFailures: f.reconfigureFailures,
      desired: f.desired,
      lastReconfigureMs: f.lastReconfigureMs,
      pending: f.pending,
      applying: f.applying,
      lastApplied: f.lastApplied?.toISOString() ?? null,
      lastError: f.lastError,
      failures: f.failures,
    });
  }
  const nowMs = Date.now();
  const services: ServiceStatus[] = snapshot.services.map(({ view, worker, drains }) => {
    const c = view.config;
    const last = view.lastResult;
    return {
      name: c.name,
      prefix: prefixesText(c.prefixes),
      family: c.prefixes[0]?.family ?? 4,
      // Only with several: a lone prefix's reply stays as it was, field for field.
      ...(c.prefixes.length > 1
        ? { prefixes: c.prefixes.map((p) => ({ prefix: p.prefix, family: p.family, inBirdFile: inFile.has(p.prefix) })) }
        : {}),
      worker: {
        state: worker.state,
        threadId: worker.threadId,
        lastHeartbeatAgeMs: worker.lastHeartbeatAgeMs,
        restarts: worker.restarts,
        lastExit: worker.lastExit,
        exits: worker.exits,
      },
      state: view.counters.state,
      rise: view.counters.rise,
      fail: view.counters.fail,
      checks: view.checks,
      timeouts: view.timeouts,
      lastCheck:
        last === null
          ? null
          : {
              at: new Date(last.finishedAt).toISOString(),
              ok: last.ok,
              exitCode: last.exitCode,
              durationMs: last.durationMs,
              timedOut: last.timedOut,
              ipAssigned: last.ipAssigned,
            },
      advertise: view.advertise,
      inBirdFile: c.prefixes.every((p) => inFile.has(p.prefix)),
      drains: (drains ?? []).map((d) => drainStatus(d, nowMs)),
      exported: view.exported,
    };
  });
  const { config } = facts;
  return {
    version: STATUS_PROTOCOL_VERSION,
    ok: true,
    daemon: {
      program: facts.program,
      version: facts.version,
      nodeVersion: process.versions.node,
      pid: process.pid,
      startedAt: facts.startedAt.toISOString(),
      uptimeSeconds: uptimeSeconds(facts),
      configFiles: config.files,
      workerThreads: config.daemon.workerThreads,
      threads: snapshot.threads,
      eventLoop: facts.eventLoop(),
      ...(facts.spawnHelper === undefined ? {} : { spawnHelper: facts.spawnHelper() }),
      ...(snapshot.addresses === null ? {} : { addresses: { ...snapshot.addresses } }),
      ...optional('controlSocket', facts.controlSocket?.() ?? null),
      ...optional('drainFile', drainFileOf(facts)),
      ...optional('stateFile', facts.stateFile?.() ?? null),
      bird,
    },
    services,
  };
}

function drainFileOf(facts: DaemonFacts): DrainFileStatus | null {
  const f = facts.drainFile?.() ?? null;
  return f === null ? null : drainFileStatus(f);
}

function optional<K extends string, V>(key: K, value: V | null): { [k in K]?: V } {
  return (value === null ? {} : { [key]: value }) as { [k in K]?: V };
}
