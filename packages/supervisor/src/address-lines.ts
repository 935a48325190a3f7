import type { Family } from '@ahc/protocol';

/**
 * The lines of `ip -o address show` and `ip -o monitor address` (iproute2's one-line format), and
 * the table of addresses they describe. Pure: the process side is address-watch.ts
 * (docs/design.md, "Address checks: one kernel subscription").
 *
 *     3: veth0    inet 10.1.0.1/32 scope global veth0:1\       valid_lft forever preferred_lft forever
 *     Deleted 1: lo    inet6 2001:db8::1/128 scope global tentative \       valid_lft forever …
 */
export interface AddressEntry {
  readonly ifindex: number;
  /** The device name, without the `@ifN` / `@peer` suffix some versions print for veths. */
  readonly device: string;
  readonly family: Family;
  /** The local address, without its length. */
  readonly address: string;
  readonly prefixLength: number;
  /** IPv4 only: the address's label (`lo:1`, or the device name); null for IPv6. */
  readonly label: string | null;
  /** The kernel has given the address up (IPv6 duplicate address detection failed): not usable. */
  readonly dadFailed: boolean;
}

export type AddressLine =
  | { readonly kind: 'add'; readonly entry: AddressEntry }
  | { readonly kind: 'delete'; readonly entry: AddressEntry }
  /** A line that is not about an address we track (another family, a blank line). */
  | { readonly kind: 'ignore' };

/** Words iproute2 prints between `scope X` and the IPv4 label; anything else there is the label. */
const FLAG_WORDS: ReadonlySet<string> = new Set([
  'secondary',
  'temporary',
  'tentative',
  'deprecated',
  'home',
  'nodad',
  'optimistic',
  'dadfailed',
  'mngtmpaddr',
  'noprefixroute',
  'autojoin',
  'stable-privacy',
  'permanent',
  'dynamic',
]);

const IFINDEX = /^(\d+):$/;

/**
 * One line, or null when it is not in the format at all (garbage: the watcher stops trusting the
 * stream). Tolerates a `[ADDR]` or timestamp prefix, `Deleted`, and the `\` continuation marks.
 */
export function parseAddressLine(line: string): AddressLine | null {
  // `ip monitor` prefixes: `[ADDR]` (monitor all), `[2026-…]` with -ts, `Timestamp: …` lines with -t.
  const words = line
    .replace(/^(\s*\[[^\]]*\])+/, '')
    .replaceAll('\\', ' ')
    .trim()
    .split(/\s+/);
  if (words.length === 1 && words[0] === '') return { kind: 'ignore' };
  let i = 0;
  if (words[i] === 'Timestamp:') return { kind: 'ignore' };
  let kind: 'add' | 'delete' = 'add';
  if (words[i] === 'Deleted') {
    kind = 'delete';
    i += 1;
  }
  const index = IFINDEX.exec(words[i] ?? '');
  if (index === null) return null;
  const ifindex = Number(index[1]);
  const rawDevice = words[i + 1];
  const familyWord = words[i + 2];
  const local = words[i + 3];
  if (rawDevice === undefined || familyWord === undefined || local === undefined) return null;
  if (familyWord !== 'inet' && familyWord !== 'inet6') {
    // `link`/`mpls` and the like: not an IP address, but the line is in the format.
    return /^[a-z][a-z0-9]*$/.test(familyWord) ? { kind: 'ignore' } : null;
  }
  const family: Family = familyWord === 'inet' ? 4 : 6;
  const device = rawDevice.split('@')[0] ?? rawDevice;
  if (device === '') return null;
  let rest = words.slice(i + 4);
  let addressText = local;
  // `inet 10.0.0.1 peer 10.0.0.2/32`: the length belongs to the peer.
  if (!local.includes('/') && rest[0] === 'peer' && rest[1] !== undefined) {
    addressText = `${local}/${rest[1].split('/')[1] ?? (family === 4 ? '32' : '128')}`;
    rest = rest.slice(2);
  }
  const slash = addressText.indexOf('/');
  const address = slash < 0 ? addressText : addressText.slice(0, slash);
  const prefixLength = slash < 0 ? (family === 4 ? 32 : 128) : Number(addressText.slice(slash + 1));
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > (family === 4 ? 32 : 128)) return null;
  if (family === 4 ? !/^\d{1,3}(\.\d{1,3}){3}$/.test(address) : !/^[0-9a-f:.]+$/i.test(address) || !address.includes(':')) return null;
  let label: string | null = null;
  let dadFailed = false;
  const scope = rest.indexOf('scope');
  if (scope >= 0) {
    // After `scope X`: flags, then (IPv4) the label, then the lifetimes.
    for (let k = scope + 2; k < rest.length; k += 1) {
      const w = rest[k] ?? '';
      if (w === 'valid_lft' || w === 'preferred_lft') break;
      if (w === 'dadfailed') dadFailed = true;
      if (w === 'flags') {
        k += 1; // `flags 80`: flags this iproute2 has no word for
        continue;
      }
      if (family === 4 && !FLAG_WORDS.has(w)) label = w;
    }
  }
  if (family === 4) label ??= device;
  return { kind, entry: { ifindex, device, family, address, prefixLength, label, dadFailed } };
}

/** Splits a stream into lines, whatever its chunks' boundaries (a line may come in pieces). */
export class LineSplitter {
  #partial = '';

  push(chunk: string): string[] {
    const text = this.#partial + chunk;
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    return lines;
  }

  /** What is left at the end of the stream (an unterminated last line). */
  flush(): string[] {
    const rest = this.#partial;
    this.#partial = '';
    return rest === '' ? [] : [rest];
  }
}

export function entryKey(e: AddressEntry): string {
  return `${e.ifindex} ${e.address}/${e.prefixLength}`;
}

/** What changed in the table: entries gone (or replaced) and entries new (or their replacements). */
export interface AddressDiff {
  readonly removed: readonly AddressEntry[];
  readonly added: readonly AddressEntry[];
}

function sameEntry(a: AddressEntry, b: AddressEntry): boolean {
  return a.device === b.device && a.label === b.label && a.family === b.family && a.dadFailed === b.dadFailed;
}

/**
 * The addresses the kernel holds, keyed as the kernel keys them (interface index, address and
 * length). Events are set operations, so applying one twice, or one the dump already showed,
 * changes nothing.
 */
export class AddressTable {
  readonly #entries = new Map<string, AddressEntry>();

  get size(): number {
    return this.#entries.size;
  }

  entries(): IterableIterator<AddressEntry> {
    return this.#entries.values();
  }

  apply(line: AddressLine): AddressDiff {
    if (line.kind === 'ignore') return { removed: [], added: [] };
    const key = entryKey(line.entry);
    const old = this.#entries.get(key);
    if (line.kind === 'delete') {
      if (old === undefined) return { removed: [], added: [] };
      this.#entries.delete(key);
      return { removed: [old], added: [] };
    }
    if (old !== undefined && sameEntry(old, line.entry)) return { removed: [], added: [] };
    this.#entries.set(key, line.entry);
    return { removed: old === undefined ? [] : [old], added: [line.entry] };
  }

  /** A full dump replaces everything; the difference is what the dump taught. */
  replaceAll(entries: readonly AddressEntry[]): AddressDiff {
    const next = new Map<string, AddressEntry>();
    for (const e of entries) next.set(entryKey(e), e);
    const removed: AddressEntry[] = [];
    const added: AddressEntry[] = [];
    for (const [key, old] of this.#entries) {
      const now = next.get(key);
      if (now === undefined || !sameEntry(old, now)) removed.push(old);
    }
    for (const [key, now] of next) {
      const old = this.#entries.get(key);
      if (old === undefined || !sameEntry(old, now)) added.push(now);
    }
    this.#entries.clear();
    for (const [key, e] of next) this.#entries.set(key, e);
    return { removed, added };
  }
}

/** A whole dump's text: its entries, or null when a line is garbage (the dump is not trusted). */
export function parseDump(text: string): AddressEntry[] | null {
  const entries: AddressEntry[] = [];
  for (const line of text.split('\n')) {
    const parsed = parseAddressLine(line);
    if (parsed === null) return null;
    if (parsed.kind === 'add') entries.push(parsed.entry);
  }
  return entries;
}
