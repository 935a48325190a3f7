import { readFile } from 'node:fs/promises';
import { parsePrefixFile } from '@ahc/bird';
import type { CompiledConfig } from '@ahc/config';
import type { BirdStatus, ServiceStatus, StatusReply, WorkerStateName } from '@ahc/status';
import { STATUS_PROTOCOL_VERSION } from '@ahc/status';
import { monotonicMs } from '@ahc/protocol';
import type { EventLoopMonitor } from './event-loop-monitor';
import type { Supervisor } from './supervisor';

export interface SnapshotContext {
  readonly config: CompiledConfig;
  readonly supervisor: Supervisor;
  readonly monitor: EventLoopMonitor;
  readonly program: string;
  readonly version: string;
  readonly startedAt: Date;
  /** The start on the monotonic clock (`monotonicMs()`): uptime is measured on it. */
  readonly startedAtMonotonic: number;
}

async function filePrefixes(path: string): Promise<string[]> {
  try {
    return [...parsePrefixFile(await readFile(path, 'utf8')).prefixes];
  } catch {
    return [];
  }
}

/** The status socket's answer, built from what the supervisor knows right now. */
export async function statusSnapshot(ctx: SnapshotContext): Promise<StatusReply> {
  const { supervisor, config } = ctx;
  const bird: BirdStatus[] = [];
  const inFile = new Set<string>();
  for (const [family, r] of supervisor.reconcilers) {
    const prefixes = await filePrefixes(r.bird.path);
    for (const p of prefixes) inFile.add(p);
    bird.push({
      family, path: r.bird.path, variable: r.bird.variable, reconfigureCommand: r.bird.reconfigureCmd.text, prefixes,
      applied: r.applied, reconfigureRuns: r.reconfigureRuns, reconfigureFailures: r.reconfigureFailures,
      desired: [r.bird.dummy, ...supervisor.registry.desired(family)], lastReconfigureMs: r.lastReconfigureMs,
      pending: r.pending, lastApplied: r.lastApplied?.toISOString() ?? null, lastError: r.lastError,
    });
  }
  const threads = supervisor.host?.threads() ?? [];
  const services: ServiceStatus[] = supervisor.registry.all().map((rec) => {
    const c = rec.config;
    const thread = threads.find((t) => t.services.includes(c.name));
    // Worker failure is the host's: the thread's state says 'failed'.
    const workerState: WorkerStateName = c.disabled ? 'disabled' : thread?.state ?? 'stopped';
    const last = rec.lastResult;
    return {
      name: c.name, prefix: c.prefix, family: c.family,
      worker: {
        state: workerState, threadId: thread?.threadId ?? null, lastHeartbeatAgeMs: thread?.lastHeartbeatAgeMs ?? null,
        restarts: thread?.restarts ?? 0, lastExit: thread?.lastExit ?? null,
      },
      state: rec.counters.state, rise: rec.counters.rise, fail: rec.counters.fail, checks: rec.checks, timeouts: rec.timeouts,
      lastCheck: last === null ? null : {
        at: new Date(last.finishedAt).toISOString(), ok: last.ok, exitCode: last.exitCode, durationMs: last.durationMs,
        timedOut: last.timedOut, ipAssigned: last.ipAssigned,
      },
      advertise: rec.advertise, inBirdFile: inFile.has(c.prefix), exported: rec.exported,
    };
  });
  return {
    version: STATUS_PROTOCOL_VERSION,
    ok: true,
    daemon: {
      program: ctx.program, version: ctx.version, pid: process.pid, startedAt: ctx.startedAt.toISOString(),
      uptimeSeconds: Math.round((monotonicMs() - ctx.startedAtMonotonic) / 1000), configFiles: config.files,
      workerThreads: config.daemon.workerThreads, threads: supervisor.host?.threadCount ?? 0, eventLoop: ctx.monitor.lag, bird,
    },
    services,
  };
}
