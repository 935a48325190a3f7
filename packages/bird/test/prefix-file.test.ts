import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPythonTimestamp, normalizePrefix, parsePrefixFile, renderPrefixFile } from '../src/index';

const EXAMPLE = `# Generated 2026-11-24 10:00:00.123456 by anycast-healthchecker (pid=1234)
# 10.189.200.255/32 is a dummy IP Prefix. It should NOT be used and REMOVED from the constant.
define ACAST_PS_ADVERTISE =
    [
        10.189.200.255/32,
        10.52.12.1/32
    ];
`;

describe('renderPrefixFile', () => {
  it('writes the file exactly as the Python daemon does', () => {
    const text = renderPrefixFile({
      variable: 'ACAST_PS_ADVERTISE',
      dummy: '10.189.200.255/32',
      prefixes: ['10.52.12.1/32'],
      generatedAt: new Date(2026, 10, 24, 10, 0, 0, 123),
      pid: 1234,
    });
    expect(text).toBe(EXAMPLE.replace('.123456', '.123000'));
  });

  it('writes only the dummy when nothing is advertised, without a trailing comma', () => {
    const text = renderPrefixFile({
      variable: 'ACAST6_PS_ADVERTISE',
      dummy: '2001:db8::1/128',
      prefixes: [],
      generatedAt: new Date(2026, 0, 2, 3, 4, 5, 6),
      pid: 7,
    });
    expect(text).toBe(
      '# Generated 2026-01-02 03:04:05.006000 by anycast-healthchecker (pid=7)\n' +
        '# 2001:db8::1/128 is a dummy IP Prefix. It should NOT be used and REMOVED from the constant.\n' +
        'define ACAST6_PS_ADVERTISE =\n' +
        '    [\n' +
        '        2001:db8::1/128\n' +
        '    ];\n',
    );
  });

  it('puts the dummy first, keeps the given order and skips repeats and the dummy', () => {
    const text = renderPrefixFile({
      variable: 'V',
      dummy: '10.189.200.255/32',
      prefixes: ['10.0.0.9/32', '10.189.200.255/32', '10.0.0.1/32', '10.0.0.9/32'],
      generatedAt: new Date(0),
      pid: 1,
    });
    expect(text.split('\n').slice(4, 7)).toEqual(['        10.189.200.255/32,', '        10.0.0.9/32,', '        10.0.0.1/32']);
  });
});

describe('formatPythonTimestamp', () => {
  it('prints local time with microseconds padded to six digits', () => {
    expect(formatPythonTimestamp(new Date(2026, 10, 24, 10, 0, 0, 123))).toBe('2026-11-24 10:00:00.123000');
    expect(formatPythonTimestamp(new Date(2026, 10, 24, 9, 8, 7, 0))).toBe('2026-11-24 09:08:07.000000');
  });
});

describe('parsePrefixFile', () => {
  it('reads the variable and the prefixes of a file the Python daemon wrote', () => {
    expect(parsePrefixFile(EXAMPLE)).toEqual({
      variable: 'ACAST_PS_ADVERTISE',
      prefixes: ['10.189.200.255/32', '10.52.12.1/32'],
    });
  });

  it('takes the first define line, also with the "=" right after the name', () => {
    expect(parsePrefixFile('define FOO=\n[ 1.1.1.1/32 ];\ndefine BAR =\n').variable).toBe('FOO');
    expect(parsePrefixFile('  define   FOO   =   [\n').variable).toBe('FOO');
  });

  it('ignores commented-out defines and defines without "=" on the same line', () => {
    expect(parsePrefixFile('# define OLD =\ndefine NEW\n  =\n').variable).toBeNull();
  });

  it('returns null for the variable and no prefixes for an empty file', () => {
    expect(parsePrefixFile('')).toEqual({ variable: null, prefixes: [] });
  });

  it('counts every line that is a prefix once stripped of spaces and commas, normalised and without repeats', () => {
    const text = [
      'define X =',
      '[',
      '\t10.0.0.1 ,',
      ',,10.0.0.2/32,,',
      '2001:DB8::1',
      '10.0.0.1/32',
      '10.0.0.3/24,', // host bits: not a prefix
      '[ 10.0.0.4/32,', // bracket on the line: not a prefix (as in Python)
      '10.0.0.5/32, 10.0.0.6/32', // two on a line: not a prefix
      '# 10.0.0.7/32',
      '];',
    ].join('\r\n');
    expect(parsePrefixFile(text).prefixes).toEqual(['10.0.0.1/32', '10.0.0.2/32', '2001:db8::1/128']);
  });
});

describe('prefix file round trip', () => {
  const ipv4Prefix = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })).map(([address, length]) => {
    const masked = length === 0 ? 0 : (address & (0xffffffff << (32 - length))) >>> 0;
    return `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${length}`;
  });
  const ipv6Prefix = fc.ipV6().map((address) => {
    const result = normalizePrefix(address);
    if (!result.ok) throw new Error(result.reason);
    return result.prefix;
  });
  const prefix = fc.oneof(ipv4Prefix, ipv6Prefix);
  const variable = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/);

  it('parse(render(x)) gives back the variable and the dummy followed by the prefixes', () => {
    fc.assert(
      fc.property(
        variable,
        prefix,
        fc.uniqueArray(prefix, { maxLength: 20 }),
        fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }),
        fc.integer({ min: 1, max: 4194304 }),
        (name, dummy, prefixes, generatedAt, pid) => {
          const text = renderPrefixFile({ variable: name, dummy, prefixes, generatedAt, pid });
          expect(parsePrefixFile(text)).toEqual({
            variable: name,
            prefixes: [dummy, ...prefixes.filter((p) => p !== dummy)],
          });
        },
      ),
    );
  });
});
