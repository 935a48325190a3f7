// drain, undrain and reload from the command line against a real daemon (the harness's stand-in
// for birdc): the BIRD file as the witness, the exit codes of docs/anycast-healthchecker.8, and
// what status, the log and the textfile show.
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  DaemonProcess,
  ensureBuilt,
  killDaemons,
  pollUntil,
  readIfExists,
  removeTempDirs,
  runCli,
  serviceText,
  writeDaemonSetup,
} from './harness';
import type { DaemonSetup } from './harness';

beforeAll(ensureBuilt);
afterEach(async () => {
  await killDaemons();
  removeTempDirs();
});

const A = { name: 'a', prefix: '10.52.14.1/32' } as const;
const B = { name: 'b', prefix: '10.52.14.2/32' } as const;

const inFile = (setup: DaemonSetup, prefix: string): boolean =>
  new RegExp(`^\\s+${prefix.replaceAll('.', '\\.')},?$`, 'm').test(readIfExists(setup.birdConf) ?? '');

function waitFile(daemon: DaemonProcess, setup: DaemonSetup, prefix: string, present: boolean, timeoutMs = 5000): Promise<true> {
  return pollUntil(
    `${prefix} ${present ? 'in' : 'out of'} ${setup.birdConf}`,
    () => (inFile(setup, prefix) === present ? true : undefined),
    timeoutMs,
    () => daemon.tail(),
  );
}

async function startBoth(daemonOptions: Record<string, string> = {}): Promise<{ setup: DaemonSetup; daemon: DaemonProcess }> {
  const setup = writeDaemonSetup([A, B], { prometheus_exporter: 'true', prometheus_exporter_interval: '0.2', ...daemonOptions });
  mkdirSync(join(setup.root, 'prom'));
  writeFileSync(setup.file, `${readFileSync(setup.file, 'utf8')}prometheus_collector_textfile_dir = ${join(setup.root, 'prom')}\n`);
  const daemon = DaemonProcess.start(setup.args);
  await waitFile(daemon, setup, A.prefix, true, 15_000);
  await waitFile(daemon, setup, B.prefix, true);
  return { setup, daemon };
}

const cli = (setup: DaemonSetup, ...args: string[]) => runCli([...args, ...setup.args]);

interface StatusJson {
  services: Array<{
    name: string;
    state: string;
    inBirdFile: boolean;
    drains: Array<{ source: string; all: boolean; reason: string; ageSeconds: number }>;
  }>;
  daemon: { controlSocket?: string; drainFile?: { state: string; services: string[] } };
}
async function statusJson(setup: DaemonSetup): Promise<StatusJson> {
  const r = await cli(setup, 'status', '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

describe('drain and undrain', () => {
  it('withdraw one service at once and announce it again at once, with reason, source and age in status and the log', async () => {
    const { setup, daemon } = await startBoth();
    const prom = join(setup.root, 'prom', 'anycast_healthchecker.prom');
    const textfile = (): string => readIfExists(prom) ?? '';
    await pollUntil('the textfile', () => (textfile().includes('anycast_healthchecker_service{') ? true : undefined));
    // The Python daemon's families only, while nothing is drained.
    expect(textfile()).not.toContain('drained');
    const d = await cli(setup, 'drain', 'a', '--reason', 'kernel upgrade');
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toBe('drained a: withdrawn until undrained\ndrained now: a\n');
    await waitFile(daemon, setup, A.prefix, false, 2000);
    expect(inFile(setup, B.prefix)).toBe(true);
    const s = await statusJson(setup);
    const a = s.services.find((x) => x.name === 'a');
    expect(a).toMatchObject({ state: 'up', inBirdFile: false, drains: [{ source: 'command', all: false, reason: 'kernel upgrade' }] });
    expect(a?.drains[0]?.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(s.services.find((x) => x.name === 'b')?.drains).toEqual([]);
    expect(s.daemon.controlSocket).toBe(join(setup.root, 'ahc.control.sock'));
    const table = await cli(setup, 'status');
    expect(table.stdout).toMatch(/\n {2}a: drain command since \S+ \S+, [\d.]+m?s ago: kernel upgrade\n/);
    expect(
      daemon.lines.some((l) => l.includes('control: drain {"command":"drain","services":["a"],"all":false,"reason":"kernel upgrade"}')),
    ).toBe(true);
    await pollUntil('the drained gauge in the textfile', () =>
      textfile().includes(`anycast_healthchecker_service_drained{service_name="a",ip_prefix="${A.prefix}"} 1`) ? true : undefined,
    );
    expect(textfile()).toContain(`anycast_healthchecker_service_drained{service_name="b",ip_prefix="${B.prefix}"} 0`);
    const u = await cli(setup, 'undrain', 'a');
    expect(u.code, u.stderr).toBe(0);
    expect(u.stdout).toBe('undrained a\ndrained now: none\n');
    await waitFile(daemon, setup, A.prefix, true, 2000);
  });

  it('drain --all withdraws every service; undrain --all brings them back', async () => {
    const { setup, daemon } = await startBoth();
    expect((await cli(setup, 'drain', '--all')).code).toBe(0);
    await waitFile(daemon, setup, A.prefix, false, 2000);
    await waitFile(daemon, setup, B.prefix, false, 2000);
    const s = await statusJson(setup);
    expect(s.services.every((x) => x.drains[0]?.all === true && x.drains[0]?.reason === 'no reason given')).toBe(true);
    expect((await cli(setup, 'undrain', '--all')).code).toBe(0);
    await waitFile(daemon, setup, A.prefix, true, 2000);
    await waitFile(daemon, setup, B.prefix, true, 2000);
  });

  it('refuse an unknown service with its name and exit 1, changing nothing', async () => {
    const { setup, daemon } = await startBoth();
    const r = await cli(setup, 'drain', 'a', 'nosuch');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'anycast-healthchecker drain: AHC_CONTROL_UNKNOWN_SERVICE: no such service: nosuch; nothing was drained\n  nosuch\n',
    );
    expect((await statusJson(setup)).services.every((x) => x.drains.length === 0)).toBe(true);
    expect(inFile(setup, A.prefix)).toBe(true);
    expect(
      daemon.lines.some((l) => l.includes('WARNING') && l.includes('control: drain') && l.includes('refused: no such service: nosuch')),
    ).toBe(true);
    const u = await cli(setup, 'undrain', 'nosuch');
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/AHC_CONTROL_UNKNOWN_SERVICE: no such service: nosuch/);
  });

  it('usage errors: neither names nor --all, or both', async () => {
    const setup = writeDaemonSetup([A]);
    for (const args of [['drain'], ['undrain'], ['drain', 'a', '--all']]) {
      const r = await cli(setup, ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/name the services to (un)?drain, or give --all|name services or give --all, not both/);
    }
  });
});

describe('the drain file', () => {
  it('drains what it names while it exists, is applied before the first BIRD write, and undrain says it still holds', async () => {
    const setup = writeDaemonSetup([A, B], { drain_file: '' });
    const runDir = join(setup.root, 'run');
    mkdirSync(runDir);
    const drainFile = join(runDir, 'drain');
    writeFileSync(setup.file, readFileSync(setup.file, 'utf8').replace('drain_file = \n', `drain_file = ${drainFile}\n`));
    writeFileSync(drainFile, 'a\n');
    const daemon = DaemonProcess.start(setup.args);
    await waitFile(daemon, setup, B.prefix, true, 15_000);
    // a was never written: the file was read before the first write.
    const written = daemon.lines.filter((l) => l.includes(`announcing ${A.prefix}`));
    expect(written).toEqual([]);
    const s = await statusJson(setup);
    expect(s.daemon.drainFile).toMatchObject({ state: 'services', services: ['a'] });
    expect(s.services.find((x) => x.name === 'a')?.drains).toMatchObject([
      { source: 'file', all: false, reason: `drain file ${drainFile}` },
    ]);
    const u = await cli(setup, 'undrain', 'a');
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(
      /AHC_CONTROL_STILL_DRAINED: nothing newly undrained; still drained by another drain: a \(drain file since .*remove the drain file/,
    );
    // Emptied: every service.
    writeFileSync(drainFile, '');
    await waitFile(daemon, setup, B.prefix, false, 1500);
    rmSync(drainFile);
    await waitFile(daemon, setup, A.prefix, true, 1500);
    await waitFile(daemon, setup, B.prefix, true, 1500);
  });
});

describe('reload', () => {
  it('prints what changed; an invalid configuration exits 1 with every reason and keeps the running one', async () => {
    const { setup, daemon } = await startBoth();
    writeFileSync(join(setup.dir, 'c.conf'), serviceText({ name: 'c', prefix: '10.52.14.3/32' }));
    rmSync(join(setup.dir, 'b.conf'));
    const ok = await cli(setup, 'reload');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('configuration reloaded: 1 added (c), 1 removed (b), 0 changed, 1 unchanged\n');
    await waitFile(daemon, setup, '10.52.14.3/32', true);
    await waitFile(daemon, setup, B.prefix, false);
    writeFileSync(join(setup.dir, 'd.conf'), '[d]\nip_prefix = 10.52.14.4/32\n');
    writeFileSync(join(setup.dir, 'e.conf'), '[e]\ncheck_cmd = /bin/true\nip_prefix = 10.52.14.1/32\n');
    const bad = await cli(setup, 'reload');
    expect(bad.code).toBe(1);
    const lines = bad.stderr.trim().split('\n');
    expect(lines[0]).toBe(
      'anycast-healthchecker reload: AHC_CONTROL_RELOAD_INVALID: the new configuration is invalid; the running configuration is kept',
    );
    expect(lines.slice(1).join('\n')).toMatch(/d\.conf.*check_cmd is required but missing/);
    expect(lines.slice(1).join('\n')).toMatch(/e\.conf.*10\.52\.14\.1\/32 is already used by service \[a\]/);
    expect(
      daemon.lines.some((l) => l.includes('ERROR') && l.includes('configuration reload failed, keeping the running configuration')),
    ).toBe(true);
    // (status reads the same files: with them fixed it shows the configuration that kept running)
    rmSync(join(setup.dir, 'd.conf'));
    rmSync(join(setup.dir, 'e.conf'));
    const s = await statusJson(setup);
    expect(s.services.map((x) => x.name).sort()).toEqual(['a', 'c']);
  });

  it('asked during start-up, waits for the start to finish, then reloads and answers', async () => {
    const setup = writeDaemonSetup([A]);
    // A slow birdc holds the start-up repair (its first reconfigure) for a second.
    const slow = join(setup.root, 'slow-birdc.sh');
    writeFileSync(slow, '#!/bin/sh\nsleep 1\necho Reconfigured\n');
    chmodSync(slow, 0o755);
    writeFileSync(setup.file, readFileSync(setup.file, 'utf8').replace(/^bird_reconfigure_cmd = .*$/m, `bird_reconfigure_cmd = ${slow}`));
    const daemon = DaemonProcess.start(setup.args);
    const listening = await daemon.waitForLine(/control socket listening on /, 10_000);
    expect(daemon.lines.slice(listening).some((l) => l.includes('starting anycast-healthchecker version'))).toBe(false);
    writeFileSync(join(setup.dir, 'b.conf'), serviceText(B));
    const r = await cli(setup, 'reload');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('configuration reloaded: 1 added (b), 0 removed, 0 changed, 1 unchanged\n');
    const started = daemon.lines.findIndex((l) => l.includes('starting anycast-healthchecker version'));
    const reloaded = daemon.lines.findIndex((l) => l.includes('configuration reloaded: 1 added (b)'));
    expect(started).toBeGreaterThan(-1);
    expect(reloaded).toBeGreaterThan(started);
    await waitFile(daemon, setup, B.prefix, true, 10_000);
  });

  it('exits 3 without a daemon, 4 on permission denied, 5 when the daemon does not answer', async () => {
    const setup = writeDaemonSetup([A]);
    const none = await cli(setup, 'reload');
    expect(none.code).toBe(3);
    expect(none.stderr).toBe(
      `anycast-healthchecker reload: control socket ${join(setup.root, 'ahc.control.sock')} does not exist: is anycast-healthchecker running?\n`,
    );
    // Something that listens and never answers.
    const silent = createServer((socket) => socket.resume());
    await new Promise<void>((r) => silent.listen(join(setup.root, 'ahc.control.sock'), () => r()));
    try {
      const slow = await runCli(['drain', 'a', '-t', '0.3', ...setup.args]);
      expect(slow.code).toBe(5);
      expect(slow.stderr).toMatch(/did not answer on .* within 300 ms/);
      // As nobody, with everything else readable: only the socket's mode 0660 stands in the way.
      chmodSync(setup.root, 0o755);
      for (const f of [setup.file, ...readdirSync(setup.dir).map((n) => join(setup.dir, n))]) chmodSync(f, 0o644);
      chmodSync(setup.dir, 0o755);
      chmodSync(join(setup.root, 'ahc.control.sock'), 0o660);
      expect(statSync(join(setup.root, 'ahc.control.sock')).uid).toBe(0);
      // Asynchronously: the silent server lives in this process.
      const denied = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', CLI, 'reload', '-t', '3', ...setup.args]);
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        child.once('close', (status) => resolve({ status, stderr }));
      });
      expect(denied.stderr).toMatch(
        /permission denied on .*ahc\.control\.sock: run as root or as a member of its group \(control_group in \[daemon\]/,
      );
      expect(denied.status).toBe(4);
    } finally {
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
