// Real daemon processes (docs/anycast-healthchecker.8, SIGNALS; docs/operations.md). Single instance (abstract socket and pidfile), signals, and
// staying up with nothing to check. Each daemon has its own instance_lock, so files run in parallel.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DaemonProcess,
  deadPid,
  delay,
  ensureBuilt,
  killDaemons,
  makeTempDir,
  pollUntil,
  readIfExists,
  removeTempDirs,
  serviceText,
  uniqueLockName,
  writeDaemonSetup,
} from './harness';
import type { DaemonSetup } from './harness';
import { StatusConnection } from '../../../test/helpers/status-client';

beforeAll(ensureBuilt);
afterEach(async () => {
  await killDaemons();
  removeTempDirs();
});

const WEB = { name: 'web', prefix: '10.52.12.1/32' } as const;

/** Resolves once the BIRD file holds `prefix`: the daemon is up and its signal handlers are set. */
function waitForPrefix(daemon: DaemonProcess, setup: DaemonSetup, prefix: string): Promise<string> {
  return pollUntil(
    `${prefix} in ${setup.birdConf}`,
    () => {
      if (daemon.exit !== undefined) throw new Error(`the daemon exited (${daemon.exit.code ?? daemon.exit.signal})\n${daemon.tail()}`);
      const text = readIfExists(setup.birdConf);
      return text !== undefined && new RegExp(`^\\s+${prefix.replaceAll('.', '\\.')},?$`, 'm').test(text) ? text : undefined;
    },
    15_000,
    () => daemon.tail(),
  );
}

/** Resolves with the pidfile's pid once it names `pid`. */
function waitForPidfile(setup: DaemonSetup, pid: number, daemon: DaemonProcess): Promise<number> {
  return pollUntil(
    `pidfile ${setup.pidfile} naming ${pid}`,
    () => (readIfExists(setup.pidfile)?.trim() === String(pid) ? pid : undefined),
    10_000,
    () => daemon.tail(),
  );
}

/** Start a daemon and wait until it advertises the healthy service. */
async function startHealthy(setup: DaemonSetup): Promise<DaemonProcess> {
  const daemon = DaemonProcess.start(setup.args);
  await waitForPrefix(daemon, setup, WEB.prefix);
  return daemon;
}

describe('single instance', () => {
  it('refuses a second daemon with the same instance_lock, with exit 1 and a clear message', async () => {
    const first = writeDaemonSetup([WEB]);
    const daemon = await startHealthy(first);
    // Everything else differs (pidfile, BIRD file); only the lock name is shared.
    const second = writeDaemonSetup([WEB], { instance_lock: first.instanceLock });
    const refused = DaemonProcess.start(second.args);
    expect(await refused.waitForExit()).toEqual({ code: 1, signal: null });
    expect(refused.lines.join('\n')).toMatch(new RegExp(`already running.*@${first.instanceLock}`));
    expect(refused.lines.join('\n')).not.toMatch(/^\s{4}at /m);
    expect(existsSync(second.pidfile)).toBe(false);
    // The first one is untouched.
    expect(daemon.exit).toBeUndefined();
    expect(readFileSync(first.pidfile, 'utf8').trim()).toBe(String(daemon.pid));
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });

  it('refuses to start while the pidfile names a live daemon, even under another instance_lock', async () => {
    const first = writeDaemonSetup([WEB]);
    const daemon = await startHealthy(first);
    const second = writeDaemonSetup([WEB], { pidfile: first.pidfile, instance_lock: uniqueLockName() });
    const refused = DaemonProcess.start(second.args);
    expect(await refused.waitForExit()).toEqual({ code: 1, signal: null });
    const output = refused.lines.join('\n');
    expect(output).toContain(first.pidfile);
    expect(output).toContain(String(daemon.pid));
    expect(output).toMatch(/refusing to start/);
    expect(readFileSync(first.pidfile, 'utf8').trim()).toBe(String(daemon.pid));
    expect(daemon.exit).toBeUndefined();
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });

  it.each([
    ['a stale pidfile (pid of a dead process)', () => `${deadPid()}\n`, /replaced a stale pidfile/],
    ['a garbage pidfile', () => 'not a pid at all\n', /replaced a garbage pidfile/],
    ['an empty pidfile', () => '', /replaced a garbage pidfile/],
  ])('replaces %s and starts', async (_what, content, warning) => {
    const setup = writeDaemonSetup([WEB]);
    writeFileSync(setup.pidfile, content());
    const daemon = await startHealthy(setup);
    expect(readFileSync(setup.pidfile, 'utf8')).toBe(`${daemon.pid}\n`);
    expect(daemon.lines.join('\n')).toMatch(warning);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(existsSync(setup.pidfile)).toBe(false);
  });

  it('starts again after a stop, reusing the lock and the pidfile', async () => {
    const setup = writeDaemonSetup([WEB]);
    const first = await startHealthy(setup);
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    const second = DaemonProcess.start(setup.args);
    await waitForPidfile(setup, second.pid, second);
    // Restored from state_dir, the service goes on as UP: its first check says `status UP`.
    await second.waitForLine(/changed to UP|reconfigured BIRD| web +status UP$/);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
  });
});

/**
 * A daemon whose start-up takes 1.5 s: the BIRD file is missing, and the start-up repair waits for
 * its reconfigure, which sleeps. Signals sent meanwhile arrive during start-up.
 */
function slowStartupSetup(): DaemonSetup {
  const slow = join(makeTempDir('slow-reconfigure'), 'reconfigure.sh');
  writeFileSync(slow, '#!/bin/sh\nsleep 1.5\necho Reconfigured\n');
  chmodSync(slow, 0o755);
  return writeDaemonSetup([WEB], { bird_reconfigure_cmd: slow, bird6_reconfigure_cmd: slow });
}

describe('SIGHUP', () => {
  it('during start-up is applied once the checks run, not dropped', async () => {
    const setup = slowStartupSetup();
    const daemon = DaemonProcess.start(setup.args);
    const repairing = await daemon.waitForLine(/reconfiguring BIRD by running/);
    expect(daemon.lines.some((l) => l.includes('starting anycast-healthchecker'))).toBe(false);
    writeFileSync(join(setup.dir, 'db.conf'), serviceText({ name: 'db', prefix: '10.52.12.2/32', checkCmd: '/bin/true' }));
    process.kill(daemon.pid, 'SIGHUP');
    const deferred = await daemon.waitForLine(/the configuration is reloaded as soon as start-up is complete/, 10_000, repairing);
    const started = await daemon.waitForLine(/starting anycast-healthchecker version /, 10_000, deferred);
    await daemon.waitForLine(/configuration reloaded: 1 added \(db\), 0 removed, 0 changed, 1 unchanged/, 10_000, started);
    await daemon.waitForLine(/ db +changed to UP/, 10_000, started);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});

describe('SIGTERM during start-up', () => {
  it('stops cleanly: exit 0, the pidfile removed, no check started', async () => {
    const setup = slowStartupSetup();
    const daemon = DaemonProcess.start(setup.args);
    await waitForPidfile(setup, daemon.pid, daemon);
    process.kill(daemon.pid, 'SIGTERM');
    expect(await pollUntil('the exit', () => daemon.exit, 10_000)).toEqual({ code: 0, signal: null });
    expect(existsSync(setup.pidfile)).toBe(false);
    expect(daemon.lines.some((l) => l.includes('received 15 at '))).toBe(true);
    expect(daemon.lines.some((l) => / web +running /.test(l))).toBe(false);
  });
});

describe('an internal error in the main thread', () => {
  it('is logged once, and the daemon exits 1 with the pidfile removed and the BIRD file as decided', async () => {
    const setup = writeDaemonSetup([WEB]);
    const daemon = DaemonProcess.start(setup.args, { ...process.env, AHC_FAULT_INJECTION: '1' });
    const up = await daemon.waitForLine(/ web +changed to UP/);
    await daemon.waitForLine(/reconfigured BIRD daemon/, 10_000, up);
    const before = readFileSync(setup.birdConf, 'utf8');
    expect(before).toMatch(/^\s+10\.52\.12\.1\/32$/m);
    const status = await StatusConnection.waitFor(setup.pidfile.replace(/\.pid$/, '.sock'), 5_000);
    await status.injectFault('*', 'main-throw');
    status.close();
    const exit = await pollUntil('the exit', () => daemon.exit, 7_000);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(daemon.lines.filter((l) => l.includes('internal error, exiting: Error: injected fault'))).toHaveLength(1);
    expect(existsSync(setup.pidfile)).toBe(false);
    expect(readFileSync(setup.birdConf, 'utf8')).toBe(before);
  });
});

describe('stopping', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s: exit 0, pidfile removed, BIRD file left as last decided', async (signal) => {
    const setup = writeDaemonSetup([WEB, { name: 'db', prefix: '10.52.12.2/32', checkCmd: '/bin/false' }]);
    const daemon = await startHealthy(setup);
    expect(readFileSync(setup.pidfile, 'utf8').trim()).toBe(String(daemon.pid));
    // Let both decisions be applied first: a write already under way when the signal arrives may
    // finish (drain), which is not what this test is about.
    // (The BIRD repair at startup is done before any check runs, so this is the UP's reconfigure.)
    const up = await daemon.waitForLine(/ web +changed to UP/);
    await daemon.waitForLine(/reconfigured BIRD daemon/, 10_000, up);
    await daemon.waitForLine(/ db +changed to DOWN/);
    expect(await daemon.stop(signal)).toEqual({ code: 0, signal: null });
    expect(existsSync(setup.pidfile)).toBe(false);
    // Routes stay as last decided: the healthy prefix is still advertised, the failing one not.
    const left = readFileSync(setup.birdConf, 'utf8');
    expect(left).toMatch(/^\s+10\.52\.12\.1\/32$/m);
    expect(left).not.toContain('10.52.12.2/32');
    // Stopping neither rewrites the file nor reconfigures BIRD.
    const stopAt = daemon.lines.findIndex((l) => l.includes(`received ${signal === 'SIGTERM' ? 15 : 2} at `));
    expect(stopAt).toBeGreaterThanOrEqual(0);
    expect(
      daemon.lines.slice(stopAt).filter((l) => /is updated|reconfiguring BIRD/.test(l)),
      daemon.tail(),
    ).toEqual([]);
  });

  it('does not remove a pidfile that is no longer its own', async () => {
    const setup = writeDaemonSetup([WEB]);
    const daemon = await startHealthy(setup);
    writeFileSync(setup.pidfile, '999999\n');
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(readFileSync(setup.pidfile, 'utf8')).toBe('999999\n');
  });
});

describe('nothing to check', () => {
  it.each([
    ['only disabled services', [{ name: 'web', prefix: '10.52.12.1/32', disabled: true }]],
    ['no services at all', []],
  ])('stays up with %s until SIGTERM', async (_what, services) => {
    const setup = writeDaemonSetup(services);
    const daemon = DaemonProcess.start(setup.args);
    // The startup write of the BIRD file (with the dummy prefix) comes after the signal handlers.
    await pollUntil(
      'the BIRD file',
      () => (readIfExists(setup.birdConf)?.includes('10.189.200.255/32') === true ? true : undefined),
      10_000,
      () => daemon.tail(),
    );
    await daemon.waitForLine(/reconfigured BIRD daemon/);
    // An observation window, not a synchronisation: the daemon must still be running after it.
    const outcome = await Promise.race([daemon.exited, delay(1500).then(() => 'still running' as const)]);
    expect(outcome).toBe('still running');
    // And it still answers signals.
    const seen = daemon.lines.length;
    daemon.child.kill('SIGURG');
    await daemon.waitForLine(/received SIGURG/, 10_000, seen);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(existsSync(setup.pidfile)).toBe(false);
  });
});

describe('SIGURG', () => {
  it('runs every enabled check now, long before its next turn', async () => {
    const root = makeTempDir('sigurg');
    const runs = join(root, 'runs.log');
    const script = join(root, 'check.sh');
    writeFileSync(script, '#!/bin/sh\necho run >> "$1"\n');
    chmodSync(script, 0o755);
    const otherRuns = join(root, 'other-runs.log');
    const setup = writeDaemonSetup([
      { name: 'web', prefix: '10.52.12.1/32', checkCmd: `${script} ${runs}`, interval: 30 },
      { name: 'db', prefix: '10.52.12.2/32', checkCmd: `${script} ${otherRuns}`, interval: 30 },
    ]);
    const daemon = DaemonProcess.start(setup.args);
    const lineCount = (path: string): number => (readIfExists(path) ?? '').split('\n').filter((l) => l !== '').length;
    await pollUntil(
      'the first run of both checks',
      () => (lineCount(runs) >= 1 && lineCount(otherRuns) >= 1 ? true : undefined),
      10_000,
      () => daemon.tail(),
    );
    expect([lineCount(runs), lineCount(otherRuns)]).toEqual([1, 1]);
    const sentAt = performance.now();
    daemon.child.kill('SIGURG');
    await pollUntil(
      'a second run of both checks after SIGURG',
      () => (lineCount(runs) >= 2 && lineCount(otherRuns) >= 2 ? true : undefined),
      10_000,
      () => daemon.tail(),
    );
    // Well before the 30 s interval would have run them again.
    expect(performance.now() - sentAt).toBeLessThan(10_000);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});
