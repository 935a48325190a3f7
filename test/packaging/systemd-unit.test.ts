// The service files as shipped: the systemd unit passes `systemd-analyze verify` and rates 2.0 or
// better in `systemd-analyze security`, the sysusers.d and tmpfiles.d entries produce the user and
// directories the daemon needs, the SysV script is valid sh, the man page renders, and the
// Grafana dashboard uses the metric names of the compatibility contract. Nothing is installed.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exec } from '../helpers/exec.js';
import {
  INIT_SCRIPT,
  MAN_PAGE,
  SYSUSERS_FILE,
  TMPFILES_FILE,
  UNIT_FILE,
  exposureOf,
  hasTool,
  packagingSkipReason,
  repoRoot,
} from './packaging-env.js';

const skipReason = packagingSkipReason({ tools: ['systemd-analyze'] });
if (skipReason !== null) console.warn(`skipping the systemd unit tests: ${skipReason}`);

/** `Key=value` lines of the [Service] and [Unit] sections, in order (comments dropped). */
function directives(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('['))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

describe.skipIf(skipReason !== null)(`the systemd unit and service files${skipReason === null ? '' : ` (skipped: ${skipReason})`}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'ahc-unit-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('passes systemd-analyze verify (program path and man page provided by stand-ins)', async () => {
    // verify insists that ExecStart's program exists and that man: pages in Documentation=
    // resolve; point the program at an executable stand-in and MANPATH at the man page source.
    const stub = join(work, 'anycast-healthchecker');
    writeFileSync(stub, '#!/bin/sh\nexit 0\n');
    chmodSync(stub, 0o755);
    mkdirSync(join(work, 'man', 'man8'), { recursive: true });
    copyFileSync(MAN_PAGE, join(work, 'man', 'man8', 'anycast-healthchecker.8'));
    const unit = join(work, 'anycast-healthchecker.service');
    writeFileSync(unit, readFileSync(UNIT_FILE, 'utf8').replaceAll('/usr/bin/anycast-healthchecker', stub));
    const r = await exec(['env', `MANPATH=${join(work, 'man')}`, 'systemd-analyze', 'verify', unit], {
      allowFailure: true,
      timeoutMs: 20_000,
    });
    expect(`${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('anycast-healthchecker'))).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('rates an exposure of 2.0 or lower in systemd-analyze security --offline=true', async () => {
    const r = await exec(['systemd-analyze', 'security', '--offline=true', '--no-pager', UNIT_FILE], {
      allowFailure: true,
      timeoutMs: 20_000,
    });
    const exposure = exposureOf(`${r.stdout}${r.stderr}`);
    console.info(`systemd-analyze security --offline=true: exposure ${exposure}`);
    expect(exposure).toBeLessThanOrEqual(2.0);
  });

  it('runs the checked daemon as healthchecker with its directories, reload over the control socket and the documented sandbox', () => {
    const d = directives(readFileSync(UNIT_FILE, 'utf8'));
    const values = (key: string): string[] => d.filter(([k]) => k === key).map(([, v]) => v);
    const cmd = '/usr/bin/anycast-healthchecker';
    const args = '-f /etc/anycast-healthchecker.conf -d /etc/anycast-healthchecker.d';
    expect(values('User')).toEqual(['healthchecker']);
    expect(values('ExecStart')).toEqual([`${cmd} ${args}`]);
    expect(values('ExecStartPre')).toEqual([`${cmd} -c ${args}`]);
    expect(values('ExecReload')).toEqual([`${cmd} reload ${args}`]);
    expect(values('RuntimeDirectory')).toEqual(['anycast-healthchecker']);
    expect(values('StateDirectory')).toEqual(['anycast-healthchecker anycast-healthchecker/6']);
    expect(values('Restart')).toEqual(['on-failure']);
    expect(values('UMask')).toEqual(['0027']);
    expect(values('CapabilityBoundingSet')).toEqual(['']);
    expect(values('AmbientCapabilities')).toEqual(['']);
    expect(values('RestrictAddressFamilies')).toEqual(['AF_UNIX AF_INET AF_INET6 AF_NETLINK']);
    expect(values('SystemCallFilter')).toEqual(['@system-service', '~@privileged @resources', 'chown fchown fchownat lchown', 'capset']);
    for (const flag of [
      'NoNewPrivileges',
      'PrivateTmp',
      'PrivateDevices',
      'ProtectHome',
      'ProtectKernelTunables',
      'ProtectKernelModules',
      'ProtectKernelLogs',
      'ProtectControlGroups',
      'ProtectClock',
      'ProtectHostname',
      'RestrictNamespaces',
      'RestrictRealtime',
      'RestrictSUIDSGID',
      'LockPersonality',
    ]) {
      expect(values(flag), flag).toEqual(['yes']);
    }
    expect(values('ProtectSystem')).toEqual(['strict']);
    // Node's JIT needs W+X memory: the unit must not set it (it documents why in a comment).
    expect(values('MemoryDenyWriteExecute')).toEqual([]);
  });

  it.skipIf(!hasTool('systemd-sysusers'))('sysusers.d creates the user healthchecker and puts it in the group bird', async () => {
    const r = await exec(['systemd-sysusers', '--dry-run', SYSUSERS_FILE], { allowFailure: true });
    expect(r.code).toBe(0);
    const lines = readFileSync(SYSUSERS_FILE, 'utf8')
      .split('\n')
      .filter((l) => /^[ugm] /.test(l));
    expect(lines[0]).toMatch(/^u healthchecker - "[^"]+" \/var\/lib\/anycast-healthchecker \/usr\/sbin\/nologin$/);
    expect(lines).toContain('m healthchecker bird');
  });

  it.skipIf(!hasTool('systemd-tmpfiles') || process.getuid?.() !== 0)(
    'tmpfiles.d creates the runtime, state and log directories owned by healthchecker',
    async () => {
      const root = join(work, 'root');
      mkdirSync(join(root, 'etc'), { recursive: true });
      writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nhealthchecker:x:4242:4242::/:/usr/sbin/nologin\n');
      writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nhealthchecker:x:4242:\n');
      await exec(['systemd-tmpfiles', `--root=${root}`, '--create', TMPFILES_FILE]);
      const expected: Array<[string, number]> = [
        ['run/anycast-healthchecker', 0o755],
        ['var/lib/anycast-healthchecker', 0o755],
        ['var/lib/anycast-healthchecker/6', 0o755],
        ['var/lib/anycast-healthchecker/state', 0o750],
        ['var/log/anycast-healthchecker', 0o750],
      ];
      for (const [dir, mode] of expected) {
        const st = statSync(join(root, dir));
        expect({ dir, dirMode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid }).toEqual({
          dir,
          dirMode: mode.toString(8),
          uid: 4242,
          gid: 4242,
        });
      }
    },
  );

  it('the SysV init script is valid sh with LSB headers, runs as healthchecker and reloads with HUP', async () => {
    await exec(['sh', '-n', INIT_SCRIPT]);
    const text = readFileSync(INIT_SCRIPT, 'utf8');
    expect(text).toMatch(/### BEGIN INIT INFO[\s\S]*# Provides: +anycast-healthchecker[\s\S]*### END INIT INFO/);
    expect(text).toContain('PIDFILE=/run/anycast-healthchecker/anycast-healthchecker.pid');
    expect(text).toMatch(/start-stop-daemon --start[^\n]*\\\n[^\n]*--chuid "\$DAEMON_USER"/);
    expect(text).toMatch(/DAEMON_USER=healthchecker/);
    expect(text).toMatch(/--signal HUP/);
    expect(statSync(INIT_SCRIPT).mode & 0o111).not.toBe(0);
  });

  it.skipIf(!hasTool('man'))('the man page renders with man -l, without warnings', async () => {
    const r = await exec(['env', 'MANWIDTH=80', 'man', '--warnings', '-l', MAN_PAGE], { allowFailure: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const heading of ['NAME', 'SYNOPSIS', 'OPTIONS', 'SIGNALS', 'FILES', 'EXIT STATUS']) expect(r.stdout).toContain(heading);
  });

  it("the Grafana dashboard is valid JSON and uses the contract's metric names", () => {
    const text = readFileSync(join(repoRoot, 'contrib', 'grafana', 'anycast-healthchecker.json'), 'utf8');
    const dashboard = JSON.parse(text) as { panels: unknown[]; title: string };
    expect(dashboard.panels.length).toBeGreaterThan(5);
    for (const metric of [
      'anycast_healthchecker_service_state{',
      'anycast_healthchecker_service_check_duration_milliseconds{',
      'anycast_healthchecker_service_check_ip_assignment{',
      'anycast_healthchecker_service_check_timeout_total{',
      'anycast_healthchecker_uptime',
      'anycast_healthchecker_state{',
      'anycast_healthchecker_version_info{',
      'anycast_healthchecker_service{',
      'anycast_healthchecker_worker_restarts_total{',
      'anycast_healthchecker_reconfigure_runs_total{',
      'anycast_healthchecker_reconfigure_failures_total{',
      'anycast_healthchecker_prefixes_desired{',
      'anycast_healthchecker_prefixes_applied{',
      'anycast_healthchecker_service_advertised{',
    ])
      expect(text, metric).toContain(metric);
    // 'healthy' must mean advertised: service_state = 0 alone counted a withdrawn service whose last check passed
    expect(text).not.toContain('"Services healthy"');
  });
});
