import { AhcError, ERR } from '@ahc/errors';
import type { WatchdogKind } from './watchdog';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { ServiceCheckSpec } from '@ahc/protocol';
import type { WorkerStateName } from '@ahc/status';

/**
 * The life of a worker slot (a place for one check thread), pure: the phases, the moves allowed
 * between them and the one function that makes a move (docs/design.md, "Threads and ownership").
 */

/** A thread's state as the status reply names it: every worker state but `disabled` (a disabled
 * check gets no thread at all). */
export type WorkerState = Exclude<WorkerStateName, 'disabled'>;

/** What a slot holds while it has a thread (booting or running). */
export interface LiveThread {
  readonly worker: Worker;
  /** When the thread was spawned (monotonic ms); moved on when the main thread itself stalled. */
  startedAt: number;
  /** Why the watchdog terminated it (reported instead of the exit code); null until it does. */
  killReason: string | null;
  /** Which watchdog rule that was. */
  killKind?: WatchdogKind;
}

/** How a thread ended, counted per slot for status and metrics: it exited, threw, or which watchdog rule terminated it. */
export type WorkerExitKind = 'exit' | 'throw' | 'spawn-failed' | `watchdog:${WatchdogKind}`;

export type SlotPhase =
  /** No thread and none coming: a fresh slot, a thread that just died, or no service to host. */
  | { readonly kind: 'idle' }
  /** Waiting for a boot place (only so many threads boot at once). */
  | { readonly kind: 'queued' }
  /** Spawned, no heartbeat yet. */
  | ({ readonly kind: 'booting' } & LiveThread)
  /** Sent its first heartbeat. */
  | ({ readonly kind: 'running'; /** Its event-loop utilisation at its last heartbeat. */ eluAtBeat: EventLoopUtilization } & LiveThread)
  /** Its thread died; the restart waits for the timer. */
  | { readonly kind: 'backoff'; readonly timer: NodeJS.Timeout; readonly delayMs: number }
  /** For good: the slot has left the host. */
  | { readonly kind: 'stopped' };

export type SlotPhaseKind = SlotPhase['kind'];

/**
 * A slot's phase and its `failed` marking. The marking is not a phase: after
 * FAILED_AFTER_CRASHES quick crashes the slot's services are marked failed while its restarts
 * go on with backoff, through every phase, until a thread runs stable and posts a result.
 */
export interface SlotLifecycle {
  readonly phase: SlotPhase;
  readonly failed: boolean;
}

export const INITIAL_LIFECYCLE: SlotLifecycle = { phase: { kind: 'idle' }, failed: false };

/** A place for one check thread. Its lifecycle changes only through `transition()` (the host's
 * #move); the rest is what it knows of its services and its latest thread, whatever the phase. */
export interface Slot {
  lifecycle: SlotLifecycle;
  readonly specs: Map<string, ServiceCheckSpec>;
  readonly progress: Map<string, number>;
  /** The latest thread's id (null before the first), shown while it is replaced. */
  threadId: number | null;
  /** The latest thread's last heartbeat: null from its spawn until its first one. */
  lastHeartbeat: number | null;
  restarts: number;
  crashes: number;
  lastExit: string | null;
  /** Its threads' ends so far, by kind. */
  readonly exits: Map<WorkerExitKind, number>;
  /** When its latest thread died: a replacement's start latency is counted from it. */
  diedAt: number | null;
  /** Malformed messages dropped since the last report, and when that report was. */
  malformed: number;
  malformedReportedAt: number | null;
}

export function emptySlot(): Slot {
  return {
    lifecycle: INITIAL_LIFECYCLE,
    specs: new Map(),
    progress: new Map(),
    threadId: null,
    lastHeartbeat: null,
    restarts: 0,
    crashes: 0,
    lastExit: null,
    exits: new Map(),
    diedAt: null,
    malformed: 0,
    malformedReportedAt: null,
  };
}

/** The phases each phase may move to. */
const NEXT: Readonly<Record<SlotPhaseKind, readonly SlotPhaseKind[]>> = {
  idle: ['queued', 'booting', 'backoff', 'stopped'],
  queued: ['booting', 'idle', 'stopped'],
  booting: ['running', 'idle', 'stopped'],
  running: ['idle', 'stopped'],
  backoff: ['queued', 'booting', 'idle', 'stopped'],
  stopped: [],
};

/** One change of a slot's lifecycle, as the observer sees it. */
export interface SlotChange {
  readonly from: SlotPhaseKind;
  readonly to: SlotPhaseKind;
  readonly wasFailed: boolean;
  readonly failed: boolean;
  readonly why: string;
}

export type SlotObserver = (change: SlotChange) => void;

export class SlotTransitionError extends AhcError {
  override name = 'SlotTransitionError';

  constructor(message: string) {
    super(ERR.AHC_SLOT_TRANSITION, message);
  }
}

/**
 * Whether `from` may become `to`. A move changes the phase and keeps the marking; a marking
 * changes in place (same phase): it is set in `idle` (a thread just died, its crash counted) and
 * cleared in `running` (a thread that had failed posted a result after a stable run).
 */
export function canMove(from: SlotLifecycle, to: SlotLifecycle): boolean {
  if (from.phase.kind === to.phase.kind) {
    if (from.phase !== to.phase || from.failed === to.failed) return false;
    return to.failed ? from.phase.kind === 'idle' : from.phase.kind === 'running';
  }
  return from.failed === to.failed && NEXT[from.phase.kind].includes(to.phase.kind);
}

/** The only way a slot's lifecycle changes: refuses a move that is not allowed (a bug in the host)
 * and tells the observer of every change. */
export function transition(from: SlotLifecycle, to: SlotLifecycle, why: string, observer?: SlotObserver): SlotLifecycle {
  if (!canMove(from, to)) {
    throw new SlotTransitionError(`worker slot cannot go from ${describe(from)} to ${describe(to)} (${why})`);
  }
  observer?.({ from: from.phase.kind, to: to.phase.kind, wasFailed: from.failed, failed: to.failed, why });
  return to;
}

/** The state the status reply shows for a slot that has had `restarts` restarts. */
export function workerState(lifecycle: SlotLifecycle, restarts: number): WorkerState {
  const kind = lifecycle.phase.kind;
  if (kind === 'stopped') return 'stopped';
  if (lifecycle.failed) return 'failed';
  if (kind === 'running') return 'running';
  return restarts > 0 ? 'restarting' : 'starting';
}

/** The thread of a booting or running slot, else null. */
export function liveThread(phase: SlotPhase): (LiveThread & { readonly kind: 'booting' | 'running' }) | null {
  return phase.kind === 'booting' || phase.kind === 'running' ? phase : null;
}

/** `running -> idle: exited with code 3`, `idle, marked failed: …`, for the debug log. */
export function describeSlotChange(change: SlotChange): string {
  const marking = change.failed === change.wasFailed ? '' : change.failed ? ', marked failed' : ', failed marking cleared';
  const move = change.from === change.to ? change.to : `${change.from} -> ${change.to}`;
  return `${move}${marking}: ${change.why}`;
}

function describe(l: SlotLifecycle): string {
  return `${l.phase.kind}${l.failed ? ' (failed)' : ''}`;
}
