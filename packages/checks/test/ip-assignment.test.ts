import { describe, expect, it } from 'vitest';
import { inPrefix } from '../src/index';

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
