import { describe, expect, it } from 'vitest';
import { getValue, iniFromObject, mergeIni, parseIni } from '../src/index';
import { iniErrorOf, rawValues } from './helpers';

describe('mergeIni', () => {
  const daemon = parseIni('[DEFAULT]\ncheck_rise = 2\ninterface = lo\n[daemon]\nloglevel = debug\n', '/etc/a.conf');
  const service = parseIni(
    '[DEFAULT]\ninterface = eth0\n[daemon]\nloglevel = info\npidfile = /p\n[foo]\ncheck_cmd = true\n',
    '/etc/b.conf',
  );
  const merged = mergeIni(daemon, service);

  it('lets the later file override an option, keeping its position', () => {
    expect(rawValues(merged, 'DEFAULT')).toEqual([
      ['check_rise', '2'],
      ['interface', 'eth0'],
    ]);
    expect(rawValues(merged, 'daemon')).toEqual([
      ['loglevel', 'info'],
      ['pidfile', '/p'],
    ]);
  });

  it("records the overriding option's file and line", () => {
    expect(merged.defaults.get('interface')).toMatchObject({ file: '/etc/b.conf', line: 2 });
  });

  it('keeps where a section was first seen', () => {
    expect(merged.sections.get('daemon')).toMatchObject({ file: '/etc/a.conf', line: 4 });
  });

  it('appends sections first seen in the later file', () => {
    expect([...merged.sections.keys()]).toEqual(['daemon', 'foo']);
  });

  it('allows a section to appear in several files', () => {
    const again = mergeIni(merged, parseIni('[foo]\ncheck_cmd = false\n', '/etc/c.conf'));
    expect(getValue(again, 'foo', 'check_cmd')).toBe('false');
  });

  it('does not change its inputs', () => {
    expect(rawValues(daemon, 'DEFAULT')).toEqual([
      ['check_rise', '2'],
      ['interface', 'lo'],
    ]);
  });

  it('resolves references against the merged document', () => {
    const base = parseIni('[s]\nurl = http://%(host)s/\nhost = a\n', '/a');
    expect(getValue(mergeIni(base, parseIni('[s]\nhost = b\n', '/b')), 's', 'url')).toBe('http://b/');
  });
});

describe('iniFromObject', () => {
  it('fills defaults from the "DEFAULT" key and sections from the others, in order', () => {
    const doc = iniFromObject({ DEFAULT: { Interface: 'lo' }, daemon: { ipv4: 'true', ipv6: 'false' } }, '<built-in>');
    expect(rawValues(doc, 'DEFAULT')).toEqual([['interface', 'lo']]);
    expect(rawValues(doc, 'daemon')).toEqual([
      ['ipv4', 'true'],
      ['ipv6', 'false'],
    ]);
    expect(doc.sections.get('daemon')).toMatchObject({ file: '<built-in>', line: 0 });
  });

  it('keeps values as given, without stripping', () => {
    expect(rawValues(iniFromObject({ s: { k: '  v  ' } }, '<dict>'), 's')).toEqual([['k', '  v  ']]);
  });

  it('rejects two keys that differ only in case', () => {
    const error = iniErrorOf(() => iniFromObject({ s: { Key: '1', key: '2' } }, '<dict>'));
    expect(error).toMatchObject({ code: 'AHC_INI_DUPLICATE_OPTION', section: 's', option: 'key', file: '<dict>' });
  });

  it('is overridden by files merged after it', () => {
    const defaults = iniFromObject({ DEFAULT: { check_rise: '2' } }, '<built-in>');
    expect(getValue(mergeIni(defaults, parseIni('[DEFAULT]\ncheck_rise = 5\n', '/f')), 'DEFAULT', 'check_rise')).toBe('5');
  });
});
