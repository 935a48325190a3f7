import { describe, expect, it } from 'vitest';
import { planStartupRepair, planUpdate } from '../src/index';
import type { PrefixFileContent } from '../src/index';

const VARIABLE = 'ACAST_PS_ADVERTISE';
const DUMMY = '10.189.200.255/32';

function file(variable: string | null, ...prefixes: string[]): PrefixFileContent {
  return { variable, prefixes };
}

function kinds(findings: ReadonlyArray<{ kind: string }>): string[] {
  return findings.map((finding) => finding.kind);
}

describe('planStartupRepair', () => {
  const configured = new Set(['10.0.0.1/32', '10.0.0.2/32']);
  const plan = (current: PrefixFileContent | null, purge = false) =>
    planStartupRepair({ file: '/var/lib/ahc/p.conf', current, variable: VARIABLE, dummy: DUMMY, configured, purge });

  it('leaves a correct file alone and keeps prefixes that have a check', () => {
    expect(plan(file(VARIABLE, DUMMY, '10.0.0.2/32'))).toEqual({
      prefixes: [DUMMY, '10.0.0.2/32'],
      rewrite: false,
      findings: [],
    });
  });

  it('creates a missing or empty file with the variable and the dummy only', () => {
    const result = plan(null);
    expect(result.prefixes).toEqual([DUMMY]);
    expect(result.rewrite).toBe(true);
    expect(kinds(result.findings)).toEqual(['missing-variable', 'missing-dummy']);
  });

  it('adds a missing variable name', () => {
    const result = plan(file(null, DUMMY, '10.0.0.1/32'));
    expect(result).toMatchObject({ prefixes: [DUMMY, '10.0.0.1/32'], rewrite: true });
    expect(kinds(result.findings)).toEqual(['missing-variable']);
  });

  it('corrects a wrong variable name and says which one it found', () => {
    const result = plan(file('OLD_NAME', DUMMY));
    expect(result.rewrite).toBe(true);
    expect(result.findings).toEqual([{ kind: 'wrong-variable', detail: expect.stringContaining('OLD_NAME') }]);
  });

  it('adds a missing dummy in front', () => {
    const result = plan(file(VARIABLE, '10.0.0.1/32'));
    expect(result).toMatchObject({ prefixes: [DUMMY, '10.0.0.1/32'], rewrite: true });
    expect(kinds(result.findings)).toEqual(['missing-dummy']);
  });

  it('keeps and reports prefixes without a check when purge is off, without rewriting', () => {
    const result = plan(file(VARIABLE, DUMMY, '10.9.9.9/32', '10.0.0.1/32'));
    expect(result).toMatchObject({ prefixes: [DUMMY, '10.9.9.9/32', '10.0.0.1/32'], rewrite: false });
    expect(result.findings).toEqual([
      {
        kind: 'unknown-prefixes-kept',
        prefixes: ['10.9.9.9/32'],
        detail: 'found IP prefixes 10.9.9.9/32 in /var/lib/ahc/p.conf without a service check configured',
      },
    ]);
  });

  it('removes prefixes without a check when purge is on', () => {
    const result = plan(file(VARIABLE, DUMMY, '10.9.9.9/32', '10.0.0.1/32', '2001:db8::5/128'), true);
    expect(result).toMatchObject({ prefixes: [DUMMY, '10.0.0.1/32'], rewrite: true });
    expect(result.findings).toEqual([
      {
        kind: 'unknown-prefixes-removed',
        prefixes: ['10.9.9.9/32', '2001:db8::5/128'],
        detail:
          "removing IP prefix(es) 10.9.9.9/32,2001:db8::5/128 from /var/lib/ahc/p.conf because they don't have a service check configured",
      },
    ]);
  });

  it('reports every problem of a badly edited file at once', () => {
    const result = plan(file('WRONG', '10.9.9.9/32'), true);
    expect(result).toMatchObject({ prefixes: [DUMMY], rewrite: true });
    expect(kinds(result.findings)).toEqual(['wrong-variable', 'missing-dummy', 'unknown-prefixes-removed']);
  });

  it('does not reorder a file whose dummy is not first', () => {
    const result = plan(file(VARIABLE, '10.0.0.1/32', DUMMY));
    expect(result).toEqual({ prefixes: [DUMMY, '10.0.0.1/32'], rewrite: false, findings: [] });
  });
});

describe('planUpdate', () => {
  const plan = (current: PrefixFileContent | null, desired: string[], configured?: string[]) =>
    planUpdate({
      file: '/var/lib/ahc/p.conf',
      current,
      variable: VARIABLE,
      dummy: DUMMY,
      desired: new Set(desired),
      ...(configured === undefined ? {} : { configured: new Set(configured) }),
    });

  it('does not rewrite when the file already holds exactly the dummy and the desired prefixes', () => {
    expect(plan(file(VARIABLE, DUMMY, '10.0.0.2/32', '10.0.0.1/32'), ['10.0.0.1/32', '10.0.0.2/32'])).toEqual({
      prefixes: [DUMMY, '10.0.0.2/32', '10.0.0.1/32'],
      rewrite: false,
      findings: [],
    });
  });

  it('keeps the order of prefixes that stay and appends new ones in address order', () => {
    const result = plan(file(VARIABLE, DUMMY, '10.0.0.9/32', '10.0.0.3/32'), ['10.0.0.3/32', '10.0.0.10/32', '10.0.0.9/32', '10.0.0.2/32']);
    expect(result).toMatchObject({
      prefixes: [DUMMY, '10.0.0.9/32', '10.0.0.3/32', '10.0.0.2/32', '10.0.0.10/32'],
      rewrite: true,
    });
  });

  it('removes withdrawn prefixes and prefixes nobody checks', () => {
    const result = plan(file(VARIABLE, DUMMY, '10.0.0.1/32', '10.9.9.9/32'), []);
    expect(result).toMatchObject({ prefixes: [DUMMY], rewrite: true, findings: [] });
  });

  it('reports removed prefixes without a check when told which prefixes have one', () => {
    const result = plan(file(VARIABLE, DUMMY, '10.0.0.1/32', '10.9.9.9/32'), [], ['10.0.0.1/32']);
    expect(result.findings).toEqual([
      {
        kind: 'unknown-prefixes-removed',
        prefixes: ['10.9.9.9/32'],
        detail:
          "found 10.9.9.9/32 IP prefixes in Bird configuration but we aren't configured to run health checks on them. " +
          'Either someone modified the configuration manually or something went horrible wrong. We remove them from Bird configuration',
      },
    ]);
  });

  it('repairs a deleted file', () => {
    const result = plan(null, ['10.0.0.1/32']);
    expect(result).toMatchObject({ prefixes: [DUMMY, '10.0.0.1/32'], rewrite: true });
    expect(kinds(result.findings)).toEqual(['missing-variable', 'missing-dummy']);
  });

  it('repairs a hand-edited file: wrong variable, dummy moved', () => {
    const result = plan(file('OTHER', '10.0.0.1/32', DUMMY), ['10.0.0.1/32']);
    expect(result).toMatchObject({ prefixes: [DUMMY, '10.0.0.1/32'], rewrite: true });
    expect(kinds(result.findings)).toEqual(['wrong-variable']);
  });

  it('rewrites when only the order differs from dummy-first', () => {
    expect(plan(file(VARIABLE, '10.0.0.1/32', DUMMY), ['10.0.0.1/32']).rewrite).toBe(true);
  });

  it('never lists the dummy twice even when it is desired', () => {
    expect(plan(file(VARIABLE, DUMMY), [DUMMY]).prefixes).toEqual([DUMMY]);
    expect(plan(file(VARIABLE, DUMMY), [DUMMY]).rewrite).toBe(false);
  });
});
