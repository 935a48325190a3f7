// The real daemon with state_dir and withdraw_on_shutdown (docs/operations.md, "State across
// restarts" and "Withdraw on shutdown"): restored states across a restart, state file faults
// (reported, ignored, the daemon runs), and the withdraw at SIGTERM with a stand-in for birdc.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parsePrefixFile } from '@ahc/bird';
import { DaemonProcess, ensureBuilt, killDaemons, pollUntil, readIfExists, removeTempDirs, runCli, writeDaemonSetup } from './harness';
import type { DaemonSetup } from './harness';

beforeAll(ensureBuilt);
const mounts: string[] = [];
afterEach(async () => {
  await killDaemons();
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
  removeTempDirs();
});

const PREFIX = '10.52.12.1/32';
const DUMMY = '10.189.200.255/32';
const isRoot = process.getuid?.() === 0;

/** A service with rise 3 / fail `fail`, its check passing while `ok` exists. */
function setupWith(daemon: Record<string, string>, fail = 2): DaemonSetup & { ok: string; stateFile: string; stateDir: string } {
  const setup = writeDaemonSetup([], { loglevel: 'info', ...daemon });
  const ok = join(setup.root, 'ok');
  writeFileSync(ok, '');
  writeFileSync(
    join(setup.dir, 'web.conf'),
    [
      '[web]',
      `check_cmd = /usr/bin/test -e ${ok}`,
      `ip_prefix = ${PREFIX}`,
      'check_disabled = false',
      'ip_check_disabled = true',
      'check_interval = 0.3',
      'check_timeout = 0.2',
      'check_rise = 3',
      `check_fail = ${fail}`,
      '',
    ].join('\n'),
  );
  const stateDir = daemon.state_dir ?? join(setup.root, 'state');
  return { ...setup, ok, stateDir, stateFile: join(stateDir, 'state.json') };
}

/** The state file as `status --json` tells it. */
async function stateFileStatus(
  setup: DaemonSetup,
): Promise<{ path: string; state: string; writes: number; failures: number; lastProblem: string | null }> {
  const r = await runCli(['status', '--json', ...setup.args]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { daemon: { stateFile: never } }).daemon.stateFile;
}

const prefixes = (setup: DaemonSetup): readonly string[] => {
  const text = readIfExists(setup.birdConf);
  return text === undefined ? [] : parsePrefixFile(text).prefixes;
};

function waitForPrefix(daemon: DaemonProcess, setup: DaemonSetup, present = true): Promise<true> {
  return pollUntil(
    `${PREFIX} ${present ? 'in' : 'out of'} ${setup.birdConf}`,
    () => {
      if (daemon.exit !== undefined) throw new Error(`the daemon exited\n${daemon.tail()}`);
      return prefixes(setup).includes(PREFIX) === present ? true : undefined;
    },
    15_000,
    () => daemon.tail(),
  );
}

const messages = (daemon: DaemonProcess, service: string): string[] =>
  daemon.lines.filter((l) => new RegExp(`\\] \\w+ +${service} `).test(l)).map((l) => l.replace(new RegExp(`^.*? ${service} +`), ''));

/** The announcement of the prefix logged and its reconfigure done. */
async function applied(daemon: DaemonProcess): Promise<void> {
  const announced = await daemon.waitForLine(/announcing /);
  await daemon.waitForLine(/reconfigured BIRD daemon/, 10_000, announced);
}

async function runUntilUp(setup: DaemonSetup): Promise<void> {
  const first = DaemonProcess.start(setup.args);
  await waitForPrefix(first, setup);
  await applied(first);
  expect(await first.stop()).toEqual({ code: 0, signal: null });
}

describe('state across a restart', () => {
  it('starts a service that was UP in that state: the prefix stays in the file and its first check logs status UP', async () => {
    const setup = setupWith({});
    await runUntilUp(setup);
    const saved = JSON.parse(readFileSync(setup.stateFile, 'utf8')) as { services: Record<string, { state: string }> };
    expect(saved.services.web?.state).toBe('up');
    // Even with the BIRD file gone, the restored decision is written before any check runs.
    rmSync(setup.birdConf);
    const second = DaemonProcess.start(setup.args);
    const starting = await second.waitForLine(/starting anycast-healthchecker version/);
    expect(prefixes(setup)).toEqual([DUMMY, PREFIX]);
    await second.waitForLine(/ web +status UP$/);
    expect(second.lines.slice(0, starting).join('\n')).toMatch(/restored the last decided state of 1 service\(s\) from .*: UP web; DOWN -/);
    expect(messages(second, 'web').filter((m) => /going up|changed to/.test(m))).toEqual([]);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
  });

  it('withdraws a restored UP service whose checks fail, after check_fail failures as an UP service', async () => {
    const setup = setupWith({}, 3);
    await runUntilUp(setup);
    rmSync(setup.ok);
    // Without the BIRD file, only the restored state can advertise it before the checks.
    rmSync(setup.birdConf);
    const second = DaemonProcess.start(setup.args);
    await second.waitForLine(/starting anycast-healthchecker version/);
    expect(prefixes(setup)).toEqual([DUMMY, PREFIX]);
    await second.waitForLine(/ web +changed to DOWN$/);
    await waitForPrefix(second, setup, false);
    expect(messages(second, 'web').filter((m) => /going|changed to|status/.test(m))).toEqual([
      'going down 1/3',
      'going down 2/3',
      'changed to DOWN',
    ]);
    await second.stop();
  });

  it('does not restore a state older than state_max_age (the service starts UNKNOWN)', async () => {
    const setup = setupWith({ state_max_age: '0' });
    await runUntilUp(setup);
    const second = DaemonProcess.start(setup.args);
    await second.waitForLine(/ web +going up 1\/3$/);
    expect(second.lines.join('\n')).toMatch(/not restored: web \(up\): last confirmed \d+ s ago, more than state_max_age/);
    await second.stop();
  });
});

describe('state file faults: reported, ignored, the daemon runs', () => {
  it.each([
    ['corrupt', '{"program": "anycast-healthchecker", "format": 1, "serv', 'not JSON'],
    ['empty', '', 'the file is empty'],
    [
      'from a newer version',
      '{"program": "anycast-healthchecker", "format": 99, "version": "9.0.0"}',
      'written in format 99 by a newer version',
    ],
    ['foreign', '{"services": {"web": {"state": "up"}}}', 'not a state file of anycast-healthchecker'],
  ])('%s: one warning, every service starts UNKNOWN, and the file is replaced', async (_what, text, reason) => {
    const setup = setupWith({});
    mkdirSync(setup.stateDir);
    writeFileSync(setup.stateFile, text);
    const daemon = DaemonProcess.start(setup.args);
    await waitForPrefix(daemon, setup);
    expect(daemon.lines.filter((l) => l.includes('AHC_STATE_FILE'))).toEqual([
      expect.stringContaining(`WARNING  MainThread AHC_STATE_FILE: ignoring the state file ${setup.stateFile}: ${reason}`),
    ]);
    expect(messages(daemon, 'web')).toContain('going up 1/3');
    await pollUntil('a valid state file', () => (readIfExists(setup.stateFile)?.includes('"state": "up"') === true ? true : undefined));
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });

  it('a state_dir that cannot be created: reported, the daemon runs without persistence', async () => {
    const setup = setupWith({});
    const blocker = join(setup.root, 'not-a-dir');
    writeFileSync(blocker, '');
    const withBadDir = setupWith({ state_dir: join(blocker, 'state') });
    const daemon = DaemonProcess.start(withBadDir.args);
    await waitForPrefix(daemon, withBadDir);
    expect(daemon.lines.join('\n')).toMatch(
      /AHC_STATE_FILE: state_dir .*not-a-dir\/state cannot be used \(.*\); running without persistence/,
    );
    // What status, the Nagios check and an alert read, not only the log.
    expect(await stateFileStatus(withBadDir)).toMatchObject({
      path: join(blocker, 'state', 'state.json'),
      state: 'disabled',
      writes: 0,
      lastProblem: expect.stringMatching(/^state_dir .*not-a-dir\/state cannot be used: /),
    });
    const nagios = await runCli(['status', '--nagios', ...withBadDir.args]);
    expect(nagios.code).toBe(1);
    expect(nagios.stdout).toMatch(/^ANYCAST-HEALTHCHECKER WARNING - state file \S+ disabled: state_dir /);
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });

  it.runIf(isRoot).each([
    ['an unwritable (read-only) state_dir', 'ro'],
    ['a full disk', 'full'],
  ])('%s: one warning, the daemon runs on and stops with 0', async (_what, kind) => {
    const setup = setupWith({});
    const target = join(setup.root, 'state');
    mkdirSync(target);
    if (kind === 'ro') {
      const src = join(setup.root, 'state-src');
      mkdirSync(src);
      execFileSync('mount', ['--bind', src, target]);
      mounts.push(target);
      execFileSync('mount', ['-o', 'remount,bind,ro', target]);
    } else {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', target]);
      mounts.push(target);
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(target, 'filler')}`, 'bs=4k', 'count=16'], { stdio: 'ignore' });
      } catch {
        // full: what we wanted
      }
    }
    const daemon = DaemonProcess.start(setup.args);
    await waitForPrefix(daemon, setup);
    await daemon.waitForLine(/AHC_STATE_FILE: cannot write .*state\.json.*; the daemon runs on/);
    // Decisions keep coming (the service flaps below) and the warning is not repeated.
    rmSync(setup.ok);
    await waitForPrefix(daemon, setup, false);
    writeFileSync(setup.ok, '');
    await waitForPrefix(daemon, setup);
    expect(daemon.lines.filter((l) => l.includes('AHC_STATE_FILE: cannot write'))).toHaveLength(1);
    const failing = await stateFileStatus(setup);
    expect(failing).toMatchObject({ path: setup.stateFile, state: 'failing', writes: 0 });
    expect(failing.failures).toBeGreaterThan(1);
    expect(failing.lastProblem).toMatch(kind === 'ro' ? /EROFS/ : /ENOSPC/);
    expect((await runCli(['status', ...setup.args])).stdout).toMatch(/^state file: \S+ \(NOT WRITTEN since /m);
    // Room again: the next write works and status says so.
    if (kind === 'full') rmSync(join(target, 'filler'));
    else execFileSync('mount', ['-o', 'remount,bind,rw', target]);
    rmSync(setup.ok);
    await waitForPrefix(daemon, setup, false);
    await daemon.waitForLine(/the state file .*state\.json is written again/);
    expect(await stateFileStatus(setup)).toMatchObject({ state: 'ok', lastProblem: null });
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});

describe('withdraw_on_shutdown', () => {
  it('withdraws at SIGTERM, reconfigures, logs it between the usual stop records and exits 0', async () => {
    const setup = setupWith({ withdraw_on_shutdown: 'true' });
    const daemon = DaemonProcess.start(setup.args);
    await waitForPrefix(daemon, setup);
    await applied(daemon);
    const from = daemon.lines.length;
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    expect(prefixes(setup)).toEqual([DUMMY]);
    const main = daemon.lines
      .slice(from)
      .filter((l) => l.includes(' MainThread '))
      .map((l) => l.replace(/^.* MainThread +/, ''));
    expect(main[0]).toMatch(/^received 15 at /);
    expect(main.slice(1)).toEqual([
      'stopping checks; withdraw_on_shutdown: withdrawing every advertised prefix and waiting at most 10 s for BIRD',
      `returned an item from the queue for web with IP prefix ${PREFIX} and action to delete from Bird configuration`,
      `withdrawing ${PREFIX} for web`,
      'Bird configuration for IPv4 is updated',
      "Bird configuration doesn't have IP prefixes for any of the services we monitor! It means local node doesn't receive any traffic",
      expect.stringMatching(/^reconfiguring BIRD by running /),
      'reconfigured BIRD daemon',
      expect.stringMatching(
        new RegExp(`^withdraw_on_shutdown: withdrew 1 prefix\\(es\\) \\(${PREFIX.replace('.', '\\.')}\\); BIRD applied it in \\d+ ms$`),
      ),
      `going to remove pidfile ${setup.pidfile}`,
      'shutdown is complete',
    ]);
    // The next daemon does not put it back before its checks: it rises again.
    expect(JSON.parse(readFileSync(setup.stateFile, 'utf8'))).toMatchObject({
      withdrawnAtShutdown: true,
      services: { web: { state: 'up' } },
    });
    const next = DaemonProcess.start(setup.args);
    await next.waitForLine(/ web +going up 1\/3$/);
    expect(next.lines.join('\n')).toContain('not restored: web (up): the previous daemon withdrew it at shutdown');
    await next.stop();
  });

  it('a SIGTERM during start-up still withdraws and notes it in the state file', async () => {
    const slow = join(writeDaemonSetup([]).root, 'slow-birdc.sh');
    writeFileSync(slow, '#!/bin/sh\necho Reconfigured\n');
    chmodSync(slow, 0o755);
    const setup = setupWith({ bird_reconfigure_cmd: slow, bird6_reconfigure_cmd: slow });
    await runUntilUp(setup);
    appendFileSync(setup.file, 'withdraw_on_shutdown = true\n');
    // The next start is slow: the BIRD file is missing and its repair's reconfigure sleeps.
    writeFileSync(slow, '#!/bin/sh\nsleep 1.5\necho Reconfigured\n');
    rmSync(setup.birdConf);
    const daemon = DaemonProcess.start(setup.args);
    await daemon.waitForLine(/restored the last decided state of 1 service/);
    await daemon.waitForLine(/reconfiguring BIRD by running/);
    daemon.child.kill('SIGTERM');
    expect(await daemon.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    expect(daemon.lines.join('\n')).not.toContain('starting anycast-healthchecker version');
    expect(prefixes(setup)).toEqual([DUMMY]);
    expect(JSON.parse(readFileSync(setup.stateFile, 'utf8'))).toMatchObject({
      withdrawnAtShutdown: true,
      services: { web: { state: 'up' } },
    });
  });

  it('with BIRD hanging: gives up after withdraw_on_shutdown_timeout and exits 0; a second SIGTERM exits at once', async () => {
    const reconfigure = join(writeDaemonSetup([]).root, 'birdc.sh');
    writeFileSync(reconfigure, '#!/bin/sh\necho Reconfigured\n');
    chmodSync(reconfigure, 0o755);
    for (const second of [false, true]) {
      const setup = setupWith({
        withdraw_on_shutdown: 'true',
        withdraw_on_shutdown_timeout: '2',
        bird_reconfigure_cmd: reconfigure,
        bird6_reconfigure_cmd: reconfigure,
        bird_reconfigure_timeout: '30',
      });
      writeFileSync(reconfigure, '#!/bin/sh\necho Reconfigured\n');
      const daemon = DaemonProcess.start(setup.args);
      await waitForPrefix(daemon, setup);
      await applied(daemon);
      writeFileSync(reconfigure, '#!/bin/sh\nsleep 60\n');
      const started = performance.now();
      daemon.child.kill('SIGTERM');
      if (second) {
        // After the first one was taken (two signals sent at once would be delivered as one).
        const received = await daemon.waitForLine(/received 15 at /, 5_000);
        await daemon.waitForLine(/reconfiguring BIRD by running/, 5_000, received);
        daemon.child.kill('SIGTERM');
      }
      expect(await daemon.waitForExit(10_000)).toEqual({ code: 0, signal: null });
      const took = performance.now() - started;
      const text = daemon.lines.join('\n');
      if (second) {
        expect(
          took,
          daemon.lines
            .filter((l) => l.includes('MainThread'))
            .slice(-14)
            .join('\n'),
        ).toBeLessThan(1_500);
        expect(text).toContain('received 15 again while withdrawing at shutdown: not waiting for BIRD any longer');
        expect(text).toMatch(/withdraw_on_shutdown: stopped waiting for BIRD after \d+ ms \(second signal\)/);
      } else {
        expect(took).toBeGreaterThan(1_900);
        expect(took).toBeLessThan(4_000);
        expect(text).toContain(
          `withdraw_on_shutdown: BIRD did not confirm the withdraw of 1 prefix(es) (${PREFIX}) within 2 s; exiting anyway`,
        );
      }
      expect(text).toContain('shutdown is complete');
      expect(prefixes(setup)).toEqual([DUMMY]);
    }
  });
});
