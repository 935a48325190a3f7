// The container's init is found among systemd-nspawn's children by its PID namespace. nspawn's
// short-lived "outer child" shares our namespace; taking it as the leader made every later
// nsenter fail once it exited, and the boot wait timed out with nothing to say.
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { pollUntil } from '../helpers/poll.js';
import { containerInit } from './nspawn-container.js';

const children = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);

describe('containerInit', () => {
  const kill: Array<() => void> = [];
  afterEach(() => {
    for (const k of kill.splice(0)) k();
  });

  it('skips a child in our PID namespace and returns the one in a namespace of its own', async () => {
    // One parent, two children: first a sleep in our namespace (the lower PID, found first by a
    // scan of /proc), then, once the shell has become unshare, a sleep in a new PID namespace.
    const parent = spawn('/bin/sh', ['-c', 'sleep 60 & exec unshare --pid --fork sleep 60'], { stdio: 'ignore', detached: true });
    kill.push(() => process.kill(-(parent.pid ?? 0), 'SIGKILL'));
    const pid = parent.pid ?? -1;
    const both = await pollUntil(async () => (children(pid).length === 2 ? children(pid) : undefined), {
      what: 'the two children of the test parent',
      timeoutMs: 10_000,
    });
    const ours = readlinkSync('/proc/self/ns/pid');
    const inOurs = both.filter((c) => readlinkSync(`/proc/${c}/ns/pid`) === ours);
    const inOwn = both.filter((c) => readlinkSync(`/proc/${c}/ns/pid`) !== ours);
    expect(inOurs).toHaveLength(1);
    expect(inOwn).toHaveLength(1);
    expect(await containerInit(pid)).toBe(inOwn[0]);
  });

  it('returns undefined while no child has a namespace of its own', async () => {
    const parent = spawn('/bin/sh', ['-c', 'sleep 60 & wait'], { stdio: 'ignore', detached: true });
    kill.push(() => process.kill(-(parent.pid ?? 0), 'SIGKILL'));
    const pid = parent.pid ?? -1;
    await pollUntil(async () => (children(pid).length === 1 ? true : undefined), {
      what: 'the child of the test parent',
      timeoutMs: 10_000,
    });
    expect(await containerInit(pid)).toBeUndefined();
  });
});
