import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizePrefix } from '@ahc/bird';
import { iniFromObject, mergeIni, parseIni } from '@ahc/ini';
import { ERR } from '@ahc/errors';
import { collectProblems } from '../src/compile';
import { DAEMON_DEFAULTS, DAEMON_SECTION, DEFAULT_SECTION, SERVICE_DEFAULTS } from '../src/defaults';
import { parsePrefixList, splitPrefixList } from '../src/prefix-list';

/** Compile built-in defaults plus `text` (one file), without looking at this machine. */
function compile(text: string) {
  const base = iniFromObject({ [DEFAULT_SECTION]: { ...SERVICE_DEFAULTS }, [DAEMON_SECTION]: { ...DAEMON_DEFAULTS } }, 'built-in');
  return collectProblems(mergeIni(base, parseIni(text, 'test.conf')), ['test.conf'], { filesystem: false });
}

function services(ipPrefixes: Record<string, string>, daemon = 'ipv6 = true'): string {
  const sections = Object.entries(ipPrefixes).map(([name, p]) => `[${name}]\ncheck_cmd = /bin/true\nip_prefix = ${p}\n`);
  return `[daemon]\n${daemon}\n\n${sections.join('\n')}`;
}

const errorsOf = (text: string) => compile(text).problems.filter((p) => p.severity === 'error');

// ---- generators ---------------------------------------------------------------------------

const v4 = fc.tuple(fc.integer({ min: 1, max: 0xdfffffff }), fc.integer({ min: 8, max: 32 })).map(([a, len]) => {
  const net = len === 0 ? 0 : (a >>> (32 - len)) << (32 - len);
  const n = net >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}/${len}`;
});
const v6 = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.constantFrom(48, 64, 96, 112, 128))
  .map(([groups, len]) => {
    const kept = groups.map((g, i) => (i * 16 + 16 <= len ? g : i * 16 >= len ? 0 : g & (0xffff << (16 - (len - i * 16)))));
    // Keep clear of the dummy and of IPv4-mapped space: 2001:db8:a::/48 and below.
    return `2001:db8:a:${kept
      .slice(3)
      .map((g) => g.toString(16))
      .join(':')}/${Math.max(len, 48)}`;
  })
  .filter((p) => normalizePrefix(p).ok);
/** Written as an operator may: bare host addresses, upper-case hex, leading zeros in a length. */
const validItem = fc.oneof(
  v4,
  v6,
  v4.map((p) => (p.endsWith('/32') ? p.slice(0, -3) : p)),
  v6.map((p) => p.toUpperCase()),
);
/** Items a lone prefix is refused for: host bits, bad octets, lengths, garbage. */
const invalidItem = fc.constantFrom(
  '10.0.0.1/24',
  '10.0.0.256',
  '1.2.3.4/33',
  'abc',
  '2001:db8::1/64',
  '10.1.1',
  '2001:db8:::1',
  '10.0.0.1/',
);
const separator = fc.constantFrom(', ', ',', ' ', '  ', '\t', ' , ', ',\t');

function join(items: readonly string[], seps: readonly string[]): string {
  return items.reduce((text, item, i) => (i === 0 ? item : `${text}${seps[i - 1] ?? ' '}${item}`), '');
}
const list = (item: fc.Arbitrary<string>, max = 6) =>
  fc
    .array(item, { minLength: 1, maxLength: max })
    .chain((items) =>
      fc.array(separator, { minLength: items.length, maxLength: items.length }).map((seps) => ({ items, text: join(items, seps) })),
    );

/** The lone-prefix rule as it was before lists (0.9.10 and this daemon until now). */
function lonePrefixRule(text: string): { ok: true; prefix: string } | { ok: false; message: string } {
  const r = normalizePrefix(text);
  return r.ok ? { ok: true, prefix: r.prefix } : { ok: false, message: `not a valid IP prefix: ${r.reason}` };
}

// ---- splitting ----------------------------------------------------------------------------

describe('ip_prefix lists: splitting', () => {
  it('splits at commas and at whitespace, in any mix', () => {
    expect(splitPrefixList('10.0.0.1/32, 10.0.0.2/32 2001:db8::5/128')).toEqual(['10.0.0.1/32', '10.0.0.2/32', '2001:db8::5/128']);
    expect(splitPrefixList('10.0.0.1,10.0.0.2\t10.0.0.3 ,10.0.0.4')).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
    expect(splitPrefixList('  10.0.0.1/32  ')).toEqual(['10.0.0.1/32']);
  });

  it('refuses empty items: two commas in a row, a leading or a trailing comma', () => {
    for (const text of ['10.0.0.1,,10.0.0.2', '10.0.0.1, ,10.0.0.2', ',10.0.0.1', '10.0.0.1,', ',']) {
      expect(splitPrefixList(text), text).toBeNull();
      const r = parsePrefixList(text);
      expect(r.ok ? '' : r.message, text).toMatch(/^has an empty item: write the prefixes separated by commas or spaces/);
    }
  });

  it('names the item that is not a prefix, with the reason a lone prefix gets', () => {
    const r = parsePrefixList('10.0.0.1/32, 10.0.0.2/24');
    expect(r).toEqual({ ok: false, message: 'not a valid IP prefix (item 2 of 2): "10.0.0.2/24" has host bits set' });
  });

  it('keeps the configured order and normalises each item', () => {
    const r = parsePrefixList('2001:DB8:0::1, 10.0.0.2 10.0.0.1/32');
    expect(r.ok && r.value).toEqual([
      { prefix: '2001:db8::1/128', address: '2001:db8::1', prefixLength: 128, family: 6 },
      { prefix: '10.0.0.2/32', address: '10.0.0.2', prefixLength: 32, family: 4 },
      { prefix: '10.0.0.1/32', address: '10.0.0.1', prefixLength: 32, family: 4 },
    ]);
  });
});

// ---- properties ---------------------------------------------------------------------------

describe('ip_prefix lists: properties', () => {
  it('any list of valid prefixes, however separated, parses to the items normalised, in order, and round-trips', () => {
    fc.assert(
      fc.property(list(validItem), ({ items, text }) => {
        const r = parsePrefixList(text);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const want = items.map((i) => lonePrefixRule(i)).map((x) => (x.ok ? x.prefix : ''));
        expect(r.value.map((p) => p.prefix)).toEqual(want);
        for (const p of r.value) expect(`${p.address}/${p.prefixLength}`).toBe(p.prefix);
        // Printed back (as status prints it) it reads the same.
        const again = parsePrefixList(r.value.map((p) => p.prefix).join(', '));
        expect(again.ok && again.value).toEqual(r.value);
      }),
      { numRuns: 300 },
    );
  });

  it('a list is accepted exactly when every item passes the lone-prefix rule and no prefix repeats (compiled)', () => {
    fc.assert(
      fc.property(list(fc.oneof({ weight: 4, arbitrary: validItem }, { weight: 1, arbitrary: invalidItem })), ({ items, text }) => {
        const lone = items.map(lonePrefixRule);
        const normalised = lone.map((x) => (x.ok ? x.prefix : null));
        const eachValid = normalised.every((p) => p !== null);
        const distinct = new Set(normalised).size === normalised.length;
        const errors = errorsOf(services({ svc: text }));
        expect(errors.length === 0, `${text}: ${errors.map((e) => e.message).join('; ')}`).toBe(eachValid && distinct);
        if (!eachValid) {
          const first = lone.findIndex((x) => !x.ok);
          const reason = (lone[first] as { message: string }).message.replace(/^not a valid IP prefix: /, '');
          const where = items.length === 1 ? '' : ` (item ${first + 1} of ${items.length})`;
          expect(errors[0]?.message).toContain(`not a valid IP prefix${where}: ${reason}`);
          expect(errors[0]?.code).toBe(ERR.AHC_CONFIG_INVALID);
        } else if (!distinct) {
          expect(errors[0]?.code).toBe(ERR.AHC_CONFIG_DUPLICATE_PREFIX);
          expect(errors[0]?.message).toMatch(/lists \S+ more than once \(compared normalised\); list each prefix once$/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a one-item list is read exactly as a lone prefix was: same value, or the same message', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          validItem,
          invalidItem,
          fc.string({ maxLength: 12 }).filter((s) => !/[\s,]/.test(s)),
        ),
        (text) => {
          const before = lonePrefixRule(text);
          const now = parsePrefixList(text);
          if (before.ok) expect(now.ok && now.value.map((p) => p.prefix)).toEqual([before.prefix]);
          else expect(now).toEqual({ ok: false, message: before.message });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('every lone-prefix rule applies to each item: a prefix of another service, the dummy', () => {
    fc.assert(
      fc.property(list(v4, 3), fc.nat(), ({ items, text }, pick) => {
        const taken = items[pick % items.length] as string;
        const other = errorsOf(services({ a: taken, b: text }));
        expect(other.map((e) => e.code)).toContain(ERR.AHC_CONFIG_DUPLICATE_PREFIX);
        const normal = lonePrefixRule(taken);
        expect(other.map((e) => e.message).join('\n')).toContain(`${normal.ok ? normal.prefix : '?'} is already used by service [a]`);
        const dummy = errorsOf(services({ b: `${text} 10.189.200.255/32` }));
        expect(dummy.map((e) => e.code)).toContain(ERR.AHC_CONFIG_DUMMY_PREFIX_USED);
      }),
      { numRuns: 100 },
    );
  });
});

// ---- the cross-checks by example ----------------------------------------------------------

describe('ip_prefix lists: cross-checks', () => {
  it('accepts IPv4 and IPv6 mixed in one service when both families are enabled', () => {
    const { config, problems } = compile(services({ web: '10.52.12.1/32, 10.52.12.2/32 2001:db8:52::1/128' }));
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(config?.services[0]?.prefixes.map((p) => [p.prefix, p.family])).toEqual([
      ['10.52.12.1/32', 4],
      ['10.52.12.2/32', 4],
      ['2001:db8:52::1/128', 6],
    ]);
  });

  it('refuses an IPv6 item while ipv6 is off, naming the item; a lone prefix keeps its message', () => {
    const [many] = errorsOf(services({ web: '10.52.12.1/32 2001:db8:52::1/128' }, 'ipv6 = false'));
    expect(many?.code).toBe(ERR.AHC_CONFIG_FAMILY_DISABLED);
    expect(many?.message).toBe(
      "test.conf:6: [web] ip_prefix = '10.52.12.1/32 2001:db8:52::1/128': lists 2001:db8:52::1/128, an IPv6 prefix but IPv6 is disabled in [daemon] (set ipv6 = true)",
    );
    const [one] = errorsOf(services({ web: '2001:db8:52::1/128' }, 'ipv6 = false'));
    expect(one?.message).toBe(
      "test.conf:6: [web] ip_prefix = '2001:db8:52::1/128': is an IPv6 prefix but IPv6 is disabled in [daemon] (set ipv6 = true)",
    );
  });

  it('refuses the same prefix twice in one service, compared normalised', () => {
    const [e] = errorsOf(services({ web: '10.52.12.1, 10.52.12.2/32 10.52.12.1/32' }));
    expect(e?.code).toBe(ERR.AHC_CONFIG_DUPLICATE_PREFIX);
    expect(e?.message).toBe(
      "test.conf:6: [web] ip_prefix = '10.52.12.1, 10.52.12.2/32 10.52.12.1/32': lists 10.52.12.1/32 more than once (compared normalised); list each prefix once",
    );
  });

  it('refuses an item another service uses, naming that service', () => {
    const errors = errorsOf(services({ a: '10.52.12.7/32', b: '10.52.12.1/32, 10.52.12.7' }));
    expect(errors.map((e) => e.message)).toEqual([
      "test.conf:10: [b] ip_prefix = '10.52.12.1/32, 10.52.12.7': 10.52.12.7/32 is already used by service [a]; each prefix needs exactly one check",
    ]);
  });

  it('refuses custom_bird_reconfigure_cmd on a service with prefixes of both families, and allows it with one family', () => {
    const text = (p: string) => `${services({ web: p })}custom_bird_reconfigure_cmd = /bin/true\n`;
    const [e] = errorsOf(text('10.52.12.1/32 2001:db8:52::1/128'));
    expect(e?.option).toBe('custom_bird_reconfigure_cmd');
    expect(e?.message).toContain('ip_prefix lists IPv4 and IPv6 prefixes');
    expect(errorsOf(text('10.52.12.1/32 10.52.12.2/32'))).toEqual([]);
  });
});
