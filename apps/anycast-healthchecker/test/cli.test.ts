// The command line (docs/anycast-healthchecker.8) of the built program, run as a child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigDocument, renderDefaults, renderEffective } from '@ahc/config';
import { CLI, appVersion, ensureBuilt, removeTempDirs, runCli, serviceText, writeDaemonSetup } from './harness';
import type { CliResult } from './harness';

beforeAll(ensureBuilt);
afterEach(removeTempDirs);

/** One `Invalid configuration: ...` line on stderr, nothing on stdout, exit 1, no stack trace. */
function expectInvalid(result: CliResult, parts: readonly string[]): void {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^Invalid configuration: /);
  for (const part of parts) expect(lines[0]).toContain(part);
  expect(result.stderr).not.toMatch(/^ {4}at /m);
}

describe('-v / --version', () => {
  it.each(['-v', '--version'])('%s prints the version and exits 0', async (flag) => {
    const result = await runCli([flag]);
    expect(result).toMatchObject({ code: 0, stdout: `${appVersion()} (Node.js ${process.versions.node})\n`, stderr: '' });
  });
});

describe('the checkout launcher', () => {
  const launcher = fileURLToPath(new URL('../bin/anycast-healthchecker.mjs', import.meta.url));
  const pinned = fileURLToPath(new URL('../../../.runtime/bin/node', import.meta.url));

  // Skipped where the checkout has no pinned Node.js (the README's commands fetch it).
  it.runIf(existsSync(pinned))('runs on the pinned Node.js whatever node PATH finds first, and says nothing on stderr', () => {
    // A `node` first in PATH that is not the one: an old system Node.js, say. It must not run.
    const fake = mkdtempSync(join(tmpdir(), 'ahc-fake-node-'));
    writeFileSync(join(fake, 'node'), '#!/bin/sh\necho "the node in PATH ran" >&2\nexit 3\n', { mode: 0o755 });
    const env = { ...process.env, PATH: `${fake}:/usr/sbin:/usr/bin:/sbin:/bin` };
    const pinnedVersion = execFileSync(pinned, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    for (const argv0 of [launcher, CLI]) {
      const r = spawnSync(argv0, ['-v'], { env, encoding: 'utf8' });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 0,
        stdout: `${appVersion()} (Node.js ${pinnedVersion})\n`,
        stderr: '',
      });
    }
    // Through a symlink too (an operator's /usr/local/bin link): the checkout is found from the real file.
    const link = join(fake, 'anycast-healthchecker');
    symlinkSync(launcher, link);
    expect(spawnSync(link, ['-v'], { env, encoding: 'utf8' }).stdout).toBe(`${appVersion()} (Node.js ${pinnedVersion})\n`);
    rmSync(fake, { recursive: true });
  });

  it('is JavaScript too: `node FILE` runs it on that node', () => {
    const r = spawnSync(process.execPath, [launcher, '-v'], { encoding: 'utf8' });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      status: 0,
      stdout: `${appVersion()} (Node.js ${process.versions.node})\n`,
      stderr: '',
    });
  });
});

describe('-h / --help', () => {
  it.each(['-h', '--help'])('%s lists every option and exits 0', async (flag) => {
    const result = await runCli([flag]);
    expect(result.code).toBe(0);
    for (const [short, long] of [
      ['-f', '--file'],
      ['-d', '--dir'],
      ['-F', '--service-file'],
      ['-c', '--check'],
      ['-p', '--print'],
      ['-P', '--print-conf'],
      ['-v', '--version'],
      ['-h', '--help'],
    ]) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${short}, ${long}\\b`, 'm'));
    }
    expect(result.stdout).toContain('/etc/anycast-healthchecker.conf');
    expect(result.stdout).toContain('/etc/anycast-healthchecker.d');
  });
});

describe('status --help and lint --help', () => {
  const optionLines = (help: string): string[] => [...help.matchAll(/^ {2}(?:(-\w), )?\s*(--[\w-]+)/gm)].map((m) => m[2] as string).sort();

  it.each([
    ['status', ['--dir', '--file', '--help', '--json', '--nagios', '--service-file', '--timeout', '--version']],
    ['lint', ['--dir', '--file', '--help', '--json', '--service-file', '--version']],
  ])('%s --help lists exactly the options it uses', async (command, expected) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    expect(optionLines(result.stdout)).toEqual(expected);
    expect(result.stdout).not.toMatch(/-c, --check|-p, --print|-P, --print-conf/);
  });

  it('the daemon help still lists -c, -p and -P', async () => {
    const result = await runCli(['--help']);
    expect(optionLines(result.stdout)).toEqual([
      '--check',
      '--dir',
      '--file',
      '--help',
      '--print',
      '--print-conf',
      '--service-file',
      '--version',
    ]);
  });

  it.each([
    ['status', '-c'],
    ['status', '-P'],
    ['lint', '-p'],
    ['lint', '--check'],
  ])('%s refuses the daemon option %s instead of ignoring it', async (command, flag) => {
    const result = await runCli([command, flag, '-f', '/nonexistent/ahc.conf']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Unknown argument/);
  });
});

describe('-p / --print', () => {
  it.each(['-p', '--print'])('%s prints the built-in defaults and exits 0', async (flag) => {
    const result = await runCli([flag]);
    expect(result).toMatchObject({ code: 0, stdout: renderDefaults(), stderr: '' });
  });

  it('needs no configuration file', async () => {
    const result = await runCli(['-p', '-f', '/nonexistent/anycast-healthchecker.conf']);
    expect(result).toMatchObject({ code: 0, stdout: renderDefaults() });
  });
});

describe('-c / --check', () => {
  it.each(['-c', '--check'])('%s prints OK and exits 0 for a good configuration', async (flag) => {
    const setup = writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }]);
    const result = await runCli([...setup.args, flag]);
    expect(result).toMatchObject({ code: 0, stdout: 'OK\n', stderr: '' });
  });

  it('accepts long options with =', async () => {
    const setup = writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }]);
    const result = await runCli([`--file=${setup.file}`, `--dir=${setup.dir}`, '--check']);
    expect(result).toMatchObject({ code: 0, stdout: 'OK\n' });
  });

  it('prints OK and the warnings for a configuration that is valid but questionable', async () => {
    const setup = writeDaemonSetup([]);
    writeFileSync(
      join(setup.dir, 'web.conf'),
      '[web]\ncheck_cmd = /bin/true\nip_prefix = 10.52.12.1\ncheck_disabled = false\ncheck_interval = 1\ncheck_timeout = 5\n',
    );
    const result = await runCli([...setup.args, '-c']);
    expect(result).toMatchObject({ code: 0, stdout: 'OK\n' });
    expect(result.stderr).toMatch(/^warning: .*\[web\] check_timeout/);
  });

  it('rejects a bad value with one line naming file, section, option and value', async () => {
    const setup = writeDaemonSetup([]);
    const file = join(setup.dir, 'web.conf');
    writeFileSync(file, '[web]\ncheck_cmd = /bin/true\nip_prefix = 10.52.12.1\ncheck_interval = abc\n');
    expectInvalid(await runCli([...setup.args, '-c']), [`${file}:4`, '[web]', 'check_interval', "'abc'", 'not a number']);
  });

  it('rejects an invalid [daemon] option the same way', async () => {
    const setup = writeDaemonSetup([], { log_server_port: '70000' });
    expectInvalid(await runCli([...setup.args, '-c']), [setup.file, '[daemon] log_server_port', "'70000'"]);
  });

  it('rejects a syntax error naming the file and line', async () => {
    const setup = writeDaemonSetup([]);
    const file = join(setup.dir, 'web.conf');
    writeFileSync(file, 'check_cmd = /bin/true\n');
    expectInvalid(await runCli([...setup.args, '-c']), [`${file}:1`]);
  });

  it('rejects a daemon file that does not exist', async () => {
    const setup = writeDaemonSetup([]);
    const missing = join(setup.root, 'missing.conf');
    expectInvalid(await runCli(['-f', missing, '-d', setup.dir, '-c']), [missing]);
  });

  it('rejects a -d directory that does not exist', async () => {
    const setup = writeDaemonSetup([]);
    const missing = join(setup.root, 'missing.d');
    expectInvalid(await runCli(['-f', setup.file, '-d', missing, '-c']), [missing]);
  });

  it('rejects a -F file that does not exist', async () => {
    const setup = writeDaemonSetup([]);
    const missing = join(setup.root, 'missing-service.conf');
    expectInvalid(await runCli(['-f', setup.file, '-F', missing, '-c']), [missing]);
  });

  it('rejects two services with one prefix, naming both', async () => {
    const setup = writeDaemonSetup([
      { name: 'alpha', prefix: '10.52.12.1' },
      { name: 'beta', prefix: '10.52.12.1/32' },
    ]);
    expectInvalid(await runCli([...setup.args, '-c']), ['[beta] ip_prefix', '[alpha]']);
  });

  it('refuses to start the daemon on an invalid configuration, with the same single line', async () => {
    const setup = writeDaemonSetup([{ name: 'web', prefix: '10.0.0.1/24' }]);
    expectInvalid(await runCli(setup.args), ['[web] ip_prefix', "'10.0.0.1/24'"]);
  });
});

describe('usage errors', () => {
  it('refuses -d together with -F with exit code 1', async () => {
    const setup = writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }]);
    const result = await runCli(['-f', setup.file, '-d', setup.dir, '-F', join(setup.dir, 'web.conf'), '-c']);
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('OK');
    expect(result.stderr).toMatch(/mutually exclusive/i);
    expect(result.stderr).not.toMatch(/^ {4}at /m);
  });

  it('refuses an unknown option with exit code 1', async () => {
    const result = await runCli(['--bogus-option']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Unknown argument.*bogus-option/);
  });

  it('refuses -f without its argument with exit code 1', async () => {
    const result = await runCli(['-c', '-f']);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/^ {4}at /m);
  });
});

describe('-F / --service-file', () => {
  it('reads the single service file and ignores the service directory', async () => {
    const setup = writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }]);
    // A broken file in the directory proves it is not read.
    writeFileSync(join(setup.dir, 'broken.conf'), 'not INI\n');
    const single = join(setup.root, 'db.conf');
    writeFileSync(single, serviceText({ name: 'db', prefix: '10.52.12.2/32' }));
    const check = await runCli(['-f', setup.file, '-F', single, '-c']);
    expect(check).toMatchObject({ code: 0, stdout: 'OK\n' });
    const printed = await runCli(['-f', setup.file, '--service-file', single, '-P']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('[db]\n');
    expect(printed.stdout).not.toContain('[web]');
  });

  it('rejects an invalid single service file, naming it', async () => {
    const setup = writeDaemonSetup([]);
    const single = join(setup.root, 'db.conf');
    writeFileSync(single, '[db]\ncheck_cmd = /bin/true\nip_prefix = 10.52.12.2\ncheck_rise = 0\n');
    expectInvalid(await runCli(['-f', setup.file, '-F', single, '-c']), [`${single}:4`, '[db] check_rise', "'0'"]);
  });
});

describe('-P / --print-conf', () => {
  it.each(['-P', '--print-conf'])('%s prints the effective configuration and exits 0', async (flag) => {
    const setup = writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }]);
    writeFileSync(join(setup.dir, '00-defaults.conf'), '[DEFAULT]\ncheck_rise = 3\nurl = http://10.52.12.1/?a=1%%202\n');
    writeFileSync(join(setup.dir, 'zz-web.conf'), '[web]\ncheck_cmd = /bin/echo %(url)s\n');
    const result = await runCli([...setup.args, flag]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const { document } = loadConfigDocument({ file: setup.file, dir: setup.dir });
    // The INI, plus one comment line ending [daemon] with the mode worker_threads = auto chose.
    const note = '# worker_threads = auto: 1 enabled check, one thread each up to 16: one worker thread per check\n';
    expect(result.stdout).toBe(renderEffective(document, new Map([['daemon', note.slice(2, -1)]])));
    expect(result.stdout).toMatch(new RegExp(`\\n\\[daemon\\]\\n[^[]*\\n${note.replace(/[()]/g, '\\$&')}\\n\\[`));
    expect(result.stdout).toMatch(/^\[DEFAULT\]\n/);
    expect(result.stdout).toContain('\n[daemon]\n');
    expect(result.stdout).toContain(`\n[web]\ncheck_cmd = /bin/echo http://10.52.12.1/?a=1%202\n`);
    expect(result.stdout).toContain(`instance_lock = ${setup.instanceLock}\n`);
    expect(result.stdout).toMatch(/\[web\][^[]*\nurl = http:\/\/10.52.12.1\/\?a=1%202\n/);
  });

  it('prints a [DEFAULT] reference that only the services can expand, without crashing', async () => {
    const setup = writeDaemonSetup([]);
    writeFileSync(join(setup.dir, '00-defaults.conf'), '[DEFAULT]\ncheck_cmd = /bin/echo http://%(vip)s/\n');
    writeFileSync(join(setup.dir, 'web.conf'), '[web]\nvip = 10.52.12.1\nip_prefix = %(vip)s/32\ncheck_disabled = false\n');
    expect(await runCli([...setup.args, '-c'])).toMatchObject({ code: 0, stdout: 'OK\n' });
    const result = await runCli([...setup.args, '-P']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('\n[web]\nvip = 10.52.12.1\nip_prefix = 10.52.12.1/32\ncheck_disabled = false\n');
    expect(result.stdout).toMatch(/\n\[web\]\n[^[]*\ncheck_cmd = \/bin\/echo http:\/\/10\.52\.12\.1\/\n/);
    expect(result.stdout).toMatch(/\n\[daemon\]\n[^[]*\ncheck_cmd = \/bin\/echo http:\/\/%\(vip\)s\/\n/);
  });

  it('names the mode an explicit worker_threads chose without a comment, and auto above 16 checks with one', async () => {
    const many = Array.from({ length: 17 }, (_, i) => ({ name: `s${i}`, prefix: `10.52.13.${i + 1}/32` }));
    const auto = await runCli([...writeDaemonSetup(many).args, '-P']);
    expect(auto.stdout).toContain(
      '# worker_threads = auto: 17 enabled checks, more than 16, so 2 threads host them all: 2 worker threads for all checks\n',
    );
    const explicit = await runCli([...writeDaemonSetup(many, { worker_threads: 'per-service' }).args, '-P']);
    expect(explicit.stdout).toContain('\nworker_threads = per-service\n');
    expect(explicit.stdout).not.toContain('# worker_threads');
  });

  it('prints control_socket, control_group and drain_file as set, and nothing of them when unset (as status_socket)', async () => {
    const plain = await runCli([...writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }]).args, '-P']);
    expect(plain.stdout).not.toMatch(/control_|drain_file/);
    const set = await runCli([
      ...writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }], {
        control_socket: '/tmp/x.control.sock',
        control_group: 'daemon',
        drain_file: '/tmp/drain',
      }).args,
      '-P',
    ]);
    expect(set).toMatchObject({ code: 0, stderr: '' });
    expect(set.stdout).toMatch(
      /\n\[daemon\]\n[^[]*control_socket = \/tmp\/x\.control\.sock\ncontrol_group = daemon\ndrain_file = \/tmp\/drain\n/,
    );
  });

  it('refuses a control_group this host does not have, naming it', async () => {
    const setup = writeDaemonSetup([], { control_group: 'no-such-group-ahc' });
    expectInvalid(await runCli([...setup.args, '-c']), ['[daemon] control_group', 'group no-such-group-ahc does not exist on this host']);
  });

  it('refuses an invalid configuration instead of printing it', async () => {
    const setup = writeDaemonSetup([], { loglevel: 'chatty' });
    expectInvalid(await runCli([...setup.args, '-P']), ['[daemon] loglevel', "'chatty'"]);
  });
});
