import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparePrefixes, normalizePrefix, prefixFamily } from '../src/index';

function canonical(text: string): string {
  const result = normalizePrefix(text);
  if (!result.ok) throw new Error(`expected ${text} to be valid: ${result.reason}`);
  return result.prefix;
}

function reason(text: string): string {
  const result = normalizePrefix(text);
  if (result.ok) throw new Error(`expected ${text} to be rejected, got ${result.prefix}`);
  return result.reason;
}

describe('normalizePrefix', () => {
  it.each([
    ['10.0.0.1', '10.0.0.1/32', 4],
    ['10.0.0.1/32', '10.0.0.1/32', 4],
    ['10.52.12.0/24', '10.52.12.0/24', 4],
    ['0.0.0.0/0', '0.0.0.0/0', 4],
    ['2001:db8::1', '2001:db8::1/128', 6],
    ['2001:DB8:0:0:0:0:0:1/128', '2001:db8::1/128', 6],
    ['2001:0db8:0000:0000:0000:0000:0000:0000/32', '2001:db8::/32', 6],
    ['::', '::/128', 6],
    ['::/0', '::/0', 6],
    ['::1', '::1/128', 6],
    ['1::', '1::/128', 6],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3/128', 6],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4/128', 6],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7/128', 6],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0/128', 6],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8/128', 6],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201/128', 6],
    ['::ffff:c000:0201', '::ffff:192.0.2.1/128', 6],
    ['::ffff:0.0.0.0/96', '::ffff:0.0.0.0/96', 6],
  ] as const)('reads %s as %s (IPv%i)', (input, prefix, family) => {
    expect(normalizePrefix(input)).toEqual({ ok: true, prefix, family });
  });

  it.each([
    ['10.0.0.0/255.0.0.0', '10.0.0.0/8'],
    ['10.0.0.0/0.255.255.255', '10.0.0.0/8'],
    ['0.0.0.0/0.0.0.0', '0.0.0.0/0'],
    ['10.0.0.1/255.255.255.255', '10.0.0.1/32'],
    ['10.0.0.0/032', '10.0.0.0/32'],
    ['2001:db8::/032', '2001:db8::/32'],
  ])('accepts the length forms Python accepts: %s is %s', (input, prefix) => {
    expect(canonical(input)).toBe(prefix);
  });

  it('rejects host bits in IPv4 and IPv6 prefixes', () => {
    expect(reason('10.0.0.1/24')).toMatch(/host bits set/);
    expect(reason('2001:db8::1/64')).toMatch(/host bits set/);
    expect(reason('0.0.0.1/0')).toMatch(/host bits set/);
  });

  it('rejects leading zeros in IPv4 octets, also inside IPv6', () => {
    expect(reason('010.0.0.1')).toMatch(/leading zeros/);
    expect(reason('10.0.0.01/32')).toMatch(/leading zeros/);
    expect(reason('::ffff:10.0.0.01')).toMatch(/leading zeros/);
  });

  it('rejects out-of-range lengths and octets', () => {
    expect(reason('10.0.0.0/33')).toMatch(/out of range 0-32/);
    expect(reason('2001:db8::/129')).toMatch(/out of range 0-128/);
    expect(reason('256.0.0.0')).toMatch(/> 255/);
    expect(reason('1:2:3:4:5:6:7:10000')).toMatch(/invalid group/);
  });

  it('rejects zone ids', () => {
    expect(reason('fe80::1%eth0')).toMatch(/zone ids/);
    expect(reason('fe80::1%eth0/128')).toMatch(/zone ids/);
  });

  it.each([
    '',
    ' ',
    'garbage',
    '10.0.0.1 ',
    ' 10.0.0.1',
    '10.0.0',
    '10.0.0.0.0',
    '10..0.1',
    '10.0.0.1/',
    '10.0.0.1/-1',
    '10.0.0.1/+32',
    '10.0.0.1/32/32',
    '10.0.0.0/255.0.255.0',
    '10.0.0.0/ffff::',
    '2001:db8::/ffff::',
    '2001:db8::/255.255.0.0',
    ':::',
    '1:::2',
    '1::2::3',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1::2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:8::',
    '::1.2.3.4.5',
    '1.2.3.4::',
    'g::1',
    '١٠.0.0.1',
  ])('rejects %j', (input) => {
    expect(normalizePrefix(input).ok).toBe(false);
  });

  it('names the offending text in the reason', () => {
    expect(reason('10.0.0.300/32')).toContain('10.0.0.300/32');
  });
});

describe('normalizePrefix properties', () => {
  const ipv4 = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }));

  it('returns canonical IPv4 prefixes unchanged and is idempotent', () => {
    fc.assert(
      fc.property(ipv4, ([address, length]) => {
        const masked = length === 0 ? 0 : (address & (0xffffffff << (32 - length))) >>> 0;
        const text = `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${length}`;
        expect(canonical(text)).toBe(text);
        expect(prefixFamily(text)).toBe(4);
      }),
    );
  });

  it('prints IPv6 addresses like the WHATWG URL serializer (RFC 5952), mapped ones in mixed notation', () => {
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const result = canonical(address);
        const fromUrl = new URL(`http://[${address}]/`).hostname.slice(1, -1);
        const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(fromUrl);
        if (mapped === null) {
          expect(result).toBe(`${fromUrl}/128`);
        } else {
          const hi = parseInt(mapped[1] as string, 16);
          const lo = parseInt(mapped[2] as string, 16);
          expect(result).toBe(`::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}/128`);
        }
        expect(canonical(result)).toBe(result);
      }),
    );
  });

  it('round-trips every IPv6 prefix through its fully expanded upper-case form', () => {
    const groups = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(groups, fc.integer({ min: 0, max: 128 }), (raw, length) => {
        const masked = raw.map((group, i) => {
          const keep = Math.min(16, Math.max(0, length - i * 16));
          return keep === 0 ? 0 : group & ((0xffff << (16 - keep)) & 0xffff);
        });
        const expanded = `${masked.map((g) => g.toString(16).toUpperCase().padStart(4, '0')).join(':')}/${length}`;
        const result = canonical(expanded);
        expect(normalizePrefix(result)).toEqual({ ok: true, prefix: result, family: 6 });
        expect(result).toBe(result.toLowerCase());
        expect(result).not.toMatch(/(^|:)0[0-9a-f]/);
      }),
    );
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF.:/% x'.split('')) }), (text) => {
        const result = normalizePrefix(text);
        if (result.ok) expect(canonical(result.prefix)).toBe(result.prefix);
      }),
    );
  });
});

describe('prefixFamily', () => {
  it('tells IPv4 from IPv6 and returns null for garbage', () => {
    expect(prefixFamily('10.0.0.1/32')).toBe(4);
    expect(prefixFamily('2001:db8::1')).toBe(6);
    expect(prefixFamily('10.0.0.1/24')).toBeNull();
  });
});

describe('comparePrefixes', () => {
  it('orders IPv4 before IPv6, then numerically, then shorter first', () => {
    const sorted = ['2001:db8::/32', '10.0.0.10/32', '10.0.0.2/32', '10.0.0.0/8', '10.0.0.0/16', '::1/128'].sort(comparePrefixes);
    expect(sorted).toEqual(['10.0.0.0/8', '10.0.0.0/16', '10.0.0.2/32', '10.0.0.10/32', '::1/128', '2001:db8::/32']);
  });
});
