// The built daemon with its check spawner, ahc-spawn (docs/design.md, "Spawning checks: the
// ahc-spawn helper"): the helper is SIGKILLed while 5 services check every 0.2 s, and nothing
// shows: no check fails, no route changes, the BIRD file stays as it was, and the helper is back.
// And a daemon whose helper binary is missing checks as before, spawning from its threads.
import { readFileSync, readdirSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DaemonProcess,
  ensureBuilt,
  killDaemons,
  pollUntil,
  removeTempDirs,
  writeDaemonSetup,
} from '../../apps/anycast-healthchecker/test/harness';
import { StatusConnection } from '../helpers/status-client';

beforeAll(ensureBuilt);
afterEach(async () => {
  await killDaemons();
  removeTempDirs();
});

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
}
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] !== 'Z') out.push({ pid: Number(name), ppid: Number(f[1]), comm });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
/** The daemon's ahc-spawn, found as its child in /proc. */
const helperOf = (daemonPid: number): number | undefined => processes().find((p) => p.ppid === daemonPid && p.comm === 'ahc-spawn')?.pid;
const childrenOf = (pid: number): Proc[] => processes().filter((p) => p.ppid === pid);
function pgrpOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return f[0] === 'Z' ? undefined : Number(f[2]);
  } catch {
    return undefined;
  }
}

interface SpawnHelperView {
  via: 'host' | 'self';
  reason: string;
  state?: string;
  pid?: number | null;
  restarts?: number;
  rerunsAfterDeath?: number;
}
async function spawnHelperStatus(status: StatusConnection): Promise<SpawnHelperView> {
  const reply = await status.request({ command: 'status' });
  return (reply.daemon as { spawnHelper: SpawnHelperView }).spawnHelper;
}

const SERVICES = [1, 2, 3, 4, 5].map((i) => ({
  name: `svc${i}`,
  prefix: `10.52.40.${i}/32`,
  checkCmd: "/bin/sh -c 'sleep 0.02'",
  interval: 0.2,
}));

describe('the ahc-spawn helper in the built daemon', () => {
  it('is SIGKILLed while 5 services check every 0.2 s: no check fails, no route changes, it is restarted', async () => {
    const setup = writeDaemonSetup(SERVICES);
    const daemon = DaemonProcess.start(setup.args);
    await daemon.waitForLine(/check commands are spawned by .*ahc-spawn \(pid \d+\)/);
    let lastUp = 0;
    for (const s of SERVICES) lastUp = Math.max(lastUp, await daemon.waitForLine(new RegExp(` ${s.name} +changed to UP`)));
    await daemon.waitForLine(/reconfigured BIRD daemon/, 10_000, lastUp);
    // The five decisions may take more than one write: wait until the file has them all and BIRD was told.
    await pollUntil(
      'all five prefixes in the BIRD file, and BIRD reconfigured after the last write',
      () => {
        const text = readFileSync(setup.birdConf, 'utf8');
        const lastWrite = daemon.lines.findLastIndex((l) => /reconfiguring BIRD by running/.test(l));
        const lastDone = daemon.lines.findLastIndex((l) => /reconfigured BIRD daemon/.test(l));
        return SERVICES.every((s) => text.includes(s.prefix)) && lastDone > lastWrite ? true : undefined;
      },
      10_000,
    );
    const status = await StatusConnection.waitFor(setup.pidfile.replace(/\.pid$/, '.sock'), 5_000);
    const before = await spawnHelperStatus(status);
    expect(before).toMatchObject({ via: 'host', state: 'running', restarts: 0 });
    const first = helperOf(daemon.pid);
    expect(first).toBe(before.pid);
    const birdFile = readFileSync(setup.birdConf, 'utf8');
    for (const s of SERVICES) expect(birdFile).toContain(s.prefix);

    // Kill it while it runs checks.
    await pollUntil('a check running in the helper', () => (childrenOf(first as number).length > 0 ? true : undefined), 5_000);
    const killedAt = daemon.lines.length;
    process.kill(first as number, 'SIGKILL');
    const second = await pollUntil(
      'a new ahc-spawn child of the daemon',
      () => {
        const pid = helperOf(daemon.pid);
        return pid !== undefined && pid !== first ? pid : undefined;
      },
      5_000,
    );
    await daemon.waitForLine(/the check spawner ahc-spawn \(pid \d+\) was killed by SIGKILL/, 5_000, killedAt);
    // Later checks go through the new helper (a check is its child), and keep succeeding.
    await pollUntil('a check running in the new helper', () => (childrenOf(second).length > 0 ? true : undefined), 5_000);
    const after = daemon.lines.length;
    await pollUntil(
      '25 more checks',
      () => (daemon.lines.slice(after).filter((l) => /check duration/.test(l)).length >= 25 ? true : undefined),
      10_000,
    );
    const since = daemon.lines.slice(killedAt);
    expect(
      since.filter((l) => /changed to DOWN|going down|check failed|check timed out/.test(l)),
      daemon.tail(),
    ).toEqual([]);
    expect(readFileSync(setup.birdConf, 'utf8')).toBe(birdFile);
    expect(await spawnHelperStatus(status)).toMatchObject({ via: 'host', state: 'running', pid: second, restarts: 1 });
    status.close();
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    // Stopped with the daemon.
    expect(processes().some((p) => p.pid === second)).toBe(false);
  });

  it('leaves with the daemon: a SIGKILLed daemon takes the helper and its running checks along', async () => {
    const setup = writeDaemonSetup([
      { name: 'slow', prefix: '10.52.40.9/32', checkCmd: "/bin/sh -c 'sleep 30 & sleep 30'", interval: 0.3 },
    ]);
    const daemon = DaemonProcess.start(setup.args);
    await daemon.waitForLine(/check commands are spawned by .*ahc-spawn/);
    const helper = await pollUntil('the helper', () => helperOf(daemon.pid), 5_000);
    const check = await pollUntil('a running check', () => childrenOf(helper)[0]?.pid, 10_000);
    process.kill(daemon.pid, 'SIGKILL');
    await daemon.exited;
    await pollUntil('the helper to leave', () => (processes().some((p) => p.pid === helper) ? undefined : true), 5_000);
    const inGroup = () => readdirSync('/proc').filter((n) => /^\d+$/.test(n) && pgrpOf(Number(n)) === check);
    await pollUntil('the check group to be gone', () => (inGroup().length === 0 ? true : undefined), 5_000);
  });

  it('is missing: the daemon says so once and the threads spawn their checks themselves', async () => {
    const setup = writeDaemonSetup(SERVICES.slice(0, 2));
    const daemon = DaemonProcess.start(setup.args, { ...process.env, AHC_SPAWN_HELPER: '/nonexistent/ahc-spawn' });
    const warned = await daemon.waitForLine(
      /\/nonexistent\/ahc-spawn could not be started: .*ENOENT.*; check commands are spawned by the check threads themselves/,
    );
    await daemon.waitForLine(/ svc1 +changed to UP/, 10_000, warned);
    await daemon.waitForLine(/ svc2 +changed to UP/, 10_000, warned);
    const status = await StatusConnection.waitFor(setup.pidfile.replace(/\.pid$/, '.sock'), 5_000);
    expect(await spawnHelperStatus(status)).toMatchObject({ via: 'self' });
    status.close();
    expect(helperOf(daemon.pid)).toBeUndefined();
    expect(daemon.lines.filter((l) => l.includes('could not be started'))).toHaveLength(1);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});
