// contrib/nagios/check_anycast_healthchecker and `status --nagios` against the Nagios plugin
// guidelines: every usage error is UNKNOWN (3) with one line on stdout; -V and -h exit 3 (the
// Monitoring Plugins interface guideline); -t gives up with UNKNOWN and a line saying so; the
// output parses under a strict reading of the performance-data grammar, whatever the services
// are called.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requestStatus } from '@ahc/status';
import { FIXED_PERFDATA_LABELS, parsePluginLine } from '../../../test/helpers/nagios';
import { pollUntil } from '../../../test/helpers/poll';
import {
  CLI,
  DaemonProcess,
  appVersion,
  ensureBuilt,
  killDaemons,
  makeTempDir,
  removeTempDirs,
  serviceText,
  writeDaemonSetup,
} from './harness';
import type { CliResult } from './harness';

const PLUGIN = fileURLToPath(new URL('../../../contrib/nagios/check_anycast_healthchecker', import.meta.url));

const servers: Server[] = [];
const sockets: Socket[] = [];

beforeAll(ensureBuilt);
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  await killDaemons();
  removeTempDirs();
});

interface Run extends CliResult {
  readonly elapsedMs: number;
}

function run(file: string, args: readonly string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ANYCAST_HEALTHCHECKER: CLI } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
}

const plugin = (args: readonly string[]): Promise<Run> => run(PLUGIN, args);
const statusNagios = (args: readonly string[]): Promise<Run> => run(CLI, ['status', '--nagios', ...args]);

/** Exactly one line on stdout, valid under the strict grammar; returns it parsed. */
function oneLine(r: Run): ReturnType<typeof parsePluginLine> {
  expect(r.stdout.endsWith('\n')).toBe(true);
  const lines = r.stdout.slice(0, -1).split('\n');
  expect(lines).toHaveLength(1);
  return parsePluginLine(lines[0] as string);
}

function expectUnknownUsage(r: Run, pattern: RegExp): void {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 3, stderr: '' });
  const line = oneLine(r);
  expect(line.state).toBe('UNKNOWN');
  expect(line.text).toMatch(pattern);
  expect(line.text).toMatch(/usage: /);
}

describe('check_anycast_healthchecker: usage errors are UNKNOWN, one line on stdout', () => {
  it.each([
    [['--bogus'], /unknown option '--bogus'/],
    [['-x'], /unknown option '-x'/],
    [['extra'], /unexpected argument 'extra'/],
    [['-t'], /option -t needs SECONDS/],
    [['--timeout'], /option --timeout needs SECONDS/],
    [['-t', '0'], /greater than 0/],
    [['-t', '0.0'], /greater than 0/],
    [['-t', 'abc'], /not 'abc'/],
    [['-t', '-5'], /not '-5'/],
    [['-t', '1.2.3'], /not '1\.2\.3'/],
    [['--timeout=x'], /not 'x'/],
    [['-f'], /option -f needs an argument/],
    [['-d'], /option -d needs an argument/],
    [['-F'], /option -F needs an argument/],
    [['-d', '/tmp', '-F', '/tmp/x.conf'], /-d and -F cannot be used together/],
    [['--dir=/tmp', '--service-file=/tmp/x.conf'], /-d and -F cannot be used together/],
    [['-f', '/x', '--', 'extra'], /unexpected argument 'extra'/],
    [['--bogus|x'], /unknown option '--bogus\/x'/],
  ])('%j', async (args, pattern) => {
    expectUnknownUsage(await plugin(args), pattern);
  });

  it('says UNKNOWN in one line when the program is missing', async () => {
    const r = await new Promise<Run>((resolve) => {
      const child = spawn(PLUGIN, [], { env: { ...process.env, ANYCAST_HEALTHCHECKER: '/nonexistent/anycast-healthchecker' } });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
      });
      child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr: '', elapsedMs: 0 }));
    });
    expect(r.code).toBe(3);
    expect(oneLine(r)).toMatchObject({ state: 'UNKNOWN', text: '/nonexistent/anycast-healthchecker not found or not executable' });
  });
});

describe('check_anycast_healthchecker -V and -h', () => {
  it.each([['-V'], ['--version']])('%s prints the version in one line and exits 3 (UNKNOWN)', async (flag) => {
    const r = await plugin([flag]);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 3,
      stdout: `check_anycast_healthchecker (anycast-healthchecker ${appVersion()})\n`,
      stderr: '',
    });
  });

  it.each([['-h'], ['--help'], ['--bogus', '-h'], ['-t', 'x', '--help']])(
    '%s prints the help, wins over other arguments, and exits 3',
    async (...args) => {
      const r = await plugin(args);
      expect(r.code).toBe(3);
      for (const option of [
        '-f, --file FILE',
        '-d, --dir DIR',
        '-F, --service-file FILE',
        '-t, --timeout SECONDS',
        '-V, --version',
        '-h, --help',
      ]) {
        expect(r.stdout).toContain(option);
      }
    },
  );
});

describe('status --nagios: usage errors are UNKNOWN, one line on stdout', () => {
  it.each([
    [['--bogus'], /Unknown argument: bogus/],
    [['-t', '0'], /--timeout needs a number of seconds greater than 0/],
    [['--timeout', 'abc'], /--timeout needs a number of seconds greater than 0/],
    [['-t'], /Not enough arguments following: t/],
    [['--json'], /json and nagios are mutually exclusive/],
    [['-c'], /Unknown argument: c/],
    [['-d', '/tmp', '-F', '/tmp/x.conf'], /mutually exclusive/],
    [['a|b'], /Unknown argument: a\/b/],
  ])('%j', async (args, pattern) => {
    expectUnknownUsage(await statusNagios(args), pattern);
  });
});

/** A status socket that accepts connections and never answers. */
async function silentSocket(path: string): Promise<{ accepted: () => number }> {
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.push(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return { accepted: () => accepted };
}

describe('-t: the plugin gives up with UNKNOWN and says so', () => {
  it.each([
    ['check_anycast_healthchecker -t 1', (args: string[]) => plugin(['-t', '1', ...args])],
    ['status --nagios --timeout 1', (args: string[]) => statusNagios(['--timeout', '1', ...args])],
  ])('%s, against a socket that accepts and never answers', async (_name, start) => {
    const socket = join(makeTempDir('nagios-silent'), 'status.sock');
    const setup = writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }], { status_socket: socket });
    const server = await silentSocket(socket);
    const r = await start([...setup.args]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 3, stderr: '' });
    const line = oneLine(r);
    expect(line).toMatchObject({ state: 'UNKNOWN', text: `timed out after 1 s (--timeout) waiting for the daemon to answer on ${socket}` });
    expect(server.accepted()).toBe(1);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(900);
    expect(r.elapsedMs).toBeLessThan(5000);
  });

  it('the limit counts from the start of the program, so a longer one waits longer', async () => {
    const socket = join(makeTempDir('nagios-silent'), 'status.sock');
    const setup = writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }], { status_socket: socket });
    await silentSocket(socket);
    const r = await plugin(['-t', '2.5', ...setup.args]);
    expect(r.code).toBe(3);
    expect(oneLine(r).text).toMatch(/^timed out after 2\.5 s/);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(2400);
    expect(r.elapsedMs).toBeLessThan(6500);
  });
});

describe('no daemon', () => {
  it('is CRITICAL in one line when the status socket does not exist', async () => {
    const setup = writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }]);
    const r = await plugin([...setup.args]);
    expect(r.code).toBe(2);
    expect(oneLine(r)).toMatchObject({ state: 'CRITICAL' });
    expect(oneLine(r).text).toMatch(/does not exist: is anycast-healthchecker running\?$/);
  });

  it('keeps "|" out of the text of an invalid-configuration line (UNKNOWN)', async () => {
    const dir = makeTempDir('nagios-bar');
    const r = await plugin(['-f', join(dir, 'a|b.conf')]);
    expect(r.code).toBe(3);
    expect(oneLine(r)).toMatchObject({
      state: 'UNKNOWN',
      text: `Invalid configuration: ${join(dir, 'a/b.conf')} configuration file either isn't readable or doesn't exist`,
    });
  });
});

describe('a running daemon whose services have awkward names', () => {
  const NAMES = ['my web', 'a=b', "it's", 'x|y', 'ünïcødé 名前', 'plain'];

  it('is OK, with perf data that parses strictly and one duration label per service', async () => {
    const socket = join(makeTempDir('nagios-names'), 'status.sock');
    const setup = writeDaemonSetup([], { status_socket: socket });
    NAMES.forEach((name, i) =>
      writeFileSync(join(setup.dir, `svc${i}.conf`), serviceText({ name, prefix: `10.52.12.${i + 1}/32`, interval: 0.5 })),
    );
    const daemon = DaemonProcess.start(setup.args);
    await pollUntil(
      async () => {
        if (daemon.exit !== undefined) throw new Error(`the daemon exited\n${daemon.tail()}`);
        const reply = await requestStatus(socket, { command: 'status' }, 2000);
        return 'services' in reply && reply.services.length === NAMES.length && reply.services.every((s) => s.lastCheck !== null)
          ? true
          : undefined;
      },
      { what: 'a finished check of every service in the status reply', timeoutMs: 15_000, intervalMs: 50, describe: () => daemon.tail() },
    );
    const r = await plugin([...setup.args, '-t', '5']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const line = oneLine(r);
    expect(line.state).toBe('OK');
    expect(line.text).toBe(`${NAMES.length} check(s) running, ${NAMES.length} up, 0 down`);
    const labels = line.perfdata.map((p) => p.label);
    expect(labels.slice(0, FIXED_PERFDATA_LABELS.length)).toEqual(FIXED_PERFDATA_LABELS);
    expect(labels.slice(FIXED_PERFDATA_LABELS.length).sort()).toEqual(NAMES.map((n) => `${n.replaceAll('=', '_')}_duration`).sort());
    expect(line.perfdata.find((p) => p.label === 'services')).toMatchObject({ value: NAMES.length, uom: '' });
    for (const p of line.perfdata.slice(FIXED_PERFDATA_LABELS.length)) expect(p).toMatchObject({ uom: 'ms', min: '0' });
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});
