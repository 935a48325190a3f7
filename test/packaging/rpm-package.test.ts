// The .rpm built by contrib/packaging/build-packages.mjs: inspected with rpm (file list and
// attributes, configuration files, scriptlets, dependencies), checked by rpmlint, and installed
// with `rpm --root` into an empty root (this tier runs on Debian, with no RPM system to boot):
// what lands where with which owner and mode, `rpm -V` clean, an upgrade from the previous
// version (0.0.9-1, built from this same tree) keeping a changed %config(noreplace) file, and
// an erase keeping it as .rpmsave. Scriptlets need a shell in the root, so they are not run there
// (--noscripts); their text is checked instead, and the .deb tests run the same logic for real.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '../helpers/exec.js';
import { HOST_ARCH, VERSION, buildPackage, hasTool, packagingSkipReason } from './packaging-env.js';

const RPM_ARCH = HOST_ARCH === 'arm64' ? 'aarch64' : 'x86_64';

const skipReason = packagingSkipReason({ tools: ['rpmbuild', 'rpm'] });
if (skipReason !== null) console.warn(`skipping the .rpm tests: ${skipReason}`);

describe.skipIf(skipReason !== null)(
  `the .rpm package${skipReason === null ? '' : ` (skipped: ${skipReason}; Debian: apt-get install rpm)`}`,
  () => {
    let rpm = '';
    let previous = '';
    const query = async (...args: string[]): Promise<string> => (await exec(['rpm', '-qp', ...args, rpm], { timeoutMs: 20_000 })).stdout;

    beforeAll(async () => {
      [rpm, previous] = await Promise.all([buildPackage('rpm'), buildPackage('rpm', { version: '0.0.9-1' })]);
    }, 120_000);
    afterAll(() => {
      for (const f of [rpm, previous]) if (f !== '') rmSync(dirname(f), { recursive: true, force: true });
    });

    it("is a package of the program's version for this architecture, with a URL and a changelog", async () => {
      expect(await query('--qf', '%{NAME} %{VERSION} %{ARCH}')).toBe(`anycast-healthchecker ${VERSION.replaceAll('-', '~')} ${RPM_ARCH}`);
      expect(await query('--qf', '%{URL}')).not.toBe('(none)');
      expect(await query('--changelog')).toMatch(/^\* \w{3} \w{3} \d{2} \d{4} .+ <[^@>]+@[^>]+> - \d/);
    });

    it('lists the program, wrapper, unit, sysusers/tmpfiles entries, configuration, docs, man page and Nagios plugin (rpm -qlp)', async () => {
      const files = (await exec(['rpm', '-qlp', rpm])).stdout.trim().split('\n');
      for (const path of [
        '/usr/bin/anycast-healthchecker',
        '/usr/lib/anycast-healthchecker/main.mjs',
        '/usr/lib/anycast-healthchecker/check-worker.mjs',
        '/usr/lib/anycast-healthchecker/package.json',
        '/usr/lib/anycast-healthchecker/node',
        '/usr/lib/anycast-healthchecker/ahc-spawn',
        '/usr/lib/anycast-healthchecker/ahc-release-pages.node',
        '/usr/share/doc/anycast-healthchecker/node/LICENSE',
        '/etc/anycast-healthchecker.conf',
        '/etc/anycast-healthchecker.d',
        '/usr/lib/systemd/system/anycast-healthchecker.service',
        '/usr/lib/sysusers.d/anycast-healthchecker.conf',
        '/usr/lib/tmpfiles.d/anycast-healthchecker.conf',
        '/var/lib/anycast-healthchecker',
        '/var/lib/anycast-healthchecker/6',
        '/var/log/anycast-healthchecker',
        '/run/anycast-healthchecker',
        '/usr/lib64/nagios/plugins/check_anycast_healthchecker', // %{_libdir}, as Fedora and RHEL keep plugins
        '/usr/share/man/man8/anycast-healthchecker.8.gz',
        '/usr/share/doc/anycast-healthchecker/operations.md',
        '/usr/share/doc/anycast-healthchecker/examples/anycast-healthchecker.d/foo.example.com.conf',
      ])
        expect(files, path).toContain(path);
      // Nothing under /etc/init.d on RPM systems (they boot with systemd), no source maps, no node_modules.
      expect(
        files.filter(
          (f) => f.startsWith('/etc/init.d') || f.endsWith('.map') || f.includes('node_modules') || f.startsWith('/usr/lib/nagios'),
        ),
      ).toEqual([]);
    });

    it('gives the state directories to healthchecker and marks the configuration %config(noreplace)', async () => {
      const attrs = (await query('--qf', '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]'))
        .trim()
        .split('\n');
      const line = (path: string): string | undefined => attrs.find((l) => l.endsWith(` ${path}`));
      expect(line('/var/lib/anycast-healthchecker')).toMatch(/^drwxr-xr-x healthchecker:healthchecker /);
      expect(line('/var/lib/anycast-healthchecker/6')).toMatch(/^drwxr-xr-x healthchecker:healthchecker /);
      expect(line('/var/log/anycast-healthchecker')).toMatch(/^drwxr-x--- healthchecker:healthchecker /);
      expect(line('/run/anycast-healthchecker')).toMatch(/^drwxr-xr-x healthchecker:healthchecker g /); // %ghost
      expect(line('/usr/bin/anycast-healthchecker')).toMatch(/^-rwxr-xr-x root:root /);
      expect(line('/etc/anycast-healthchecker.conf')).toMatch(/^-rw-r--r-- root:root cn /);
      expect((await query('-c')).trim().split('\n')).toEqual(['/etc/anycast-healthchecker.conf']);
    });

    it('has scriptlets that create the user, the directories and follow systemd preset policy (rpm -qp --scripts)', async () => {
      const scripts = await query('--scripts');
      const section = (name: string): string => {
        const start = scripts.indexOf(`${name} scriptlet`);
        expect(start, name).toBeGreaterThanOrEqual(0);
        const next = scripts.slice(start + 1).search(/\n\w+ scriptlet/);
        return next < 0 ? scripts.slice(start) : scripts.slice(start, start + 1 + next);
      };
      const pre = section('preinstall');
      expect(pre).toContain('systemd-sysusers --replace=/usr/lib/sysusers.d/anycast-healthchecker.conf -');
      expect(pre).toContain('m healthchecker bird');
      expect(pre).toContain('useradd -r -g healthchecker'); // fallback without systemd-sysusers
      expect(section('postinstall')).toContain('systemd-tmpfiles --create /usr/lib/tmpfiles.d/anycast-healthchecker.conf');
      expect(section('postinstall')).toContain('systemctl --no-reload preset anycast-healthchecker.service');
      expect(section('postinstall')).not.toMatch(/systemctl (--no-reload )?(start|restart)/);
      expect(section('preuninstall')).toContain('systemctl --no-reload disable --now anycast-healthchecker.service');
      const postun = section('postuninstall');
      expect(postun).toContain('anycast-healthchecker -c');
      expect(postun).toContain('systemctl try-restart anycast-healthchecker.service');
    });

    it('requires no nodejs: the libraries of the bundled node (found by rpm), iproute; only recommends BIRD (rpm -qpR)', async () => {
      const requires = (await query('-R'))
        .trim()
        .split('\n')
        .map((l) => l.trim());
      expect(requires.filter((r) => /node/.test(r))).toEqual([]);
      expect(requires).toContain('iproute');
      expect(requires).toContain('libstdc++.so.6()(64bit)');
      expect(requires.filter((r) => /^bird/.test(r))).toEqual([]);
      // the bundled node is for this program only: it provides nothing to others
      expect((await query('--provides')).trim().split('\n')).toEqual([
        `anycast-healthchecker = ${VERSION}-1`,
        `anycast-healthchecker(${RPM_ARCH === 'x86_64' ? 'x86-64' : 'aarch-64'}) = ${VERSION}-1`,
        `config(anycast-healthchecker) = ${VERSION}-1`,
      ]);
      expect((await query('--recommends')).trim()).toBe('(bird or bird2)');
    });

    it.skipIf(!hasTool('rpmlint'))(
      'rpmlint reports only the tags explained in docs/operations.md',
      async () => {
        const r = await exec(['rpmlint', rpm], { timeoutMs: 120_000, allowFailure: true });
        const tags = new Set([...r.stdout.matchAll(/^anycast-healthchecker\.\w+: [EW]: (\S+)/gm)].map((m) => m[1]));
        const explained = readFileSync(join(dirname(new URL(import.meta.url).pathname), '..', '..', 'docs', 'operations.md'), 'utf8');
        for (const tag of tags) expect(explained, `rpmlint tag ${tag} is not explained in docs/operations.md`).toContain(`\`${tag}\``);
        expect(tags).not.toContain('no-url-tag');
        expect(tags).not.toContain('description-line-too-long');
      },
      120_000,
    );

    describe('installed with rpm --root into an empty root', () => {
      let root = '';
      const rpmRoot = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
        exec(['rpm', '--root', root, ...args], { timeoutMs: 60_000 });
      const UID = 991;
      const GID = 992;
      beforeAll(async () => {
        root = mkdtempSync(join(tmpdir(), 'ahc-rpmroot-'));
        // the user the %pre scriptlet would make (systemd-sysusers or useradd)
        mkdirSync(join(root, 'etc'));
        writeFileSync(
          join(root, 'etc', 'passwd'),
          `root:x:0:0:root:/root:/bin/sh\nhealthchecker:x:${UID}:${GID}::/var/lib/anycast-healthchecker:/sbin/nologin\n`,
        );
        writeFileSync(join(root, 'etc', 'group'), `root:x:0:\nhealthchecker:x:${GID}:\nbird:x:993:healthchecker\n`);
        await rpmRoot('--initdb');
      });
      afterAll(() => {
        if (root !== '') rmSync(root, { recursive: true, force: true });
      });

      it('installs the previous version: files, owners and modes as listed; rpm -V is clean', async () => {
        await rpmRoot('-i', '--nodeps', '--noscripts', previous);
        expect((await rpmRoot('-q', '--qf', '%{VERSION}-%{RELEASE}', 'anycast-healthchecker')).stdout).toBe('0.0.9-1');
        const mode = (p: string): string => (statSync(join(root, p)).mode & 0o7777).toString(8);
        const owner = (p: string): string => `${statSync(join(root, p)).uid}:${statSync(join(root, p)).gid}`;
        expect([mode('usr/lib/anycast-healthchecker/node'), owner('usr/lib/anycast-healthchecker/node')]).toEqual(['755', '0:0']);
        expect([mode('usr/lib/anycast-healthchecker/ahc-spawn'), owner('usr/lib/anycast-healthchecker/ahc-spawn')]).toEqual(['755', '0:0']);
        expect([mode('usr/bin/anycast-healthchecker'), owner('usr/bin/anycast-healthchecker')]).toEqual(['755', '0:0']);
        expect([mode('etc/anycast-healthchecker.conf'), owner('etc/anycast-healthchecker.conf')]).toEqual(['644', '0:0']);
        expect([mode('var/lib/anycast-healthchecker'), owner('var/lib/anycast-healthchecker')]).toEqual(['755', `${UID}:${GID}`]);
        expect([mode('var/lib/anycast-healthchecker/6'), owner('var/lib/anycast-healthchecker/6')]).toEqual(['755', `${UID}:${GID}`]);
        expect([mode('var/log/anycast-healthchecker'), owner('var/log/anycast-healthchecker')]).toEqual(['750', `${UID}:${GID}`]);
        expect(mode('usr/lib64/nagios/plugins/check_anycast_healthchecker')).toBe('755');
        expect(existsSync(join(root, 'run', 'anycast-healthchecker'))).toBe(false); // %ghost: made by tmpfiles.d at boot
        expect((await rpmRoot('-qc', 'anycast-healthchecker')).stdout.trim()).toBe('/etc/anycast-healthchecker.conf');
        const verify = await exec(['rpm', '--root', root, '-V', '--nodeps', 'anycast-healthchecker'], {
          allowFailure: true,
          timeoutMs: 60_000,
        });
        expect(verify.stdout.split('\n').filter((l) => l !== '' && !l.includes('/run/anycast-healthchecker'))).toEqual([]);
      });

      it('upgrade keeps a changed %config(noreplace) file (no .rpmnew: the shipped one did not change)', async () => {
        const conf = join(root, 'etc', 'anycast-healthchecker.conf');
        writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^loglevel = info$/m, 'loglevel = debug'));
        await rpmRoot('-U', '--nodeps', '--noscripts', rpm);
        expect((await rpmRoot('-q', '--qf', '%{VERSION}-%{RELEASE}', 'anycast-healthchecker')).stdout).toBe(
          `${VERSION.replaceAll('-', '~')}-1`,
        );
        expect(readFileSync(conf, 'utf8')).toMatch(/^loglevel = debug$/m);
        expect(existsSync(`${conf}.rpmnew`)).toBe(false);
        expect(existsSync(join(root, 'usr/lib/anycast-healthchecker/node'))).toBe(true);
      });

      it('erase removes the files and keeps the changed configuration as .rpmsave', async () => {
        await rpmRoot('-e', '--nodeps', '--noscripts', 'anycast-healthchecker');
        expect(existsSync(join(root, 'usr/lib/anycast-healthchecker'))).toBe(false);
        expect(existsSync(join(root, 'usr/bin/anycast-healthchecker'))).toBe(false);
        expect(readFileSync(join(root, 'etc', 'anycast-healthchecker.conf.rpmsave'), 'utf8')).toMatch(/^loglevel = debug$/m);
      });
    });
  },
);
