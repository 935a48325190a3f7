import { normalizePrefix } from '@ahc/bird';
import type { IpPrefix } from '@ahc/protocol';

/**
 * `ip_prefix`: one prefix, as the Python daemon reads it, or several (docs/configuration.md,
 * "Several prefixes per service"), separated by commas and/or whitespace. Each item is read exactly as a lone
 * prefix is; a lone prefix keeps the lone prefix's message word for word. Duplicates are the
 * cross-checks' (compile.ts), like a prefix used by two services. Pure.
 */
export type PrefixListResult = { ok: true; value: IpPrefix[] } | { ok: false; message: string };

/** The items as written: split at commas, each piece at whitespace. An empty piece (`a,,b`, a
 * trailing comma) is an error, null here; a value with no separator is one item. */
export function splitPrefixList(text: string): string[] | null {
  const trimmed = text.trim();
  if (!/[\s,]/.test(trimmed)) return [trimmed];
  const items: string[] = [];
  for (const piece of trimmed.split(',')) {
    const words = piece.split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) return null;
    items.push(...words);
  }
  return items;
}

export function toIpPrefix(text: string): { ok: true; value: IpPrefix } | { ok: false; reason: string } {
  const r = normalizePrefix(text);
  if (!r.ok) return r;
  const slash = r.prefix.lastIndexOf('/');
  return {
    ok: true,
    value: { prefix: r.prefix, family: r.family, address: r.prefix.slice(0, slash), prefixLength: Number(r.prefix.slice(slash + 1)) },
  };
}

export function parsePrefixList(text: string): PrefixListResult {
  const items = splitPrefixList(text);
  if (items === null) {
    return {
      ok: false,
      message: 'has an empty item: write the prefixes separated by commas or spaces, e.g. 10.52.12.1/32, 10.52.12.2/32 2001:db8:52::1/128',
    };
  }
  if (items.length === 1) {
    const r = toIpPrefix(items[0] ?? '');
    return r.ok ? { ok: true, value: [r.value] } : { ok: false, message: `not a valid IP prefix: ${r.reason}` };
  }
  const value: IpPrefix[] = [];
  for (const [i, item] of items.entries()) {
    const r = toIpPrefix(item);
    if (!r.ok) return { ok: false, message: `not a valid IP prefix (item ${i + 1} of ${items.length}): ${r.reason}` };
    value.push(r.value);
  }
  return { ok: true, value };
}
