import { describe, expect, it } from 'vitest';
import { findOption, getValue, parseIni, sectionValues } from '../src/index';
import { iniErrorOf } from './helpers';

const FILE = '/etc/anycast-healthchecker.d/foo.conf';

describe('getValue', () => {
  const doc = parseIni('[DEFAULT]\ninterface = lo\ncheck_rise = 2\n[foo]\nCheck_Rise = 3\n', FILE);

  it('finds an option case-insensitively', () => {
    expect(getValue(doc, 'foo', 'CHECK_RISE')).toBe('3');
  });

  it('falls back to DEFAULT', () => {
    expect(getValue(doc, 'foo', 'interface')).toBe('lo');
  });

  it('reads DEFAULT itself under the name "DEFAULT"', () => {
    expect(getValue(doc, 'DEFAULT', 'check_rise')).toBe('2');
  });

  it('returns undefined for a missing option or section', () => {
    expect(getValue(doc, 'foo', 'nope')).toBeUndefined();
    expect(getValue(doc, 'bar', 'interface')).toBeUndefined();
  });
});

describe('sectionValues', () => {
  const doc = parseIni('[DEFAULT]\nz = 1\nb = 2\n[s]\na = 3\nz = 4\n', FILE);

  it("lists the section's own options first, then the DEFAULT options it does not override", () => {
    expect(sectionValues(doc, 's')).toEqual([
      ['a', '3'],
      ['z', '4'],
      ['b', '2'],
    ]);
  });

  it('lists the defaults for "DEFAULT"', () => {
    expect(sectionValues(doc, 'DEFAULT')).toEqual([
      ['z', '1'],
      ['b', '2'],
    ]);
  });

  it('is empty for a section that does not exist', () => {
    expect(sectionValues(doc, 'missing')).toEqual([]);
  });

  it('returns interpolated values', () => {
    const withRefs = parseIni('[DEFAULT]\nhost = 10.0.0.1\n[s]\nurl = http://%(host)s/\n', FILE);
    expect(sectionValues(withRefs, 's')).toEqual([
      ['url', 'http://10.0.0.1/'],
      ['host', '10.0.0.1'],
    ]);
  });
});

describe('findOption', () => {
  const doc = parseIni('[DEFAULT]\ninterface = lo\n[foo]\nip_prefix = 10.0.0.1\n', FILE);

  it("returns the section's own raw option with its location", () => {
    expect(findOption(doc, 'foo', 'IP_PREFIX')).toEqual({ name: 'ip_prefix', value: '10.0.0.1', file: FILE, line: 4 });
  });

  it('falls back to the DEFAULT option', () => {
    expect(findOption(doc, 'foo', 'interface')?.line).toBe(2);
  });

  it('returns undefined for a missing section', () => {
    expect(findOption(doc, 'bar', 'interface')).toBeUndefined();
  });

  it('does not interpolate', () => {
    expect(findOption(parseIni('[s]\nk = 50%%\n', FILE), 's', 'k')?.value).toBe('50%%');
  });
});

describe('interpolation', () => {
  it('turns "%%" into "%"', () => {
    const doc = parseIni('[s]\ncheck_cmd = curl http://h/?q=%%20x\n', FILE);
    expect(getValue(doc, 's', 'check_cmd')).toBe('curl http://h/?q=%20x');
  });

  it('expands %(name)s from the same section, then DEFAULT, with the name lower-cased', () => {
    const doc = parseIni('[DEFAULT]\nport = 80\nhost = default\n[s]\nhost = web\nurl = %(HOST)s:%(port)s\n', FILE);
    expect(getValue(doc, 's', 'url')).toBe('web:80');
  });

  it('expands references in DEFAULT values from the reading section', () => {
    const doc = parseIni('[DEFAULT]\nurl = http://%(host)s/\n[a]\nhost = a.example\n[b]\nhost = b.example\n', FILE);
    expect(getValue(doc, 'a', 'url')).toBe('http://a.example/');
    expect(getValue(doc, 'b', 'url')).toBe('http://b.example/');
  });

  it('expands references recursively', () => {
    const doc = parseIni('[s]\na = %(b)s!\nb = <%(c)s>\nc = 100%%\n', FILE);
    expect(getValue(doc, 's', 'a')).toBe('<100%>!');
  });

  it('allows nesting ten levels deep', () => {
    const chain = Array.from({ length: 9 }, (_, i) => `a${i} = %(a${i + 1})s`).join('\n');
    expect(getValue(parseIni(`[s]\n${chain}\na9 = %%\n`, FILE), 's', 'a0')).toBe('%');
  });

  it('rejects a lone "%" and names file, line, section and option', () => {
    const error = iniErrorOf(() => getValue(parseIni('[foo]\n\ncheck_cmd = test 50% done\n', FILE), 'foo', 'check_cmd'));
    expect(error).toMatchObject({
      code: 'AHC_INI_INTERPOLATION_SYNTAX',
      file: FILE,
      line: 3,
      section: 'foo',
      option: 'check_cmd',
    });
    expect(error.message).toBe(`${FILE}:3: option 'check_cmd' in section [foo] has a lone '%' near '% done': write '%%' for a literal '%'`);
  });

  it('rejects a "%" at the end of a value', () => {
    expect(iniErrorOf(() => getValue(parseIni('[s]\nk = 50%\n', FILE), 's', 'k')).code).toBe('AHC_INI_INTERPOLATION_SYNTAX');
  });

  it('rejects "%(" without a closing ")s"', () => {
    for (const value of ['%(host', '%(host)d', '%()s']) {
      const error = iniErrorOf(() => getValue(parseIni(`[s]\nk = ${value}\n`, FILE), 's', 'k'));
      expect(error.code).toBe('AHC_INI_INTERPOLATION_SYNTAX');
      expect(error.message).toContain('unfinished reference');
    }
  });

  it('rejects a reference to an undefined option', () => {
    const error = iniErrorOf(() => getValue(parseIni('[foo]\nurl = http://%(hots)s/\n', FILE), 'foo', 'url'));
    expect(error).toMatchObject({ code: 'AHC_INI_INTERPOLATION_MISSING', section: 'foo', option: 'url', line: 2 });
    expect(error.message).toBe(
      `${FILE}:2: option 'url' in section [foo] refers to '%(hots)s', but there is no option 'hots' in section [foo] or [DEFAULT]`,
    );
  });

  it('points at the referenced option when the bad "%" is there', () => {
    const doc = parseIni('[DEFAULT]\nsuffix = 5%\n[foo]\ncmd = x %(suffix)s\n', FILE);
    const error = iniErrorOf(() => getValue(doc, 'foo', 'cmd'));
    expect(error).toMatchObject({ code: 'AHC_INI_INTERPOLATION_SYNTAX', line: 2, section: 'foo', option: 'cmd' });
    expect(error.message).toContain(`${FILE}:2: option 'suffix' in section [DEFAULT]`);
    expect(error.message).toContain("(while expanding option 'cmd' in section [foo])");
  });

  it('rejects a reference loop and names the loop', () => {
    const error = iniErrorOf(() => getValue(parseIni('[foo]\na = %(b)s\nb = %(a)s\n', FILE), 'foo', 'a'));
    expect(error).toMatchObject({ code: 'AHC_INI_INTERPOLATION_DEPTH', section: 'foo', option: 'a', line: 2 });
    expect(error.message).toBe(`${FILE}:2: option 'a' in section [foo] contains a reference loop: a -> b -> a`);
  });

  it('rejects nesting eleven levels deep, even without a loop', () => {
    const chain = Array.from({ length: 10 }, (_, i) => `a${i} = %(a${i + 1})s`).join('\n');
    const doc = parseIni(`[s]\n${chain}\na10 = %%\n`, FILE);
    const error = iniErrorOf(() => getValue(doc, 's', 'a0'));
    expect(error.code).toBe('AHC_INI_INTERPOLATION_DEPTH');
    expect(error.message).toContain('deeper than 10 levels (a0 -> a1 -> a2 -> a3 -> a4 -> a5 -> a6 -> a7 -> a8 -> a9 -> a10)');
  });

  it('reports errors only for the option read, as Python does lazily', () => {
    const doc = parseIni('[s]\nbad = 5%\ngood = ok\n', FILE);
    expect(getValue(doc, 's', 'good')).toBe('ok');
    expect(iniErrorOf(() => sectionValues(doc, 's')).option).toBe('bad');
  });
});
