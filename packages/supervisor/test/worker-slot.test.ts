import type { Worker } from 'node:worker_threads';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import {
  INITIAL_LIFECYCLE,
  SlotTransitionError,
  canMove,
  describeSlotChange,
  liveThread,
  transition,
  workerState,
} from '../src/worker-slot';
import type { SlotChange, SlotLifecycle, SlotPhase, SlotPhaseKind } from '../src/worker-slot';

// Stand-ins: the pure module only holds these, it never calls them.
const worker = { threadId: 7 } as unknown as Worker;
const elu = { idle: 0, active: 0, utilization: 0 } as EventLoopUtilization;
const timer = {} as NodeJS.Timeout;

function phase(kind: SlotPhaseKind): SlotPhase {
  switch (kind) {
    case 'idle':
    case 'queued':
    case 'stopped':
      return { kind };
    case 'booting':
      return { kind, worker, startedAt: 0, killReason: null };
    case 'running':
      return { kind, worker, startedAt: 0, killReason: null, eluAtBeat: elu };
    case 'backoff':
      return { kind, timer, delayMs: 100 };
  }
}

const at = (kind: SlotPhaseKind, failed = false): SlotLifecycle => ({ phase: phase(kind), failed });
const KINDS: readonly SlotPhaseKind[] = ['idle', 'queued', 'booting', 'running', 'backoff', 'stopped'];
const ALLOWED: ReadonlyArray<readonly [SlotPhaseKind, SlotPhaseKind]> = [
  ['idle', 'queued'],
  ['idle', 'booting'],
  ['idle', 'backoff'],
  ['idle', 'stopped'],
  ['queued', 'booting'],
  ['queued', 'idle'],
  ['queued', 'stopped'],
  ['booting', 'running'],
  ['booting', 'idle'],
  ['booting', 'stopped'],
  ['running', 'idle'],
  ['running', 'stopped'],
  ['backoff', 'queued'],
  ['backoff', 'booting'],
  ['backoff', 'idle'],
  ['backoff', 'stopped'],
];

describe('worker slot lifecycle (pure)', () => {
  it('allows exactly the moves of the lifecycle, with the failed marking kept', () => {
    for (const from of KINDS) {
      for (const to of KINDS) {
        const allowed = ALLOWED.some(([a, b]) => a === from && b === to);
        for (const failed of [false, true]) {
          expect(canMove(at(from, failed), at(to, failed)), `${from} -> ${to}${failed ? ' (failed)' : ''}`).toBe(allowed);
        }
      }
    }
  });

  it('refuses every move out of stopped, and a move that also changes the marking', () => {
    for (const to of KINDS) expect(canMove(at('stopped'), at(to))).toBe(false);
    expect(canMove(at('running'), at('idle', true))).toBe(false);
    expect(canMove(at('backoff', true), at('booting'))).toBe(false);
  });

  it('marks failed only in idle (a thread just died) and clears the marking only in running', () => {
    for (const kind of KINDS) {
      const here = at(kind);
      expect(canMove(here, { phase: here.phase, failed: true }), `mark in ${kind}`).toBe(kind === 'idle');
      const failed = at(kind, true);
      expect(canMove(failed, { phase: failed.phase, failed: false }), `clear in ${kind}`).toBe(kind === 'running');
    }
  });

  it('refuses a phase to itself without a marking change, and a new object of the same phase', () => {
    const running = at('running');
    expect(canMove(running, running)).toBe(false);
    expect(canMove(at('running', true), { phase: phase('running'), failed: false })).toBe(false);
  });

  it('transition() returns the new lifecycle and tells the observer; a refused one throws and tells nothing', () => {
    const seen: SlotChange[] = [];
    const observer = (c: SlotChange) => seen.push(c);
    let l = transition(INITIAL_LIFECYCLE, at('booting'), 'spawned', observer);
    l = transition(l, at('running'), 'first heartbeat', observer);
    l = transition(l, at('idle'), 'exited with code 3', observer);
    l = transition(l, { phase: l.phase, failed: true }, '5 crashes', observer);
    expect(l).toMatchObject({ phase: { kind: 'idle' }, failed: true });
    expect(seen.map(describeSlotChange)).toEqual([
      'idle -> booting: spawned',
      'booting -> running: first heartbeat',
      'running -> idle: exited with code 3',
      'idle, marked failed: 5 crashes',
    ]);
    expect(() => transition(l, at('running', true), 'bug', observer)).toThrow(SlotTransitionError);
    expect(() => transition(l, at('running', true), 'bug')).toThrow(/cannot go from idle \(failed\) to running \(failed\)/);
    expect(seen).toHaveLength(4);
  });

  it('names the state as the status reply does: the marking wins, restarts tell starting from restarting', () => {
    expect(workerState(at('idle'), 0)).toBe('starting');
    expect(workerState(at('queued'), 0)).toBe('starting');
    expect(workerState(at('booting'), 0)).toBe('starting');
    expect(workerState(at('booting'), 2)).toBe('restarting');
    expect(workerState(at('backoff'), 1)).toBe('restarting');
    expect(workerState(at('running'), 3)).toBe('running');
    expect(workerState(at('running', true), 5)).toBe('failed');
    expect(workerState(at('backoff', true), 5)).toBe('failed');
    expect(workerState(at('stopped', true), 5)).toBe('stopped');
  });

  it('holds a Worker only while booting or running', () => {
    for (const kind of KINDS)
      expect(liveThread(phase(kind))?.worker ?? null, kind).toBe(kind === 'booting' || kind === 'running' ? worker : null);
  });
});
