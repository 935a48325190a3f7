import { describe, expect, it } from 'vitest';
import { parseIni } from '../src/index';
import { iniErrorOf, rawValues } from './helpers';

const FILE = '/etc/anycast-healthchecker.d/foo.conf';

describe('parseIni: options', () => {
  it('accepts both "=" and ":" as separators and strips name and value', () => {
    const doc = parseIni('[foo]\n  a = 1  \nb:2\nc :  3\n', FILE);
    expect(rawValues(doc, 'foo')).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
  });

  it('splits at the first "=" or ":", so the value may contain either', () => {
    const doc = parseIni('[foo]\nurl: http://h:80/?a=b\nk = v: w\n', FILE);
    expect(rawValues(doc, 'foo')).toEqual([
      ['url', 'http://h:80/?a=b'],
      ['k', 'v: w'],
    ]);
  });

  it('lower-cases option names but keeps the case of section names', () => {
    const doc = parseIni('[Foo]\nCheck_CMD = /bin/true\n', FILE);
    expect([...doc.sections.keys()]).toEqual(['Foo']);
    expect(rawValues(doc, 'Foo')).toEqual([['check_cmd', '/bin/true']]);
  });

  it('keeps spaces inside an option name', () => {
    expect(rawValues(parseIni('[s]\nmy  Key = v\n', FILE), 's')).toEqual([['my  key', 'v']]);
  });

  it('accepts an empty value', () => {
    expect(rawValues(parseIni('[s]\nempty =\nalso:\n', FILE), 's')).toEqual([
      ['empty', ''],
      ['also', ''],
    ]);
  });

  it('records file and 1-based line of each option and section', () => {
    const doc = parseIni('# header\n[foo]\n\nip_prefix = 10.0.0.1/32\n', FILE);
    const section = doc.sections.get('foo');
    expect(section).toMatchObject({ name: 'foo', file: FILE, line: 2 });
    expect(section?.options.get('ip_prefix')).toEqual({ name: 'ip_prefix', value: '10.0.0.1/32', file: FILE, line: 4 });
  });

  it('keeps options and sections in file order', () => {
    const doc = parseIni('[b]\nz=1\na=2\n[a]\nm=3\n', FILE);
    expect([...doc.sections.keys()]).toEqual(['b', 'a']);
    expect(rawValues(doc, 'b').map(([name]) => name)).toEqual(['z', 'a']);
  });
});

describe('parseIni: comments', () => {
  it('skips whole-line comments starting with "#" or ";", even when indented', () => {
    const doc = parseIni('# top\n; top\n[s]\n  # indented\n\t; tab\nk = v\n', FILE);
    expect(rawValues(doc, 's')).toEqual([['k', 'v']]);
  });

  it('keeps inline "#" and ";" as part of the value', () => {
    const doc = parseIni('[s]\nurl = http://h/#frag ; x\ncmd = a;b # c\n', FILE);
    expect(rawValues(doc, 's')).toEqual([
      ['url', 'http://h/#frag ; x'],
      ['cmd', 'a;b # c'],
    ]);
  });
});

describe('parseIni: multi-line values', () => {
  it('continues a value on lines indented more than the option line', () => {
    const doc = parseIni('[s]\ncmd = one\n  two\n\tthree\nnext = x\n', FILE);
    expect(rawValues(doc, 's')).toEqual([
      ['cmd', 'one\ntwo\nthree'],
      ['next', 'x'],
    ]);
  });

  it('measures indentation relative to the option line', () => {
    const doc = parseIni('[s]\n  a = 1\n    more\n  b = 2\n', FILE);
    expect(rawValues(doc, 's')).toEqual([
      ['a', '1\nmore'],
      ['b', '2'],
    ]);
  });

  it('keeps empty lines inside a value and drops trailing ones', () => {
    const doc = parseIni('[s]\na = 1\n\n  after blank\n\n\nb = 2\n\n', FILE);
    expect(rawValues(doc, 's')).toEqual([
      ['a', '1\n\nafter blank'],
      ['b', '2'],
    ]);
  });

  it('skips a comment line inside a multi-line value without ending it', () => {
    const doc = parseIni('[s]\na = 1\n# note\n  2\n  ; note\n  3\n', FILE);
    expect(rawValues(doc, 's')).toEqual([['a', '1\n2\n3']]);
  });

  it('starts the value with an empty line when the option line has no value', () => {
    expect(rawValues(parseIni('[s]\na =\n  x\n  y\n', FILE), 's')).toEqual([['a', '\nx\ny']]);
  });

  it('treats an indented section header after an option as a continuation line', () => {
    expect(rawValues(parseIni('[s]\na = 1\n  [t]\n', FILE), 's')).toEqual([['a', '1\n[t]']]);
  });

  it('does not continue across a section header', () => {
    const doc = parseIni('[s]\na = 1\n[t]\n  b = 2\n', FILE);
    expect(rawValues(doc, 's')).toEqual([['a', '1']]);
    expect(rawValues(doc, 't')).toEqual([['b', '2']]);
  });
});

describe('parseIni: section headers', () => {
  it('ignores text after the closing bracket', () => {
    expect([...parseIni('[foo] ; comment\n', FILE).sections.keys()]).toEqual(['foo']);
  });

  it('takes everything up to the last "]" as the name, spaces included', () => {
    expect([...parseIni('[a]b]\n[ c ]\n', FILE).sections.keys()]).toEqual(['a]b', ' c ']);
  });

  it('accepts an indented header', () => {
    expect([...parseIni('  [foo]\n  k = v\n', FILE).sections.keys()]).toEqual(['foo']);
  });

  it('keeps [DEFAULT] apart from the sections and allows it more than once', () => {
    const doc = parseIni('[DEFAULT]\na = 1\n[s]\nb = 2\n[DEFAULT]\nc = 3\n', FILE);
    expect([...doc.sections.keys()]).toEqual(['s']);
    expect(rawValues(doc, 'DEFAULT')).toEqual([
      ['a', '1'],
      ['c', '3'],
    ]);
  });

  it('treats [default] in another case as an ordinary section', () => {
    expect([...parseIni('[default]\n', FILE).sections.keys()]).toEqual(['default']);
  });
});

describe('parseIni: line endings and encoding', () => {
  it('accepts CRLF and lone CR line endings', () => {
    const doc = parseIni('[s]\r\na = 1\r\n  2\rb = 3\r\n', FILE);
    expect(rawValues(doc, 's')).toEqual([
      ['a', '1\n2'],
      ['b', '3'],
    ]);
  });

  it('ignores a UTF-8 byte order mark', () => {
    expect(rawValues(parseIni('\uFEFF[s]\nk = v\n', FILE), 's')).toEqual([['k', 'v']]);
  });

  it('strips what Python counts as whitespace, such as a form feed line', () => {
    const doc = parseIni('[s]\na = 1\n\f\n  2\n', FILE);
    expect(rawValues(doc, 's')).toEqual([['a', '1\n\n2']]);
  });

  it('accepts an empty file', () => {
    const doc = parseIni('', FILE);
    expect(doc.sections.size).toBe(0);
    expect(doc.defaults.size).toBe(0);
  });
});

describe('parseIni: errors', () => {
  it('rejects an option before the first section header', () => {
    const error = iniErrorOf(() => parseIni('# comment\ncheck_cmd = true\n[foo]\n', FILE));
    expect(error).toMatchObject({ code: 'AHC_INI_MISSING_SECTION_HEADER', file: FILE, line: 2 });
    expect(error.message).toBe(
      `${FILE}:2: 'check_cmd = true' comes before the first section header; every option must follow a [section] or [DEFAULT] line`,
    );
  });

  it('rejects "[]" before any section as a missing header', () => {
    expect(iniErrorOf(() => parseIni('[]\n', FILE)).code).toBe('AHC_INI_MISSING_SECTION_HEADER');
  });

  it('rejects the same section twice in one file, naming both lines', () => {
    const error = iniErrorOf(() => parseIni('[foo]\na = 1\n[bar]\n[foo]\n', FILE));
    expect(error).toMatchObject({ code: 'AHC_INI_DUPLICATE_SECTION', file: FILE, line: 4, section: 'foo' });
    expect(error.message).toBe(`${FILE}:4: section [foo] is already defined at line 1`);
  });

  it('rejects the same option twice in one section, whatever its case', () => {
    const error = iniErrorOf(() => parseIni('[foo]\ncheck_cmd = a\nx = 1\n\n\n\nCHECK_CMD: b\n', FILE));
    expect(error).toMatchObject({ code: 'AHC_INI_DUPLICATE_OPTION', line: 7, section: 'foo', option: 'check_cmd' });
    expect(error.message).toBe(`${FILE}:7: option 'check_cmd' in section [foo] is already defined at line 2`);
  });

  it('rejects the same DEFAULT option twice, even under two [DEFAULT] headers', () => {
    const error = iniErrorOf(() => parseIni('[DEFAULT]\na = 1\n[DEFAULT]\na = 2\n', FILE));
    expect(error).toMatchObject({ code: 'AHC_INI_DUPLICATE_OPTION', line: 4, section: 'DEFAULT', option: 'a' });
  });

  it('rejects a line that is neither option, header, comment nor continuation', () => {
    const error = iniErrorOf(() => parseIni('[foo]\njust some words\n', FILE));
    expect(error).toMatchObject({ code: 'AHC_INI_PARSE', file: FILE, line: 2, section: 'foo' });
    expect(error.message).toContain(`${FILE}:2: cannot parse 'just some words' in section [foo]`);
  });

  it('hints at indentation when an unparsable line follows an option', () => {
    const error = iniErrorOf(() => parseIni('[foo]\ncheck_cmd = curl\n--silent localhost\n', FILE));
    expect(error.message).toContain('indent this line');
  });

  it('rejects an option with an empty name', () => {
    const error = iniErrorOf(() => parseIni('[foo]\n= value\n', FILE));
    expect(error).toMatchObject({ code: 'AHC_INI_PARSE', line: 2 });
    expect(error.message).toBe(`${FILE}:2: option name missing before '=' in '= value' in section [foo]`);
  });

  it('reports every unparsable line of a file at once, after reading all of it', () => {
    const error = iniErrorOf(() => parseIni('[foo]\nbad one\nok = 1\nbad two\n', FILE));
    expect(error).toMatchObject({ code: 'AHC_INI_PARSE', line: 2 });
    expect(error.message.split('\n')).toHaveLength(2);
    expect(error.message).toContain(`${FILE}:4: cannot parse 'bad two'`);
  });

  it('reports a duplicate before unparsable lines seen earlier, as Python does', () => {
    expect(iniErrorOf(() => parseIni('[foo]\nbad line\n[foo]\n', FILE)).code).toBe('AHC_INI_DUPLICATE_SECTION');
  });
});
