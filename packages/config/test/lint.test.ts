import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintConfig } from '../src/lint';

function files(daemon: string, services: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'ahc-lint-'));
  mkdirSync(join(dir, 'd'));
  // bird_reconfigure_cmd without sudo, as the package ships it (the built-in default has sudo: see below)
  const reconfigure = daemon.includes('bird_reconfigure_cmd') ? '' : 'bird_reconfigure_cmd = /usr/sbin/birdc configure\n';
  writeFileSync(join(dir, 'daemon.conf'), `[daemon]\npidfile = ${dir}/pid\nbird_conf = ${dir}/p.conf\n${reconfigure}${daemon}`);
  for (const [name, text] of Object.entries(services)) writeFileSync(join(dir, 'd', name), text);
  return { file: join(dir, 'daemon.conf'), dir: join(dir, 'd') };
}

describe('lint', () => {
  it('reports every problem at once with file:line, where -c stops at the first', () => {
    const r = lintConfig(
      files('', {
        'a.conf': '[a]\ncheck_cmd = /bin/true\nip_prefix = 10.0.0.1/24\n',
        'b.conf': '[b]\ncheck_cmd = /bin/true\nip_prefix = 10.0.0.2\ncheck_rise = 0\n',
      }),
    );
    expect(r.errors).toBe(2);
    expect(r.problems.map((p) => `${p.file?.split('/').pop()}:${p.line}`)).toEqual(['a.conf:3', 'b.conf:4']);
  });

  it('warns about sudo in commands (the packaged unit stops it), also when it is the built-in default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-lint-'));
    mkdirSync(join(dir, 'd'));
    writeFileSync(
      join(dir, 'daemon.conf'),
      `[daemon]\npidfile = ${dir}/pid\nbird_conf = ${dir}/p.conf\nipv6 = true\nbird6_conf = ${dir}/p6.conf\nbird6_reconfigure_cmd = /usr/bin/sudo /usr/sbin/birdc6 configure\n`,
    );
    writeFileSync(
      join(dir, 'd', 'a.conf'),
      '[a]\ncheck_cmd = sudo /bin/true\nip_prefix = 10.0.0.1\n[b]\ncheck_cmd = /bin/true\nip_prefix = 10.0.0.2\n',
    );
    const r = lintConfig({ file: join(dir, 'daemon.conf'), dir: join(dir, 'd') });
    const sudo = r.problems.filter((p) => p.code === 'AHC_LINT_SUDO_IN_SANDBOX');
    expect(sudo.map((p) => [p.section, p.option, p.file === undefined ? '<built-in>' : `${p.file.split('/').pop()}:${p.line}`])).toEqual([
      ['daemon', 'bird_reconfigure_cmd', '<built-in>'],
      ['daemon', 'bird6_reconfigure_cmd', 'daemon.conf:6'],
      ['a', 'check_cmd', 'a.conf:2'],
    ]);
    expect(sudo.every((p) => p.severity === 'warning')).toBe(true);
    expect(sudo[0]?.message).toMatch(
      /^\[daemon\] bird_reconfigure_cmd is not set, and its built-in default \(the Python daemon's\) = sudo \/usr\/sbin\/birdc configure: sudo cannot gain privileges under the packaged systemd unit .*use \/usr\/sbin\/birdc configure/,
    );
    expect(sudo[1]?.message).toMatch(/daemon\.conf:6: \[daemon\] bird6_reconfigure_cmd = \/usr\/bin\/sudo /);
    // no sudo: no warning
    const clean = lintConfig(files('', { 'a.conf': '[a]\ncheck_cmd = /bin/true\nip_prefix = 10.0.0.1\n' }));
    expect(clean.problems.filter((p) => p.code === 'AHC_LINT_SUDO_IN_SANDBOX')).toEqual([]);
  });

  it('warns about unknown options and suggests the likely one', () => {
    const r = lintConfig(files('loglevl = info\n', { 'a.conf': '[a]\ncheck_cmd = /bin/true\nip_prefix = 10.0.0.1\nchek_interval = 5\n' }));
    expect(r.errors).toBe(0);
    const msgs = r.problems.map((p) => p.message);
    expect(msgs.some((m) => /\[a\] chek_interval: unknown option, ignored; did you mean check_interval\?/.test(m))).toBe(true);
    expect(msgs.some((m) => /\[daemon\] loglevl: .*did you mean loglevel\?/.test(m))).toBe(true);
  });

  it('warns with file:line about a custom_bird_reconfigure_cmd program missing on this host, and accepts it', () => {
    const r = lintConfig(
      files('', { 'a.conf': '[a]\ncheck_cmd = /bin/true\nip_prefix = 10.0.0.1\ncustom_bird_reconfigure_cmd = /nonexistent/announce\n' }),
    );
    expect(r).toMatchObject({ errors: 0, warnings: 1 });
    const [w] = r.problems;
    expect(w).toMatchObject({
      severity: 'warning',
      code: 'AHC_CONFIG_RECONFIGURE_CMD_NOT_FOUND',
      line: 4,
      section: 'a',
      option: 'custom_bird_reconfigure_cmd',
    });
    expect(w?.message).toMatch(
      /\/a\.conf:4: \[a\] custom_bird_reconfigure_cmd = '\/nonexistent\/announce': \/nonexistent\/announce does not exist on this host/,
    );
  });

  it('reports a missing file as one error instead of throwing', () => {
    const r = lintConfig({ file: '/nonexistent/ahc.conf' });
    expect(r).toMatchObject({ errors: 1, warnings: 0 });
    expect(r.problems[0]?.code).toBe('AHC_CONFIG_MISSING_FILE');
  });
});
