// The .deb, for real: built with the packaging script, checked by lintian, installed on this
// machine with dpkg -i, its shipped configuration validated, the daemon run (on the Node.js the
// package carries, spawning checks through the packaged ahc-spawn) as the user healthchecker,
// then purged. Under systemd, on a stock Debian root: deb-debian-root.test.ts.
//
// This installs a package system-wide: it needs root, refuses to touch a machine where
// anycast-healthchecker is already installed, cleans up (purge, and the user and groups it
// created), and is skipped with AHC_SKIP_PACKAGING=1.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, execSync, isAlive } from '../helpers/exec.js';
import { pollUntil } from '../helpers/poll.js';
import { HOST_ARCH, PINNED_NODE, buildPackage, hasTool, packagingSkipReason, procIds } from './packaging-env.js';

const PKG = 'anycast-healthchecker';

function hostSkipReason(): string | null {
  const base = packagingSkipReason({ root: true, tools: ['dpkg', 'dpkg-deb', 'setpriv'] });
  if (base !== null) return base;
  const status = execSync(['dpkg-query', '-W', '-f=${Status}', PKG]).stdout;
  if (status.includes('installed') || status.includes('config-files')) {
    return `${PKG} is already installed here (${status.trim()}); the test would remove it`;
  }
  return null;
}

const skipReason = hostSkipReason();
if (skipReason !== null) console.warn(`skipping the .deb tests: ${skipReason}`);

let debPromise: Promise<string> | undefined;
const deb = (): Promise<string> => (debPromise ??= buildPackage('deb'));
afterAll(async () => {
  if (debPromise !== undefined) rmSync(dirname(await debPromise), { recursive: true, force: true });
});

const getent = (db: string, key: string): string | null => {
  const r = execSync(['getent', db, key]);
  return r.code === 0 ? r.stdout.trim() : null;
};
const idOf = (flag: '-u' | '-g', user: string): number => Number(execSync(['id', flag, user]).stdout.trim());

describe.skipIf(skipReason !== null)(`the .deb installed with dpkg${skipReason === null ? '' : ` (skipped: ${skipReason})`}`, () => {
  let debFile = '';
  let work = '';
  let daemon: ChildProcess | undefined;
  const before = { user: false, group: false, birdGroup: false };
  const existedBefore = new Set<string>();
  let contents: string[] = [];

  beforeAll(async () => {
    before.user = getent('passwd', 'healthchecker') !== null;
    before.group = getent('group', 'healthchecker') !== null;
    before.birdGroup = getent('group', 'bird') !== null;
    debFile = await deb();
    contents = (await exec(['dpkg-deb', '-c', debFile])).stdout
      .trim()
      .split('\n')
      .map((l) => l.slice(l.indexOf('./') + 1).replace(/\/$/, ''))
      .filter((p) => p !== '' && p !== '/');
    for (const p of contents) if (existsSync(p)) existedBefore.add(p);
    work = mkdtempSync(join(tmpdir(), 'ahc-deb-'));
    chmodSync(work, 0o755);
  }, 60_000);

  afterAll(async () => {
    if (daemon?.pid !== undefined && isAlive(daemon.pid)) daemon.kill('SIGKILL');
    if (existsSync('/etc/init.d/anycast-healthchecker') && !existsSync('/run/systemd/system')) {
      execSync(['/etc/init.d/anycast-healthchecker', 'stop'], 40_000);
    }
    const status = execSync(['dpkg-query', '-W', '-f=${Status}', PKG]).stdout;
    if (status.includes('installed') || status.includes('config-files')) execSync(['dpkg', '--purge', PKG], 60_000);
    // Leave the accounts as they were found (the package itself keeps the user on purge).
    if (!before.user && getent('passwd', 'healthchecker') !== null) execSync(['userdel', 'healthchecker']);
    if (!before.group && getent('group', 'healthchecker') !== null) execSync(['groupdel', 'healthchecker']);
    if (!before.birdGroup && getent('group', 'bird') !== null) execSync(['groupdel', 'bird']);
    if (work !== '') rmSync(work, { recursive: true, force: true });
    await Promise.resolve();
  }, 90_000);

  it('is for this architecture, depends on no nodejs (only libraries a minimal system has, and iproute2), recommends BIRD, marks /etc files as conffiles', async () => {
    const field = async (name: string): Promise<string> => (await exec(['dpkg-deb', '-f', debFile, name])).stdout.trim();
    expect(await field('Package')).toBe(PKG);
    expect(await field('Architecture')).toBe(HOST_ARCH);
    const depends = (await field('Depends')).split(', ').map((d) => d.split(' ')[0]);
    expect(depends).toEqual(['libc6', 'libgcc-s1', 'libstdc++6', 'iproute2']);
    expect(await field('Maintainer')).not.toMatch(/@localhost>/);
    expect(await field('Recommends')).toBe('bird2 | bird');
    const conffiles = (await exec(['sh', '-c', `dpkg-deb --ctrl-tarfile '${debFile}' | tar -xOf - ./conffiles`])).stdout.trim().split('\n');
    expect(conffiles).toEqual([
      '/etc/anycast-healthchecker.conf',
      '/etc/init.d/anycast-healthchecker',
      '/etc/logrotate.d/anycast-healthchecker',
    ]);
    for (const path of [
      '/usr/bin/anycast-healthchecker',
      '/usr/lib/anycast-healthchecker/main.mjs',
      '/usr/lib/anycast-healthchecker/check-worker.mjs',
      '/usr/lib/anycast-healthchecker/package.json',
      '/usr/lib/anycast-healthchecker/node',
      '/usr/lib/anycast-healthchecker/ahc-spawn',
      '/usr/lib/anycast-healthchecker/ahc-release-pages.node',
      '/usr/share/doc/anycast-healthchecker/node/LICENSE',
      '/usr/share/doc/anycast-healthchecker/changelog.Debian.gz',
      '/usr/share/lintian/overrides/anycast-healthchecker',
      '/etc/anycast-healthchecker.d',
      '/usr/lib/systemd/system/anycast-healthchecker.service',
      '/usr/lib/sysusers.d/anycast-healthchecker.conf',
      '/usr/lib/tmpfiles.d/anycast-healthchecker.conf',
      '/var/lib/anycast-healthchecker/6',
      '/usr/lib/nagios/plugins/check_anycast_healthchecker',
      '/usr/share/man/man8/anycast-healthchecker.8.gz',
      '/usr/share/doc/anycast-healthchecker/copyright',
      '/usr/share/doc/anycast-healthchecker/examples/anycast-healthchecker.d/foo.example.com.conf',
    ])
      expect(contents, path).toContain(path);
  });

  it.skipIf(!hasTool('lintian'))(
    'lintian finds nothing (the remaining tags are overridden, each explained in docs/operations.md)',
    async () => {
      const r = await exec(['lintian', '--tag-display-limit', '0', debFile], { timeoutMs: 120_000, allowFailure: true });
      const tags = r.stdout.split('\n').filter((l) => /^[EWI]: /.test(l));
      expect(tags).toEqual([]);
      expect(r.code).toBe(0);
    },
    120_000,
  );

  it('installs with dpkg -i: creates healthchecker (groups healthchecker, bird) and its directories, does not start without checks', async () => {
    const r = await exec(['dpkg', '-i', debFile], { timeoutMs: 60_000 });
    expect(r.stdout).toContain('not started'); // no service check configured yet
    const groups = (await exec(['id', '-nG', 'healthchecker'])).stdout.trim().split(' ');
    expect(groups).toContain('healthchecker');
    expect(groups).toContain('bird');
    expect(getent('passwd', 'healthchecker')).toMatch(/:\/var\/lib\/anycast-healthchecker:\/usr\/sbin\/nologin$/);
    const uid = idOf('-u', 'healthchecker');
    for (const [dir, mode] of [
      ['/run/anycast-healthchecker', 0o755],
      ['/var/lib/anycast-healthchecker', 0o755],
      ['/var/lib/anycast-healthchecker/6', 0o755],
      ['/var/lib/anycast-healthchecker/state', 0o750],
      ['/var/log/anycast-healthchecker', 0o750],
    ] as const) {
      const st = statSync(dir);
      expect({ dir, uid: st.uid, mode: (st.mode & 0o7777).toString(8) }).toEqual({ dir, uid, mode: mode.toString(8) });
    }
    // the package's own node, never the system's
    const wrapper = readFileSync('/usr/bin/anycast-healthchecker', 'utf8');
    expect(wrapper).toContain(
      '\nexec /usr/lib/anycast-healthchecker/node --jitless --lite-mode --max-semi-space-size=1 /usr/lib/anycast-healthchecker/main.mjs "$@"\n',
    );
    expect(wrapper).not.toContain('/usr/bin/node');
    expect((await exec(['/usr/lib/anycast-healthchecker/node', '--version'])).stdout.trim()).toBe(`v${PINNED_NODE}`);
    const version = JSON.parse(readFileSync('/usr/lib/anycast-healthchecker/package.json', 'utf8')).version as string;
    for (const flag of ['--version', '-v']) {
      expect((await exec(['anycast-healthchecker', flag])).stdout.trim()).toBe(`${version} (Node.js ${PINNED_NODE})`);
    }
  }, 60_000);

  it('the shipped configuration passes anycast-healthchecker -c, as root and as healthchecker', async () => {
    expect((await exec(['anycast-healthchecker', '-c'])).stdout.trim()).toBe('OK');
    const asUser = await exec(
      ['setpriv', '--reuid=healthchecker', '--regid=healthchecker', '--init-groups', 'anycast-healthchecker', '-c'],
      { allowFailure: true },
    );
    expect(`${asUser.stdout}${asUser.stderr}`.trim()).toBe('OK');
    expect(asUser.code).toBe(0);
    const effective = (await exec(['anycast-healthchecker', '-P'])).stdout;
    expect(effective).toMatch(/^bird_reconfigure_cmd = \/usr\/sbin\/birdc configure$/m);
    expect(effective).toMatch(/^ipv6 = false$/m);
  });

  it('the daemon runs as healthchecker, writes the BIRD file 0644, reconfigures, and exits 0 on SIGTERM', async () => {
    const uid = idOf('-u', 'healthchecker');
    const gid = idOf('-g', 'healthchecker');
    const state = join(work, 'state');
    mkdirSync(state);
    chownSync(state, uid, gid);
    const standIn = join(work, 'birdc-stand-in');
    writeFileSync(standIn, `#!/bin/sh\necho "$*" >> ${state}/reconfigure.log\necho Reconfigured\n`);
    chmodSync(standIn, 0o755);
    const checks = join(work, 'checks.d');
    mkdirSync(checks);
    chmodSync(checks, 0o755);
    writeFileSync(
      join(checks, 'web.conf'),
      [
        '[web]',
        'check_cmd = /bin/true',
        'check_interval = 0.5',
        'check_timeout = 0.4',
        'check_rise = 1',
        'check_fail = 1',
        'check_disabled = false',
        'ip_prefix = 10.253.0.1/32',
        'ip_check_disabled = true',
        '',
      ].join('\n'),
    );
    const pidfile = '/run/anycast-healthchecker/packaging-test.pid';
    const birdFile = '/var/lib/anycast-healthchecker/anycast-prefixes.conf';
    const conf = join(work, 'anycast-healthchecker.conf');
    writeFileSync(
      conf,
      [
        '[daemon]',
        `pidfile = ${pidfile}`,
        `bird_conf = ${birdFile}`,
        `bird_reconfigure_cmd = ${standIn} configure`,
        `instance_lock = ahc-packaging-${process.pid}`,
        'loglevel = info',
        '',
      ].join('\n'),
    );
    for (const f of [conf, join(checks, 'web.conf')]) chmodSync(f, 0o644);

    let output = '';
    daemon = spawn(
      'setpriv',
      ['--reuid=healthchecker', '--regid=healthchecker', '--init-groups', '/usr/bin/anycast-healthchecker', '-f', conf, '-d', checks],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    daemon.stdout?.on('data', (b: Buffer) => {
      output += b.toString();
    });
    daemon.stderr?.on('data', (b: Buffer) => {
      output += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => daemon?.once('exit', (code) => resolve(code)));
    const pid = daemon.pid ?? -1;
    // setpriv and the wrapper exec: the pid we started is the daemon's.
    await pollUntil(async () => (existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() === String(pid) ? true : undefined), {
      what: "the daemon's pidfile",
      timeoutMs: 15_000,
      describe: () => output,
    });
    const ids = procIds(readFileSync(`/proc/${pid}/status`, 'utf8'));
    expect(ids.uid).toEqual([uid, uid, uid, uid]);
    expect(ids.gid).toEqual([gid, gid, gid, gid]);
    expect(ids.groups).toContain(Number(execSync(['getent', 'group', 'bird']).stdout.split(':')[2]));
    await pollUntil(async () => (existsSync(birdFile) && readFileSync(birdFile, 'utf8').includes('10.253.0.1/32') ? true : undefined), {
      what: 'the service prefix in the BIRD file',
      timeoutMs: 15_000,
      describe: () => output,
    });
    const st = statSync(birdFile);
    expect({ uid: st.uid, mode: (st.mode & 0o777).toString(8) }).toEqual({ uid, mode: '644' });
    await pollUntil(async () => (existsSync(join(state, 'reconfigure.log')) ? true : undefined), {
      what: 'a reconfigure run',
      timeoutMs: 10_000,
      describe: () => output,
    });
    const status = JSON.parse((await exec(['anycast-healthchecker', 'status', '--json', '-f', conf, '-d', checks])).stdout) as {
      daemon: { nodeVersion: string; spawnHelper: { via: string; binary: string | null } };
      services: Array<{ name: string; state: string }>;
    };
    expect(status.services.map((s) => [s.name, s.state])).toEqual([['web', 'up']]);
    // the runtime and the check spawner are the package's own
    expect(status.daemon.nodeVersion).toBe(PINNED_NODE);
    expect(status.daemon.spawnHelper).toMatchObject({ via: 'host', binary: '/usr/lib/anycast-healthchecker/ahc-spawn' });
    // and the packaged addon unmaps the packaged node's start-up pages once the check ran
    await pollUntil(
      async () => (output.includes('released the start-up pages of /usr/lib/anycast-healthchecker/node:') ? true : undefined),
      {
        what: 'the start-up pages released',
        timeoutMs: 35_000,
        describe: () => output,
      },
    );

    daemon.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(pidfile)).toBe(false);
  }, 75_000);

  it.skipIf(existsSync('/run/systemd/system'))(
    'the SysV init script starts it as healthchecker, reloads it with HUP and stops it',
    async () => {
      const init = '/etc/init.d/anycast-healthchecker';
      await exec([init, 'start'], { timeoutMs: 30_000 });
      expect((await exec([init, 'status'], { allowFailure: true })).code).toBe(0);
      const pid = Number(readFileSync('/run/anycast-healthchecker/anycast-healthchecker.pid', 'utf8').trim());
      expect(procIds(readFileSync(`/proc/${pid}/status`, 'utf8')).uid[0]).toBe(idOf('-u', 'healthchecker'));
      await exec([init, 'reload'], { timeoutMs: 30_000 });
      await pollUntil(
        async () => (readFileSync('/var/log/anycast-healthchecker/console.log', 'utf8').includes('received SIGHUP') ? true : undefined),
        {
          what: 'the daemon to log the SIGHUP',
          timeoutMs: 10_000,
        },
      );
      await exec([init, 'stop'], { timeoutMs: 40_000 });
      expect(isAlive(pid)).toBe(false);
      expect((await exec([init, 'status'], { allowFailure: true })).code).toBe(3);
    },
    60_000,
  );

  it('dpkg --purge removes every file of the package, its state, logs and configuration; the user is kept', async () => {
    const listed = (await exec(['dpkg', '-L', PKG])).stdout
      .trim()
      .split('\n')
      .filter((p) => p !== '/.');
    await exec(['dpkg', '--purge', PKG], { timeoutMs: 60_000 });
    const left = listed.filter((p) => !existedBefore.has(p) && existsSync(p));
    expect(left).toEqual([]);
    for (const p of [
      '/var/lib/anycast-healthchecker',
      '/var/log/anycast-healthchecker',
      '/run/anycast-healthchecker',
      '/etc/anycast-healthchecker.d',
      '/etc/anycast-healthchecker.conf',
      '/etc/init.d/anycast-healthchecker',
    ])
      expect(existsSync(p), p).toBe(false);
    expect(execSync(['dpkg-query', '-W', '-f=${Status}', PKG]).stdout).not.toMatch(/installed|config-files/);
    // Policy (docs/operations.md): the system user stays, files with its uid may exist elsewhere.
    expect(getent('passwd', 'healthchecker')).not.toBeNull();
  }, 60_000);
});
