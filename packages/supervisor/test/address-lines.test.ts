import { describe, expect, it } from 'vitest';
import { AddressTable, LineSplitter, parseAddressLine, parseDump } from '../src/address-lines';
import { IpAssignments } from '../src/ip-assignments';

// Lines captured from iproute2 6.1 (`ip -o address show`, `ip -o monitor address`) in a namespace,
// but VETH_AT: the `@ifN` suffix is what `ip link` prints for a veth whose peer is in another
// namespace, and what the parser must bear should an iproute2 print it in address lines too.
const V4 = '1: lo    inet 10.1.0.1/32 scope global lo\\       valid_lft forever preferred_lft forever';
const V4_LABEL = '1: lo    inet 10.1.0.2/32 scope global lo:1\\       valid_lft forever preferred_lft forever';
const V4_DELETED_LABEL = 'Deleted 1: lo    inet 10.1.0.2/32 scope global lo:1\\       valid_lft forever preferred_lft forever';
const V6 = '1: lo    inet6 2001:db8::1/128 scope global \\       valid_lft forever preferred_lft forever';
const V6_TENTATIVE = '3: va    inet6 2001:db8:5::1/64 scope global tentative \\       valid_lft forever preferred_lft forever';
const V6_DELETED_LINK =
  'Deleted 3: va    inet6 fe80::141d:eff:fe1e:105/64 scope link tentative \\       valid_lft forever preferred_lft forever';
const V6_DADFAILED = '2: va    inet6 2001:db8:9::7/64 scope global dadfailed tentative \\       valid_lft forever preferred_lft forever';
const VETH_AT = '12: veth0@if11    inet 10.3.0.1/24 brd 10.3.0.255 scope global veth0\\       valid_lft forever preferred_lft forever';
const V4_SECONDARY_LABEL = '2: va    inet 192.0.2.11/24 scope global secondary va:vip\\       valid_lft forever preferred_lft forever';
const PEER = '2: va    inet 10.8.0.1 peer 10.8.0.2/32 scope global va\\       valid_lft forever preferred_lft forever';

describe('parseAddressLine', () => {
  it('reads an IPv4 address with its device as label', () => {
    expect(parseAddressLine(V4)).toEqual({
      kind: 'add',
      entry: { ifindex: 1, device: 'lo', family: 4, address: '10.1.0.1', prefixLength: 32, label: 'lo', dadFailed: false },
    });
  });

  it('reads an alias label and a Deleted line', () => {
    expect(parseAddressLine(V4_LABEL)).toMatchObject({ kind: 'add', entry: { device: 'lo', label: 'lo:1' } });
    expect(parseAddressLine(V4_DELETED_LABEL)).toMatchObject({
      kind: 'delete',
      entry: { device: 'lo', label: 'lo:1', address: '10.1.0.2' },
    });
  });

  it('reads IPv6 (no label), tentative and dadfailed', () => {
    expect(parseAddressLine(V6)).toMatchObject({
      kind: 'add',
      entry: { family: 6, address: '2001:db8::1', prefixLength: 128, label: null },
    });
    expect(parseAddressLine(V6_TENTATIVE)).toMatchObject({ kind: 'add', entry: { device: 'va', dadFailed: false, label: null } });
    expect(parseAddressLine(V6_DELETED_LINK)).toMatchObject({ kind: 'delete', entry: { address: 'fe80::141d:eff:fe1e:105' } });
    expect(parseAddressLine(V6_DADFAILED)).toMatchObject({ entry: { dadFailed: true } });
  });

  it('drops the @ifN suffix of a veth name, and skips flags before the label', () => {
    expect(parseAddressLine(VETH_AT)).toMatchObject({ entry: { ifindex: 12, device: 'veth0', label: 'veth0', prefixLength: 24 } });
    expect(parseAddressLine(V4_SECONDARY_LABEL)).toMatchObject({ entry: { device: 'va', label: 'va:vip', address: '192.0.2.11' } });
  });

  it('reads a point-to-point address (the length is on the peer)', () => {
    expect(parseAddressLine(PEER)).toMatchObject({ entry: { address: '10.8.0.1', prefixLength: 32 } });
  });

  it('tolerates the [ADDR] prefix of `ip monitor all` and blank lines', () => {
    expect(parseAddressLine(`[ADDR]${V4}`)).toMatchObject({ kind: 'add', entry: { address: '10.1.0.1' } });
    expect(parseAddressLine('')).toEqual({ kind: 'ignore' });
  });

  it.each(['garbage', 'x: lo inet 10.0.0.1/32', '1: lo inet 10.0.0.999/33 scope host lo', '1: lo inet6 nonsense/64 scope host', '1: lo'])(
    'refuses %j',
    (line) => {
      expect(parseAddressLine(line)).toBeNull();
    },
  );
});

describe('LineSplitter', () => {
  it('joins lines broken across chunks anywhere', () => {
    const text = `${V4}\n${V4_DELETED_LABEL}\n${V6}\n`;
    for (let cut = 1; cut < text.length; cut += 7) {
      const s = new LineSplitter();
      const lines = [...s.push(text.slice(0, cut)), ...s.push(text.slice(cut)), ...s.flush()];
      expect(lines).toEqual([V4, V4_DELETED_LABEL, V6]);
    }
    const bytewise = new LineSplitter();
    const out: string[] = [];
    for (const ch of text) out.push(...bytewise.push(ch));
    expect(out).toEqual([V4, V4_DELETED_LABEL, V6]);
  });
});

describe('AddressTable', () => {
  it('applies events as set operations and a dump as a replacement', () => {
    const t = new AddressTable();
    const add = parseAddressLine(V4_LABEL);
    const del = parseAddressLine(V4_DELETED_LABEL);
    if (add === null || del === null) throw new Error('parse');
    expect(t.apply(add).added).toHaveLength(1);
    expect(t.apply(add)).toEqual({ added: [], removed: [] });
    expect(t.apply(del).removed).toHaveLength(1);
    expect(t.apply(del)).toEqual({ added: [], removed: [] });
    const dump = parseDump([V4, V6, ''].join('\n'));
    expect(dump).toHaveLength(2);
    expect(t.replaceAll(dump ?? []).added).toHaveLength(2);
    expect(t.replaceAll(dump ?? [])).toEqual({ added: [], removed: [] });
    expect(parseDump(`${V4}\nnot an address\n`)).toBeNull();
  });
});

describe('IpAssignments', () => {
  const lines = (...ls: string[]) => ls.map((l) => parseAddressLine(l) ?? { kind: 'ignore' as const });

  it('is null until the table is known, then follows the table', () => {
    const table = new AddressTable();
    const a = new IpAssignments(table);
    a.track('host', 'lo', [{ prefix: '10.1.0.1/32', address: '10.1.0.1', prefixLength: 32, family: 4 }]);
    a.track('alias', 'lo:1', [{ prefix: '10.1.0.2/32', address: '10.1.0.2', prefixLength: 32, family: 4 }]);
    a.track('any-alias-on-lo', 'lo', [{ prefix: '10.1.0.0/24', address: '10.1.0.0', prefixLength: 24, family: 4 }]);
    a.track('v6', 'va', [{ prefix: '2001:db8:5::/64', address: '2001:db8:5::', prefixLength: 64, family: 6 }]);
    a.track('bad-dad', 'va', [{ prefix: '2001:db8:9::7/128', address: '2001:db8:9::7', prefixLength: 128, family: 6 }]);
    expect(a.get('host')).toBeNull();
    table.replaceAll([]);
    expect(a.markKnown().sort()).toEqual(['alias', 'any-alias-on-lo', 'bad-dad', 'host', 'v6']);
    expect(a.get('host')).toBe(false);
    const changed: string[] = [];
    for (const l of lines(V4, V4_LABEL, V6_TENTATIVE, V6_DADFAILED)) changed.push(...a.apply(table.apply(l)));
    expect(changed.sort()).toEqual(['alias', 'any-alias-on-lo', 'host', 'v6']);
    expect(a.get('bad-dad')).toBe(false);
    // lo:1 goes: the alias service loses it; the /24 on lo still has 10.1.0.1.
    const [del] = lines(V4_DELETED_LABEL);
    expect(a.apply(table.apply(del ?? { kind: 'ignore' }))).toEqual(['alias']);
    expect(a.get('any-alias-on-lo')).toBe(true);
    // Nothing changes on a dump that shows what the table holds.
    expect(a.apply(table.replaceAll([...table.entries()]))).toEqual([]);
  });

  it('an IPv4 label of another interface does not count, nor another family', () => {
    const table = new AddressTable();
    const a = new IpAssignments(table);
    a.track('lo1', 'lo:1', [{ prefix: '10.1.0.1/32', address: '10.1.0.1', prefixLength: 32, family: 4 }]);
    a.track('v6', 'lo', [{ prefix: '10.1.0.1/32', address: '10.1.0.1', prefixLength: 32, family: 4 }]);
    table.replaceAll(parseDump(V4) ?? []);
    a.markKnown();
    expect(a.get('lo1')).toBe(false);
    expect(a.get('v6')).toBe(true);
  });

  it('tracks a service added after the table is known, with a new prefix length, and forgets an untracked one', () => {
    const table = new AddressTable();
    const a = new IpAssignments(table);
    table.replaceAll(parseDump([V4, V6].join('\n')) ?? []);
    a.markKnown();
    a.track('late-v4', 'lo', [{ prefix: '10.1.0.0/16', address: '10.1.0.0', prefixLength: 16, family: 4 }]);
    a.track('late-v6', 'lo', [{ prefix: '2001:db8::/120', address: '2001:db8::', prefixLength: 120, family: 6 }]);
    a.track('missing', 'lo', [{ prefix: '10.2.0.0/16', address: '10.2.0.0', prefixLength: 16, family: 4 }]);
    expect([a.get('late-v4'), a.get('late-v6'), a.get('missing')]).toEqual([true, true, false]);
    a.untrack('late-v4');
    expect(a.get('late-v4')).toBeNull();
    const [del] = lines(`Deleted ${V4}`);
    expect(a.apply(table.apply(del ?? { kind: 'ignore' }))).toEqual([]);
    const [add] = lines('1: lo    inet 10.2.3.4/32 scope global lo\\       valid_lft forever preferred_lft forever');
    expect(a.apply(table.apply(add ?? { kind: 'ignore' }))).toEqual(['missing']);
  });
  it('a service with several prefixes is assigned only while all are, and is reported when that answer changes', () => {
    const table = new AddressTable();
    const a = new IpAssignments(table);
    a.track('multi', 'lo', [
      { prefix: '10.1.0.1/32', address: '10.1.0.1', prefixLength: 32, family: 4 },
      { prefix: '10.1.0.2/32', address: '10.1.0.2', prefixLength: 32, family: 4 },
      { prefix: '2001:db8::1/128', address: '2001:db8::1', prefixLength: 128, family: 6 },
    ]);
    table.replaceAll(parseDump([V4, V6].join('\n')) ?? []);
    expect(a.markKnown()).toEqual(['multi']);
    // 10.1.0.2 is on lo:1, which counts for lo: the last one missing arrives.
    expect(a.get('multi')).toBe(false);
    const [label] = lines(V4_LABEL);
    expect(a.apply(table.apply(label ?? { kind: 'ignore' }))).toEqual(['multi']);
    expect(a.get('multi')).toBe(true);
    // One goes: false, reported once; another goes too: still false, nothing to report.
    const [delLabel] = lines(V4_DELETED_LABEL);
    expect(a.apply(table.apply(delLabel ?? { kind: 'ignore' }))).toEqual(['multi']);
    const [delV6] = lines(`Deleted ${V6}`);
    expect(a.apply(table.apply(delV6 ?? { kind: 'ignore' }))).toEqual([]);
    expect(a.get('multi')).toBe(false);
    a.untrack('multi');
    expect(a.get('multi')).toBeNull();
    expect(a.apply(table.apply(label ?? { kind: 'ignore' }))).toEqual([]);
  });
});
