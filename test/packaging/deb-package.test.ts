// The .deb, for real: built with the packaging script, installed on this machine with dpkg -i,
// its shipped configuration validated, the daemon run as the user healthchecker, then purged;
// and, where systemd-nspawn is available, installed inside a throw-away systemd machine so the
// unit's sandbox is exercised by systemd itself (the user, BIRD's control socket through the
// bird group, the interface check over netlink, reload, stop).
//
// This installs a package system-wide: it needs root, refuses to touch a machine where
// anycast-healthchecker is already installed, cleans up (purge, and the user and groups it
// created), and is skipped with AHC_SKIP_PACKAGING=1.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, execSync, isAlive } from '../helpers/exec.js';
import { pollUntil } from '../helpers/poll.js';
import { NspawnMachine } from './nspawn-container.js';
import { buildPackage, exposureOf, hasTool, packagingSkipReason } from './packaging-env.js';

const PKG = 'anycast-healthchecker';

function hostSkipReason(): string | null {
  const base = packagingSkipReason({ root: true, tools: ['dpkg', 'dpkg-deb', 'setpriv'] });
  if (base !== null) return base;
  const status = execSync(['dpkg-query', '-W', '-f=${Status}', PKG]).stdout;
  if (status.includes('installed') || status.includes('config-files')) {
    return `${PKG} is already installed here (${status.trim()}); the test would remove it`;
  }
  const node = execSync(['dpkg-query', '-W', '-f=${Version}', 'nodejs']);
  if (node.code !== 0 || node.stdout.trim() === '') return 'the dependency nodejs (>= 20.19) is not installed as a Debian package';
  if (execSync(['dpkg', '--compare-versions', node.stdout.trim(), 'ge', '20.19']).code !== 0) {
    return `the installed nodejs ${node.stdout.trim()} does not satisfy nodejs (>= 20.19)`;
  }
  return null;
}

const skipReason = hostSkipReason();
if (skipReason !== null) console.warn(`skipping the .deb tests: ${skipReason}`);
const nspawnSkipReason =
  skipReason ?? (hasTool('systemd-nspawn') ? null : 'systemd-nspawn is not installed (apt-get install systemd-container)');
if (skipReason === null && nspawnSkipReason !== null) console.warn(`skipping the .deb-under-systemd tests: ${nspawnSkipReason}`);

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

/** `Uid:`/`Gid:`/`Groups:` of /proc/PID/status. */
function procIds(statusText: string): { uid: number[]; gid: number[]; groups: number[] } {
  const field = (name: string): number[] =>
    (new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(statusText)?.[1] ?? '')
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '')
      .map(Number);
  return { uid: field('Uid'), gid: field('Gid'), groups: field('Groups') };
}

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

  it('declares Node.js >= 20.19, recommends BIRD and marks /etc files as conffiles', async () => {
    const field = async (name: string): Promise<string> => (await exec(['dpkg-deb', '-f', debFile, name])).stdout.trim();
    expect(await field('Package')).toBe(PKG);
    expect(await field('Architecture')).toBe('all');
    expect(await field('Depends')).toMatch(/(^|, )nodejs \(>= 20\.19\)(,|$)/);
    expect(await field('Depends')).not.toMatch(/bird/);
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
      ['/var/log/anycast-healthchecker', 0o750],
    ] as const) {
      const st = statSync(dir);
      expect({ dir, uid: st.uid, mode: (st.mode & 0o7777).toString(8) }).toEqual({ dir, uid, mode: mode.toString(8) });
    }
    // --no-expose-wasm only for the Node.js versions that have it (20, 22), --jitless for all
    const wrapper = readFileSync('/usr/bin/anycast-healthchecker', 'utf8');
    expect(wrapper).toContain(
      'exec /usr/bin/node --jitless --no-expose-wasm --max-semi-space-size=1 /usr/lib/anycast-healthchecker/main.mjs "$@" ;;',
    );
    expect(wrapper).toContain('\nexec /usr/bin/node --jitless --max-semi-space-size=1 /usr/lib/anycast-healthchecker/main.mjs "$@"\n');
    expect((await exec(['anycast-healthchecker', '--version'])).stdout.trim()).toBe(
      JSON.parse(readFileSync('/usr/lib/anycast-healthchecker/package.json', 'utf8')).version,
    );
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
      services: Array<{ name: string; state: string }>;
    };
    expect(status.services.map((s) => [s.name, s.state])).toEqual([['web', 'up']]);

    daemon.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(pidfile)).toBe(false);
  }, 45_000);

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

describe.skipIf(nspawnSkipReason !== null)(
  `the .deb under systemd, in a throw-away nspawn machine${nspawnSkipReason === null ? '' : ` (skipped: ${nspawnSkipReason})`}`,
  () => {
    let machine: NspawnMachine | undefined;
    let bootError = '';
    let debName = '';
    const hasBird = existsSync('/usr/sbin/bird') && existsSync('/usr/sbin/birdc');
    const run = (command: string, allowFailure = false): Promise<{ code: number; stdout: string; stderr: string }> => {
      if (machine === undefined) throw new Error('no machine');
      return machine.run(command, { allowFailure });
    };
    const requireMachine = (ctx: { skip: (note?: string) => void }): void => {
      if (machine === undefined) ctx.skip(`could not boot a systemd machine here: ${bootError}`);
    };

    beforeAll(async () => {
      const file = await deb();
      debName = basename(file);
      try {
        // policy-rc.d (container images ship one that forbids starting services) would stop the
        // postinst from starting the unit: remove it inside the machine only.
        machine = await NspawnMachine.boot({ bindReadOnly: [[dirname(file), '/ahc-pkg']], removeBeforeBoot: ['usr/sbin/policy-rc.d'] });
      } catch (error) {
        bootError = (error as Error).message.split('\n').slice(0, 6).join(' | ');
        console.warn(`skipping the .deb-under-systemd tests: could not boot a systemd machine: ${bootError}`);
      }
    }, 60_000);
    afterAll(async () => {
      await machine?.destroy();
    }, 30_000);

    it('dpkg -i enables the unit and starts it, since a valid service check is already configured', async (ctx) => {
      requireMachine(ctx);
      // BIRD first (without the include, which does not exist yet), so the daemon's first
      // reconfigure succeeds; without BIRD on this host, a stand-in birdc inside the machine.
      await run(
        hasBird
          ? "printf 'router id 192.0.2.10;\\nprotocol device { }\\n' > /etc/bird/bird.conf && systemctl start bird"
          : "printf '#!/bin/sh\\necho Reconfigured\\n' > /usr/sbin/birdc && chmod 755 /usr/sbin/birdc",
      );
      await run(
        [
          'ip addr add 10.52.12.1/32 dev lo',
          'mkdir -p /etc/anycast-healthchecker.d',
          'printf "[probe]\\ncheck_cmd = /bin/true\\ncheck_interval = 0.5\\ncheck_timeout = 0.4\\ncheck_rise = 1\\ncheck_fail = 1\\ncheck_disabled = false\\nip_prefix = 10.52.12.1/32\\n" > /etc/anycast-healthchecker.d/probe.conf',
        ].join(' && '),
      );
      const r = await run(`dpkg -i /ahc-pkg/${debName} 2>&1`);
      expect(r.stdout).not.toContain('not started');
      expect((await run('systemctl is-enabled anycast-healthchecker', true)).stdout.trim()).toBe('enabled');
      await pollUntil(
        async () => ((await run('systemctl is-active anycast-healthchecker', true)).stdout.trim() === 'active' ? true : undefined),
        {
          what: 'the unit to be active',
          timeoutMs: 15_000,
          intervalMs: 200,
          describe: async () => (await run('journalctl -u anycast-healthchecker --no-pager -n 20', true)).stdout,
        },
      );
    }, 60_000);

    it('runs as healthchecker inside the sandbox, and the interface check works (netlink)', async (ctx) => {
      requireMachine(ctx);
      const pid = (await run('systemctl show -p MainPID --value anycast-healthchecker')).stdout.trim();
      const ids = procIds((await run(`cat /proc/${pid}/status`)).stdout);
      const uid = Number((await run('id -u healthchecker')).stdout.trim());
      expect(ids.uid).toEqual([uid, uid, uid, uid]);
      expect(ids.groups).toContain(Number((await run('getent group bird | cut -d: -f3')).stdout.trim()));
      const status = await pollUntil(
        async () => {
          const s = JSON.parse((await run('anycast-healthchecker status --json')).stdout) as {
            services: Array<{ name: string; state: string; lastCheck: { ipAssigned: boolean } | null }>;
          };
          return s.services[0]?.state === 'up' ? s : undefined;
        },
        {
          what: 'the probe service to be up',
          timeoutMs: 15_000,
          intervalMs: 250,
          describe: async () =>
            `${(await run('anycast-healthchecker status', true)).stdout}\n${(await run('journalctl -u anycast-healthchecker --no-pager -n 15', true)).stdout}`,
        },
      );
      expect(status.services[0]?.lastCheck?.ipAssigned).toBe(true);
      const exposure = exposureOf((await run('systemd-analyze security --no-pager anycast-healthchecker.service', true)).stdout);
      console.info(`systemd-analyze security (running unit): exposure ${exposure}`);
      expect(exposure).toBeLessThanOrEqual(2.0);
    }, 30_000);

    it.skipIf(!hasBird)(
      'birdc configure works through the bird group, without sudo, and BIRD reads the include file',
      async (ctx) => {
        requireMachine(ctx);
        // The daemon's own reconfigure (as healthchecker, in the sandbox) went through.
        const bird = await pollUntil(
          async () => {
            const s = JSON.parse((await run('anycast-healthchecker status --json')).stdout) as {
              daemon: { bird: Array<{ lastApplied: string | null; pending: boolean; lastError: string | null }> };
            };
            return s.daemon.bird[0]?.lastApplied !== null && s.daemon.bird[0]?.pending === false ? s.daemon.bird[0] : undefined;
          },
          { what: 'BIRD to have applied the prefix file', timeoutMs: 20_000, intervalMs: 250 },
        );
        expect(bird?.lastError ?? null).toBeNull();
        // BIRD (user bird) can read what the daemon wrote.
        await run(
          'printf \'router id 192.0.2.10;\\ninclude "/var/lib/anycast-healthchecker/anycast-prefixes.conf";\\nprotocol device { }\\n\' > /etc/bird/bird.conf',
        );
        expect((await run('birdc configure')).stdout).toContain('Reconfigured');
        expect((await run('birdc eval ACAST_PS_ADVERTISE')).stdout).toContain('10.52.12.1/32');
      },
      40_000,
    );

    it('systemctl reload asks the daemon over the control socket: an invalid file fails the reload and the daemon keeps running', async (ctx) => {
      requireMachine(ctx);
      expect((await run('systemctl reload anycast-healthchecker', true)).code).toBe(0);
      await run('printf "[broken]\\n" > /etc/anycast-healthchecker.d/broken.conf');
      expect((await run('systemctl reload anycast-healthchecker', true)).code).not.toBe(0);
      expect((await run('systemctl is-active anycast-healthchecker', true)).stdout.trim()).toBe('active');
      // The daemon's answer, every reason, is in the unit's journal.
      const journal = (await run('journalctl -u anycast-healthchecker --no-pager -o cat', true)).stdout;
      expect(journal).toMatch(/configuration reloaded: 0 added, 0 removed, 0 changed, \d+ unchanged/);
      expect(journal).toMatch(/AHC_CONTROL_RELOAD_INVALID: the new configuration is invalid[\s\S]*broken\.conf/);
      await run('rm /etc/anycast-healthchecker.d/broken.conf');
    }, 30_000);

    it('in the sandbox, the control socket is given to control_group, and drain withdraws the prefix until undrain', async (ctx) => {
      requireMachine(ctx);
      await run('printf "control_group = bird\\n" >> /etc/anycast-healthchecker.conf && systemctl restart anycast-healthchecker');
      const sock = '/run/anycast-healthchecker/anycast-healthchecker.control.sock';
      const owner = await pollUntil(async () => (await run(`stat -c '%U:%G %a' ${sock}`, true)).stdout.trim() || undefined, {
        what: 'the control socket',
        timeoutMs: 15_000,
        intervalMs: 200,
        describe: async () => (await run('journalctl -u anycast-healthchecker --no-pager -n 20', true)).stdout,
      });
      expect(owner).toBe('healthchecker:bird 660');
      const inFile = async (): Promise<boolean> =>
        (await run('cat /var/lib/anycast-healthchecker/anycast-prefixes.conf')).stdout.includes('10.52.12.1/32');
      await pollUntil(async () => ((await inFile()) ? true : undefined), {
        what: 'the probe advertised',
        timeoutMs: 15_000,
        intervalMs: 200,
      });
      expect((await run('anycast-healthchecker drain probe --reason packaging-test', true)).code).toBe(0);
      await pollUntil(async () => (!(await inFile()) ? true : undefined), {
        what: 'the probe withdrawn',
        timeoutMs: 5_000,
        intervalMs: 100,
      });
      expect((await run('anycast-healthchecker undrain probe', true)).code).toBe(0);
      await pollUntil(async () => ((await inFile()) ? true : undefined), {
        what: 'the probe announced again',
        timeoutMs: 5_000,
        intervalMs: 100,
      });
    }, 40_000);

    it('systemctl stop ends it with exit code 0, and dpkg --purge removes it', async (ctx) => {
      requireMachine(ctx);
      await run('systemctl stop anycast-healthchecker');
      expect((await run('systemctl show -p Result -p ExecMainStatus --value anycast-healthchecker')).stdout.trim().split('\n')).toEqual([
        'success',
        '0',
      ]);
      expect((await run('test -e /run/anycast-healthchecker/anycast-healthchecker.pid', true)).code).not.toBe(0);
      await run(`dpkg --purge ${PKG}`);
      for (const p of [
        '/usr/lib/systemd/system/anycast-healthchecker.service',
        '/var/lib/anycast-healthchecker',
        '/etc/anycast-healthchecker.d',
      ]) {
        expect((await run(`test -e ${p}`, true)).code, p).not.toBe(0);
      }
      expect((await run('systemctl is-enabled anycast-healthchecker', true)).stdout.trim()).not.toBe('enabled');
    }, 60_000);
  },
);
