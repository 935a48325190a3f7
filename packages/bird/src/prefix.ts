import type { Family } from '@ahc/protocol';

/**
 * IP prefixes as the Python daemon reads them: `ipaddress.ip_network(text, strict=True)`.
 *
 * Accepted: `ip` (a host prefix, /32 or /128) or `ip/len`, IPv4 or IPv6. Host bits must be
 * zero. Like Python, an IPv4 length may also be written as a netmask (`/255.255.255.0`) or a
 * hostmask (`/0.0.0.255`), and a decimal length may have leading zeros (`/032`). Rejected:
 * leading zeros in IPv4 octets, out-of-range lengths, zone ids (`%eth0`), whitespace, garbage.
 *
 * The canonical form is what Python prints: dotted quad for IPv4; for IPv6 lower-case hex,
 * leading zeros dropped, the longest run (leftmost on a tie) of two or more zero groups
 * compressed to `::` (RFC 5952), and IPv4-mapped addresses (`::ffff:0:0/96`) in mixed
 * notation (`::ffff:192.0.2.1`, RFC 5952 section 5, as Python 3.13 prints them).
 */

export type IpFamily = Family;

export type PrefixResult =
  { readonly ok: true; readonly prefix: string; readonly family: IpFamily } | { readonly ok: false; readonly reason: string };

/** A parsed prefix: the address as 16-bit groups (2 for IPv4, 8 for IPv6) and its length. */
interface ParsedPrefix {
  readonly family: IpFamily;
  readonly groups: readonly number[];
  readonly length: number;
}

type Parse<T> = { ok: true; value: T } | { ok: false; reason: string };

const DIGITS = /^[0-9]+$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function fail<T>(reason: string): Parse<T> {
  return { ok: false, reason };
}

/** Python's IPv4Address parsing: four decimal octets, 0-255, no leading zeros. */
function parseIpv4(text: string): Parse<number> {
  const octets = text.split('.');
  if (octets.length !== 4) return fail(`expected 4 octets in ${JSON.stringify(text)}`);
  let value = 0;
  for (const octet of octets) {
    if (octet === '') return fail(`empty octet not permitted in ${JSON.stringify(text)}`);
    if (!DIGITS.test(octet)) return fail(`only decimal digits permitted in ${JSON.stringify(octet)}`);
    if (octet.length > 3) return fail(`at most 3 characters permitted in ${JSON.stringify(octet)}`);
    if (octet.length > 1 && octet.startsWith('0')) {
      return fail(`leading zeros are not permitted in ${JSON.stringify(octet)} (ambiguous octal/decimal)`);
    }
    const n = Number(octet);
    if (n > 255) return fail(`octet ${octet} (> 255) not permitted`);
    value = value * 256 + n;
  }
  return { ok: true, value };
}

/** Python's IPv6Address parsing, without scope ids. */
function parseIpv6(text: string): Parse<number[]> {
  if (text.includes('%')) return fail(`zone ids are not permitted in ${JSON.stringify(text)}`);
  const parts = text.split(':');
  if (parts.length < 3) return fail(`at least 3 parts expected in ${JSON.stringify(text)}`);
  const last = parts[parts.length - 1] as string;
  if (last.includes('.')) {
    const v4 = parseIpv4(last);
    if (!v4.ok) return fail(`${v4.reason} in ${JSON.stringify(text)}`);
    parts.pop();
    parts.push(((v4.value >>> 16) & 0xffff).toString(16), (v4.value & 0xffff).toString(16));
  }
  if (parts.length > 9) return fail(`at most 8 colons permitted in ${JSON.stringify(text)}`);

  let skipIndex: number | null = null;
  for (let i = 1; i < parts.length - 1; i += 1) {
    if (parts[i] === '') {
      if (skipIndex !== null) return fail(`at most one '::' permitted in ${JSON.stringify(text)}`);
      skipIndex = i;
    }
  }

  let hi: number;
  let lo: number;
  let skipped: number;
  if (skipIndex !== null) {
    hi = skipIndex;
    lo = parts.length - skipIndex - 1;
    if (parts[0] === '') {
      hi -= 1;
      if (hi !== 0) return fail(`leading ':' only permitted as part of '::' in ${JSON.stringify(text)}`);
    }
    if (parts[parts.length - 1] === '') {
      lo -= 1;
      if (lo !== 0) return fail(`trailing ':' only permitted as part of '::' in ${JSON.stringify(text)}`);
    }
    skipped = 8 - (hi + lo);
    if (skipped < 1) return fail(`expected at most 7 other parts with '::' in ${JSON.stringify(text)}`);
  } else {
    if (parts.length !== 8) return fail(`exactly 8 parts expected without '::' in ${JSON.stringify(text)}`);
    if (parts[0] === '') return fail(`leading ':' only permitted as part of '::' in ${JSON.stringify(text)}`);
    if (parts[7] === '') return fail(`trailing ':' only permitted as part of '::' in ${JSON.stringify(text)}`);
    hi = 8;
    lo = 0;
    skipped = 0;
  }

  const groups: number[] = [];
  const parseGroup = (part: string): string | null => {
    if (!HEX_GROUP.test(part)) return `invalid group ${JSON.stringify(part)} (1 to 4 hex digits) in ${JSON.stringify(text)}`;
    groups.push(parseInt(part, 16));
    return null;
  };
  for (let i = 0; i < hi; i += 1) {
    const problem = parseGroup(parts[i] as string);
    if (problem !== null) return fail(problem);
  }
  for (let i = 0; i < skipped; i += 1) groups.push(0);
  for (let i = parts.length - lo; i < parts.length; i += 1) {
    const problem = parseGroup(parts[i] as string);
    if (problem !== null) return fail(problem);
  }
  return { ok: true, value: groups };
}

/** A contiguous mask of `bits` ones followed by zeros, or -1 when `mask` is not one. */
function maskLength(mask: number): number {
  let length = 0;
  while (length < 32 && mask & (0x80000000 >>> length)) length += 1;
  const expected = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return mask >>> 0 === expected ? length : -1;
}

function parseLength(text: string, family: IpFamily): Parse<number> {
  const max = family === 4 ? 32 : 128;
  if (DIGITS.test(text)) {
    const n = Number(text);
    if (n > max) return fail(`prefix length ${text} is out of range 0-${max}`);
    return { ok: true, value: n };
  }
  if (family === 4 && text.includes('.')) {
    const mask = parseIpv4(text);
    if (!mask.ok) return fail(`invalid netmask ${JSON.stringify(text)}`);
    const asNetmask = maskLength(mask.value);
    if (asNetmask >= 0) return { ok: true, value: asNetmask };
    const asHostmask = maskLength(~mask.value >>> 0);
    if (asHostmask >= 0) return { ok: true, value: asHostmask };
    return fail(`${JSON.stringify(text)} is neither a valid netmask nor a valid hostmask`);
  }
  return fail(`invalid prefix length ${JSON.stringify(text)}`);
}

/** True when every bit after `length` in the 16-bit groups is zero. */
function hostBitsZero(groups: readonly number[], length: number): boolean {
  for (let i = 0; i < groups.length; i += 1) {
    const first = i * 16;
    const keep = Math.min(16, Math.max(0, length - first));
    const hostMask = keep === 16 ? 0 : 0xffff >>> keep;
    if (((groups[i] as number) & hostMask) !== 0) return false;
  }
  return true;
}

function parsePrefix(text: string): Parse<ParsedPrefix> {
  if (text === '') return fail('empty string is not an IP prefix');
  const pieces = text.split('/');
  if (pieces.length > 2) return fail(`only one '/' permitted in ${JSON.stringify(text)}`);
  const [addressText = '', lengthText] = pieces;
  const family: IpFamily = addressText.includes(':') ? 6 : 4;
  let groups: number[];
  if (family === 4) {
    const v4 = parseIpv4(addressText);
    if (!v4.ok) return fail(`${JSON.stringify(text)} is not a valid IPv4 or IPv6 prefix: ${v4.reason}`);
    groups = [v4.value >>> 16, v4.value & 0xffff];
  } else {
    const v6 = parseIpv6(addressText);
    if (!v6.ok) return fail(`${JSON.stringify(text)} is not a valid IPv6 prefix: ${v6.reason}`);
    groups = v6.value;
  }
  let length = family === 4 ? 32 : 128;
  if (lengthText !== undefined) {
    const parsed = parseLength(lengthText, family);
    if (!parsed.ok) return fail(`${JSON.stringify(text)}: ${parsed.reason}`);
    length = parsed.value;
  }
  if (!hostBitsZero(groups, length)) return fail(`${JSON.stringify(text)} has host bits set`);
  return { ok: true, value: { family, groups, length } };
}

function formatIpv4(hi: number, lo: number): string {
  return `${hi >>> 8}.${hi & 0xff}.${lo >>> 8}.${lo & 0xff}`;
}

function formatIpv6(groups: readonly number[]): string {
  // IPv4-mapped (::ffff:a.b.c.d): mixed notation.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(groups[6] as number, groups[7] as number)}`;
  }
  let bestStart = -1;
  let bestLength = 0;
  let runStart = -1;
  for (let i = 0; i <= groups.length; i += 1) {
    if (i < groups.length && groups[i] === 0) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      const runLength = i - runStart;
      if (runLength > bestLength) {
        bestStart = runStart;
        bestLength = runLength;
      }
      runStart = -1;
    }
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

function format(parsed: ParsedPrefix): string {
  const address = parsed.family === 4 ? formatIpv4(parsed.groups[0] as number, parsed.groups[1] as number) : formatIpv6(parsed.groups);
  return `${address}/${parsed.length}`;
}

/** Validate `text` as an IP prefix and return its canonical form and family. */
export function normalizePrefix(text: string): PrefixResult {
  const parsed = parsePrefix(text);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  return { ok: true, prefix: format(parsed.value), family: parsed.value.family };
}

/** The family of a prefix, or null when `text` is not a valid prefix. */
export function prefixFamily(text: string): IpFamily | null {
  const result = normalizePrefix(text);
  return result.ok ? result.family : null;
}

/**
 * Order prefixes for display and for appending to the prefix file: IPv4 before IPv6, then by
 * numeric address, then shorter prefixes first. Invalid prefixes sort last, by text.
 */
export function comparePrefixes(a: string, b: string): number {
  const pa = parsePrefix(a);
  const pb = parsePrefix(b);
  if (!pa.ok || !pb.ok) {
    if (pa.ok) return -1;
    if (pb.ok) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const x = pa.value;
  const y = pb.value;
  if (x.family !== y.family) return x.family - y.family;
  for (let i = 0; i < x.groups.length; i += 1) {
    const d = (x.groups[i] as number) - (y.groups[i] as number);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
