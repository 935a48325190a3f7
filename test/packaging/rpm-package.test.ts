// The .rpm built by contrib/packaging/build-packages.mjs, inspected with rpm (it is not
// installed: this tier runs on Debian). File list and attributes, configuration files,
// scriptlets and dependencies.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '../helpers/exec.js';
import { VERSION, buildPackage, packagingSkipReason } from './packaging-env.js';

const skipReason = packagingSkipReason({ tools: ['rpmbuild', 'rpm'] });
if (skipReason !== null) console.warn(`skipping the .rpm tests: ${skipReason}`);

describe.skipIf(skipReason !== null)(
  `the .rpm package${skipReason === null ? '' : ` (skipped: ${skipReason}; Debian: apt-get install rpm)`}`,
  () => {
    let rpm = '';
    const query = async (...args: string[]): Promise<string> => (await exec(['rpm', '-qp', ...args, rpm], { timeoutMs: 20_000 })).stdout;

    beforeAll(async () => {
      rpm = await buildPackage('rpm');
    }, 60_000);
    afterAll(() => {
      if (rpm !== '') rmSync(dirname(rpm), { recursive: true, force: true });
    });

    it("is a noarch package of the program's version", async () => {
      expect(await query('--qf', '%{NAME} %{VERSION} %{ARCH}')).toBe(`anycast-healthchecker ${VERSION.replaceAll('-', '~')} noarch`);
    });

    it('lists the program, wrapper, unit, sysusers/tmpfiles entries, configuration, docs, man page and Nagios plugin (rpm -qlp)', async () => {
      const files = (await exec(['rpm', '-qlp', rpm])).stdout.trim().split('\n');
      for (const path of [
        '/usr/bin/anycast-healthchecker',
        '/usr/lib/anycast-healthchecker/main.mjs',
        '/usr/lib/anycast-healthchecker/check-worker.mjs',
        '/usr/lib/anycast-healthchecker/package.json',
        '/etc/anycast-healthchecker.conf',
        '/etc/anycast-healthchecker.d',
        '/usr/lib/systemd/system/anycast-healthchecker.service',
        '/usr/lib/sysusers.d/anycast-healthchecker.conf',
        '/usr/lib/tmpfiles.d/anycast-healthchecker.conf',
        '/var/lib/anycast-healthchecker',
        '/var/lib/anycast-healthchecker/6',
        '/var/log/anycast-healthchecker',
        '/run/anycast-healthchecker',
        '/usr/lib/nagios/plugins/check_anycast_healthchecker',
        '/usr/share/man/man8/anycast-healthchecker.8.gz',
        '/usr/share/doc/anycast-healthchecker/operations.md',
        '/usr/share/doc/anycast-healthchecker/examples/anycast-healthchecker.d/foo.example.com.conf',
      ])
        expect(files, path).toContain(path);
      // Nothing under /etc/init.d on RPM systems (they boot with systemd), no source maps, no node_modules.
      expect(files.filter((f) => f.startsWith('/etc/init.d') || f.endsWith('.map') || f.includes('node_modules'))).toEqual([]);
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

    it('requires Node.js >= 20.19 and only recommends BIRD (rpm -qpR)', async () => {
      const requires = (await query('-R'))
        .trim()
        .split('\n')
        .map((l) => l.trim());
      expect(requires).toContain('nodejs >= 1:20.19');
      expect(requires.filter((r) => /^bird/.test(r))).toEqual([]);
      expect((await query('--recommends')).trim()).toBe('(bird or bird2)');
    });
  },
);
