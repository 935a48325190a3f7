// The .deb as a new user meets it: a stock Debian 12 root (and the same for Debian 13) (debootstrap --variant=minbase, plus
// systemd to boot it and bird2; cached between runs, test/packaging/debian-root.ts) booted as a
// throw-away systemd machine (systemd-nspawn on an overlay, test/packaging/nspawn-container.ts).
//
//   1. `apt-get install ./pkg.deb` succeeds with Debian's own repositories only: nothing of
//      this project and no nodejs in the root, the dependencies resolved from Debian's packages
//      (downloaded into the root's apt cache before the machine boots, since it has no network);
//   2. the unit starts, runs sandboxed as healthchecker on the bundled Node.js, spawns checks
//      through the bundled ahc-spawn, reconfigures a real BIRD through the group bird, reload
//      validates first, stop exits 0; a reinstall leaves a stopped daemon stopped;
//   3. upgrade from the previous version (0.0.9-1, built from this same tree: there is no earlier
//      release) keeps a changed configuration, the user and BIRD's include file, and restarts
//      the daemon that was running;
//   4. remove keeps the configuration, the include file and the user; purge removes the rest.
//
// Needs root, systemd-nspawn, and debootstrap plus the Debian mirror the first time (skipped with
// the reason when the mirror is unreachable and no root is cached).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../helpers/poll.js';
import { cachedRootReady, ensureDebianRoot, mirrorUnreachableReason, predownloadDependencies } from './debian-root.js';
import { NspawnMachine } from './nspawn-container.js';
import { HOST_ARCH, PINNED_NODE, VERSION, buildPackage, exposureOf, hasTool, packagingSkipReason, procIds } from './packaging-env.js';

const PKG = 'anycast-healthchecker';
// Debian 12 and 13; AHC_TEST_DEBIAN_SUITES=bookworm for one of them.
const SUITES = (process.env.AHC_TEST_DEBIAN_SUITES ?? 'bookworm,trixie').split(',').filter((x) => x !== '');
const PREVIOUS = '0.0.9-1';

async function skipReasonOf(SUITE: string): Promise<string | null> {
  const base = packagingSkipReason({ root: true, tools: ['dpkg-deb', 'systemd-nspawn', 'nsenter', 'chroot'] });
  if (base !== null) return base;
  if (HOST_ARCH !== 'amd64' && HOST_ARCH !== 'arm64') return `no package is built for ${process.arch}`;
  if (!cachedRootReady(SUITE)) {
    if (!hasTool('debootstrap')) return `no cached Debian ${SUITE} root, and debootstrap is not installed (apt-get install debootstrap)`;
    const offline = await mirrorUnreachableReason(SUITE);
    if (offline !== null) return `no cached Debian ${SUITE} root, and debootstrap cannot make one: ${offline}`;
  }
  return null;
}

for (const SUITE of SUITES) {
  const skipReason = await skipReasonOf(SUITE);
  if (skipReason !== null) console.warn(`skipping the .deb-on-stock-Debian ${SUITE} tests: ${skipReason}`);

  describe.skipIf(skipReason !== null)(
    `the .deb on a stock Debian ${SUITE} under systemd${skipReason === null ? '' : ` (skipped: ${skipReason})`}`,
    () => {
      let machine: NspawnMachine | undefined;
      let notRunnable = '';
      let pkgDir = '';
      let current = '';
      let previous = '';
      const run = (
        command: string,
        allowFailure = false,
        timeoutMs = 30_000,
      ): Promise<{ code: number; stdout: string; stderr: string }> => {
        if (machine === undefined) throw new Error('no machine');
        return machine.run(command, { allowFailure, timeoutMs });
      };
      const requireMachine = (ctx: { skip: (note?: string) => void }): void => {
        if (machine === undefined) ctx.skip(notRunnable);
      };
      const journal = async (): Promise<string> => (await run('journalctl -u anycast-healthchecker --no-pager -n 30', true)).stdout;
      const waitActive = (what: string): Promise<true> =>
        pollUntil(
          async () => ((await run('systemctl is-active anycast-healthchecker', true)).stdout.trim() === 'active' ? true : undefined),
          {
            what,
            timeoutMs: 20_000,
            intervalMs: 200,
            describe: journal,
          },
        );
      const mainPid = async (): Promise<string> => (await run('systemctl show -p MainPID --value anycast-healthchecker')).stdout.trim();
      const aptGet = (args: string): Promise<{ code: number; stdout: string; stderr: string }> =>
        run(`DEBIAN_FRONTEND=noninteractive apt-get ${args} 2>&1`, false, 180_000);
      const PROBE =
        'printf "[probe]\\ncheck_cmd = /bin/true\\ncheck_interval = 0.5\\ncheck_timeout = 0.4\\ncheck_rise = 1\\ncheck_fail = 1\\ncheck_disabled = false\\nip_prefix = 10.52.12.1/32\\n" > /etc/anycast-healthchecker.d/probe.conf';
      const INCLUDE = '/var/lib/anycast-healthchecker/anycast-prefixes.conf';

      beforeAll(async () => {
        const started = Date.now();
        const cached = cachedRootReady(SUITE);
        const root = await ensureDebianRoot(SUITE);
        const rootMs = Date.now() - started;
        const [cur, prev] = await Promise.all([buildPackage('deb'), buildPackage('deb', { version: PREVIOUS })]);
        pkgDir = mkdtempSync(join(tmpdir(), 'ahc-debroot-pkgs-'));
        current = basename(cur);
        previous = basename(prev);
        cpSync(cur, join(pkgDir, current));
        cpSync(prev, join(pkgDir, previous));
        for (const f of [cur, prev]) rmSync(dirname(f), { recursive: true, force: true });
        try {
          await predownloadDependencies(root, [join(pkgDir, current), join(pkgDir, previous)]);
        } catch (error) {
          const offline = await mirrorUnreachableReason(SUITE);
          if (offline === null) throw error;
          notRunnable = `the package's dependencies are not in the cached root's apt cache and ${offline}`;
          console.warn(`skipping the .deb-on-stock-Debian tests: ${notRunnable}`);
          return;
        }
        console.info(`Debian ${SUITE} root ${cached ? 'cached' : `made with debootstrap in ${Math.round(rootMs / 1000)} s`}: ${root}`);
        // under the whole suite's load (2 cores, BGP tests beside it) a boot has taken over 30 s
        machine = await NspawnMachine.boot({ lowerDir: root, bindReadOnly: [[pkgDir, '/ahc-pkg']], bootTimeoutMs: 120_000 });
      }, 900_000);
      afterAll(async () => {
        await machine?.destroy();
        if (pkgDir !== '') rmSync(pkgDir, { recursive: true, force: true });
      }, 30_000);

      it('apt-get install ./pkg.deb succeeds with Debian packages only, enables the unit and starts it (a check is pre-seeded)', async (ctx) => {
        requireMachine(ctx);
        // stock: nothing of this project, no Node.js at all
        expect((await run(`dpkg-query -W ${PKG} nodejs 2>&1`, true)).stdout).toMatch(/no packages found matching anycast-healthchecker/);
        expect((await run('command -v node nodejs', true)).stdout.trim()).toBe('');
        await run("printf 'router id 192.0.2.10;\\nprotocol device { }\\n' > /etc/bird/bird.conf && systemctl restart bird");
        await run(`mkdir -p /etc/anycast-healthchecker.d && ${PROBE}`);
        // The machine has no network (--private-network): apt takes the dependencies from the
        // root's apt cache, filled from Debian's repositories (apt's --no-download cannot be used:
        // it rejects a local .deb as "not absolute").
        const r = await aptGet(`install -y /ahc-pkg/${current}`);
        expect(r.stdout).not.toContain('not started');
        expect((await run(`dpkg-query -W -f='\${Version} \${Architecture}' ${PKG}`)).stdout).toBe(`${VERSION}-1 ${HOST_ARCH}`);
        expect((await run("dpkg-query -W -f='${Status}' iproute2")).stdout).toBe('install ok installed');
        expect((await run('systemctl is-enabled anycast-healthchecker', true)).stdout.trim()).toBe('enabled');
        await waitActive('the unit to be active after apt-get install');
        // the service's address; `ip` came with the package's dependency iproute2
        await run('ip addr add 10.52.12.1/32 dev lo');
      }, 240_000);

      it('runs sandboxed as healthchecker on the bundled Node.js, spawns checks through ahc-spawn, checks the interface over netlink', async (ctx) => {
        requireMachine(ctx);
        const pid = await mainPid();
        expect((await run(`readlink /proc/${pid}/exe`)).stdout.trim()).toBe('/usr/lib/anycast-healthchecker/node');
        const ids = procIds((await run(`cat /proc/${pid}/status`)).stdout);
        const uid = Number((await run('id -u healthchecker')).stdout.trim());
        expect(ids.uid).toEqual([uid, uid, uid, uid]);
        expect(ids.groups).toContain(Number((await run('getent group bird | cut -d: -f3')).stdout.trim()));
        const status = await pollUntil(
          async () => {
            const s = JSON.parse((await run('anycast-healthchecker status --json')).stdout) as {
              daemon: {
                nodeVersion: string;
                spawnHelper: { via: string; state?: string };
                addresses?: { source: string; lastProblem: string | null };
              };
              services: Array<{ state: string; lastCheck: { ipAssigned: boolean } | null }>;
            };
            return s.services[0]?.state === 'up' ? s : undefined;
          },
          { what: 'the probe service to be up', timeoutMs: 15_000, intervalMs: 250, describe: journal },
        );
        expect(status.services[0]?.lastCheck?.ipAssigned).toBe(true);
        expect(status.daemon.nodeVersion).toBe(PINNED_NODE);
        expect(status.daemon.spawnHelper).toMatchObject({ via: 'host', state: 'running' });
        // the address watch (`ip -o monitor address`) runs inside the sandbox: Debian 12's ip calls
        // capset to drop capabilities, which the system call filter must let through
        expect(status.daemon.addresses).toMatchObject({ source: 'events' });
        expect((await run('journalctl -u anycast-healthchecker --no-pager | grep -c "address watch: .* exited"', true)).stdout.trim()).toBe(
          '0',
        );
        expect((await run('anycast-healthchecker -v')).stdout.trim()).toBe(`${VERSION} (Node.js ${PINNED_NODE})`);
        // the addon loads and its madvise passes the unit's system call filter
        await pollUntil(
          async () =>
            (
              await run(
                'journalctl -u anycast-healthchecker --no-pager | grep -c "released the start-up pages of /usr/lib/anycast-healthchecker/node:"',
                true,
              )
            ).stdout.trim() === '1'
              ? true
              : undefined,
          { what: 'the start-up pages released', timeoutMs: 35_000, intervalMs: 500, describe: journal },
        );
        expect((await run('journalctl -u anycast-healthchecker --no-pager | grep -c "cannot release"', true)).stdout.trim()).toBe('0');
        const exposure = exposureOf((await run('systemd-analyze security --no-pager anycast-healthchecker.service', true)).stdout);
        expect(exposure).toBeLessThanOrEqual(2.0);
      }, 75_000);

      it('reconfigures a real BIRD through the group bird (no sudo), and BIRD reads the include file', async (ctx) => {
        requireMachine(ctx);
        const bird = await pollUntil(
          async () => {
            const s = JSON.parse((await run('anycast-healthchecker status --json')).stdout) as {
              daemon: { bird: Array<{ lastApplied: string | null; pending: boolean; lastError: string | null }> };
            };
            return s.daemon.bird[0]?.lastApplied !== null && s.daemon.bird[0]?.pending === false ? s.daemon.bird[0] : undefined;
          },
          { what: 'BIRD to have applied the prefix file', timeoutMs: 20_000, intervalMs: 250, describe: journal },
        );
        expect(bird?.lastError ?? null).toBeNull();
        await run(`printf 'router id 192.0.2.10;\\ninclude "${INCLUDE}";\\nprotocol device { }\\n' > /etc/bird/bird.conf`);
        expect((await run('birdc configure')).stdout).toContain('Reconfigured');
        expect((await run('birdc eval ACAST_PS_ADVERTISE')).stdout).toContain('10.52.12.1/32');
      }, 40_000);

      it('systemctl reload asks the daemon over the control socket: an invalid file fails the reload and the daemon keeps running', async (ctx) => {
        requireMachine(ctx);
        const reload = await run('systemctl reload anycast-healthchecker', true);
        expect(reload.code, `${reload.stdout}${reload.stderr}\n${await journal()}`).toBe(0);
        await run('printf "[broken]\\n" > /etc/anycast-healthchecker.d/broken.conf');
        expect((await run('systemctl reload anycast-healthchecker', true)).code).not.toBe(0);
        expect((await run('systemctl is-active anycast-healthchecker', true)).stdout.trim()).toBe('active');
        // The daemon's answer, every reason, is in the unit's journal.
        const log = (await run('journalctl -u anycast-healthchecker --no-pager -o cat', true)).stdout;
        expect(log).toMatch(/configuration reloaded: 0 added, 0 removed, 0 changed, \d+ unchanged/);
        expect(log).toMatch(/AHC_CONTROL_RELOAD_INVALID: the new configuration is invalid[\s\S]*broken\.conf/);
        await run('rm /etc/anycast-healthchecker.d/broken.conf');
      }, 30_000);

      it('in the sandbox, the control socket is given to control_group, and drain withdraws the prefix until undrain', async (ctx) => {
        requireMachine(ctx);
        await run('cp /etc/anycast-healthchecker.conf /tmp/ahc.conf.orig');
        await run('printf "control_group = bird\\n" >> /etc/anycast-healthchecker.conf && systemctl restart anycast-healthchecker');
        const sock = '/run/anycast-healthchecker/anycast-healthchecker.control.sock';
        const owner = await pollUntil(async () => (await run(`stat -c '%U:%G %a' ${sock}`, true)).stdout.trim() || undefined, {
          what: 'the control socket',
          timeoutMs: 15_000,
          intervalMs: 200,
          describe: journal,
        });
        expect(owner).toBe('healthchecker:bird 660');
        const inFile = async (): Promise<boolean> => (await run(`cat ${INCLUDE}`)).stdout.includes('10.52.12.1/32');
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
        // back to the shipped configuration for the steps below
        await run('cp /tmp/ahc.conf.orig /etc/anycast-healthchecker.conf && systemctl restart anycast-healthchecker');
        await waitActive('the unit to be active again');
        // and past its start-up (a SIGTERM before its handlers are in place ends it by the signal)
        await pollUntil(async () => ((await run('anycast-healthchecker status --json', true)).code === 0 ? true : undefined), {
          what: 'the status socket after the restart',
          timeoutMs: 15_000,
          intervalMs: 200,
          describe: journal,
        });
      }, 40_000);

      it('systemctl stop exits 0; installing the package again leaves the stopped daemon stopped', async (ctx) => {
        requireMachine(ctx);
        await run('systemctl stop anycast-healthchecker');
        expect((await run('systemctl show -p Result -p ExecMainStatus --value anycast-healthchecker')).stdout.trim().split('\n')).toEqual([
          'success',
          '0',
        ]);
        await aptGet(`install -y --reinstall /ahc-pkg/${current}`);
        expect((await run('systemctl is-active anycast-healthchecker', true)).stdout.trim()).toBe('inactive');
      }, 240_000);

      it(`upgrade from ${PREVIOUS}: a changed configuration, the user and the include file are kept, the running daemon is restarted`, async (ctx) => {
        requireMachine(ctx);
        // back to the previous version, from scratch (purge keeps only the user)
        const uid = (await run('id -u healthchecker')).stdout.trim();
        await aptGet(`purge -y ${PKG}`);
        await run(`mkdir -p /etc/anycast-healthchecker.d && ${PROBE}`);
        await aptGet(`install -y /ahc-pkg/${previous}`);
        await waitActive(`${PREVIOUS} to be active`);
        await pollUntil(async () => ((await run(`grep -c 10.52.12.1/32 ${INCLUDE}`, true)).code === 0 ? true : undefined), {
          what: 'the include file with the prefix',
          timeoutMs: 15_000,
          describe: journal,
        });
        expect((await run('birdc configure')).stdout).toContain('Reconfigured');
        await run(
          "sed -i 's/^loglevel = info$/loglevel = debug/' /etc/anycast-healthchecker.conf && systemctl restart anycast-healthchecker",
        );
        await waitActive(`${PREVIOUS} to be active again`);
        const before = await mainPid();

        const r = await aptGet(`install -y /ahc-pkg/${current}`);
        expect(r.stdout).toContain(`Unpacking ${PKG} (${VERSION}-1) over (${PREVIOUS})`);
        expect((await run(`dpkg-query -W -f='\${Version}' ${PKG}`)).stdout).toBe(`${VERSION}-1`);
        expect((await run('grep -c "^loglevel = debug$" /etc/anycast-healthchecker.conf')).stdout.trim()).toBe('1');
        expect((await run('ls /etc/ | grep anycast-healthchecker.conf.dpkg', true)).stdout.trim()).toBe('');
        expect((await run('id -u healthchecker')).stdout.trim()).toBe(uid);
        await waitActive('the upgraded unit to be active');
        expect(await mainPid()).not.toBe(before);
        expect((await run(`grep -c 10.52.12.1/32 ${INCLUDE}`)).stdout.trim()).toBe('1');
        expect((await run('birdc configure')).stdout).toContain('Reconfigured');
      }, 300_000);

      it('remove stops it and keeps the configuration, the include file (BIRD still loads) and the user', async (ctx) => {
        requireMachine(ctx);
        await aptGet(`remove -y ${PKG}`);
        expect((await run(`dpkg-query -W -f='\${Status}' ${PKG}`)).stdout).toBe('deinstall ok config-files');
        expect((await run('systemctl is-active anycast-healthchecker', true)).stdout.trim()).not.toBe('active');
        for (const p of ['/etc/anycast-healthchecker.conf', '/etc/anycast-healthchecker.d/probe.conf', INCLUDE]) {
          expect((await run(`test -f ${p}`, true)).code, p).toBe(0);
        }
        expect((await run('test -e /usr/lib/anycast-healthchecker', true)).code).not.toBe(0);
        expect((await run('birdc configure')).stdout).toContain('Reconfigured');
        expect((await run('getent passwd healthchecker', true)).code).toBe(0);
      }, 240_000);

      it('purge removes the configuration, state, logs and service links; the user stays', async (ctx) => {
        requireMachine(ctx);
        await aptGet(`purge -y ${PKG}`);
        expect((await run(`dpkg-query -W -f='\${Status}' ${PKG}`, true)).stdout).not.toMatch(/installed|config-files/);
        for (const p of [
          '/etc/anycast-healthchecker.conf',
          '/etc/anycast-healthchecker.d',
          '/etc/init.d/anycast-healthchecker',
          '/var/lib/anycast-healthchecker',
          '/var/log/anycast-healthchecker',
          '/usr/lib/systemd/system/anycast-healthchecker.service',
          '/etc/systemd/system/multi-user.target.wants/anycast-healthchecker.service',
          '/etc/systemd/system/anycast-healthchecker.service',
        ]) {
          expect((await run(`test -e ${p} || test -L ${p}`, true)).code, p).not.toBe(0);
        }
        expect((await run('getent passwd healthchecker', true)).code).toBe(0);
      }, 240_000);
    },
  );
}
