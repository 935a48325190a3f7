import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintConfig } from '../src/lint';

function files(daemon: string, services: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'ahc-lint-'));
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'daemon.conf'), `[daemon]\npidfile = ${dir}/pid\nbird_conf = ${dir}/p.conf\n${daemon}`);
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
