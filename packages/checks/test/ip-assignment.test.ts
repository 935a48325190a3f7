import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inPrefix, networkKey } from '../src/index';

describe('inPrefix', () => {
  it.each([
    ['10.52.12.1', '10.52.12.1', 32, 4, true],
    ['10.52.12.2', '10.52.12.1', 32, 4, false],
    ['10.52.12.200', '10.52.12.0', 24, 4, true],
    ['10.52.13.1', '10.52.12.0', 24, 4, false],
    ['192.0.2.1', '0.0.0.0', 0, 4, true],
    ['2001:db8::1', '2001:db8::1', 128, 6, true],
    ['2001:db8::2', '2001:db8::1', 128, 6, false],
    ['2001:db8:0:0:ffff::1', '2001:db8::', 64, 6, true],
    ['2001:db9::1', '2001:db8::', 32, 6, false],
    ['fe80::1%eth0', 'fe80::', 64, 6, true],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.0', 120, 6, true],
    ['not an address', '10.0.0.0', 8, 4, false],
  ] as const)('%s in %s/%i (IPv%i): %s', (candidate, network, length, family, expected) => {
    expect(inPrefix(candidate, network, length, family)).toBe(expected);
  });
});

describe('networkKey agrees with inPrefix', () => {
  const key = (a: string, l: number, f: 4 | 6) => networkKey(a, l, f);
  it.each([
    ['10.52.12.200', '10.52.12.0', 24, 4],
    ['10.52.13.1', '10.52.12.0', 24, 4],
    ['10.52.12.1', '10.52.12.1', 32, 4],
    ['2001:db8::1', '2001:db8::1', 128, 6],
    ['2001:db8:0:0:ffff::1', '2001:db8::', 64, 6],
    ['2001:db9::1', '2001:db8::', 32, 6],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.0', 120, 6],
    ['::ffff:a00:1', '::ffff:10.0.0.1', 128, 6],
    ['fe80::1%eth0', 'fe80::', 64, 6],
    ['192.0.2.1', '0.0.0.0', 0, 4],
    ['10.1.2.3', '10.1.2.0', 23, 4],
  ] as const)('%s in %s/%i', (candidate, network, length, family) => {
    expect(key(candidate, length, family) === key(network, length, family)).toBe(inPrefix(candidate, network, length, family));
  });

  it('for random addresses and prefixes (IPv4 and IPv6)', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
    const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':'));
    fc.assert(
      fc.property(v4, v4, fc.nat(32), (a, b, l) => (key(a, l, 4) === key(b, l, 4)) === inPrefix(a, b, l, 4)),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(v6, v6, fc.nat(128), fc.boolean(), (a, b, l, near) => {
        // near: share the first half, so that long prefixes also match sometimes
        const c = near ? `${a.split(':').slice(0, 4).join(':')}:${b.split(':').slice(4).join(':')}` : b;
        return (key(a, l, 6) === key(c, l, 6)) === inPrefix(a, c, l, 6);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what is not an address', () => {
    expect(networkKey('10.0.0.256', 32, 4)).toBeNull();
    expect(networkKey('1:2:3:4:5:6:7:8:9', 64, 6)).toBeNull();
    expect(networkKey('1::2::3', 64, 6)).toBeNull();
    expect(networkKey('nonsense', 64, 6)).toBeNull();
    expect(networkKey('10.0.0.1', 33, 4)).toBeNull();
  });
});
