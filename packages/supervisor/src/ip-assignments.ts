import { networkKey, onInterface } from '@ahc/checks';
import type { Family, IpPrefix } from '@ahc/protocol';
import type { AddressDiff, AddressEntry, AddressTable } from './address-lines';
import { entryKey } from './address-lines';

interface Tracked {
  readonly name: string;
  readonly iface: string;
  readonly family: Family;
  readonly prefixLength: number;
  /** The service's network as `networkKey` writes it, computed once. */
  readonly key: string;
  assigned: boolean;
}

/**
 * For each service with the IP check on: is an address of each of its prefixes on its interface
 * (a service with several is assigned only while all are), per the
 * address table (docs/design.md, "Address checks: one kernel subscription"). Until the table has
 * had real data the answer is null (the workers check for themselves); afterwards it changes only
 * with the table.
 *
 * Cost: the services are indexed by their network key, and the table's addresses by their key
 * for each prefix length some service uses, so an address event costs one map lookup per such
 * length (usually /32 and /128), whatever the number of services or addresses; the same rule as
 * `inPrefix` (the keys agree with it, packages/checks/test/ip-assignment.test.ts).
 */
export class IpAssignments {
  /** Each service's prefixes, one Tracked each. */
  readonly #services = new Map<string, readonly Tracked[]>();
  /** family, then prefix length, then network key: services. */
  readonly #byKey = new Map<Family, Map<number, Map<string, Set<Tracked>>>>();
  /** family, then prefix length, then network key: table entries (by entryKey). Built per length in use. */
  readonly #entries = new Map<Family, Map<number, Map<string, Map<string, AddressEntry>>>>();
  #known = false;

  constructor(private readonly table: AddressTable) {}

  /** Whether the table holds real data (a dump succeeded). */
  get known(): boolean {
    return this.#known;
  }

  track(name: string, iface: string, prefixes: readonly IpPrefix[]): void {
    this.untrack(name);
    const tracked: Tracked[] = [];
    for (const { address, prefixLength, family } of prefixes) {
      const key = networkKey(address, prefixLength, family);
      if (key === null) continue; // the configuration's prefix parser let no such address through
      const t: Tracked = { name, iface, family, prefixLength, key, assigned: false };
      tracked.push(t);
      setOf(mapOf(mapOf(this.#byKey, family), prefixLength), key).add(t);
      if (this.#known) {
        this.#ensureLength(family, prefixLength);
        t.assigned = this.#holds(t);
      }
    }
    if (tracked.length > 0) this.#services.set(name, tracked);
  }

  untrack(name: string): void {
    const all = this.#services.get(name);
    if (all === undefined) return;
    this.#services.delete(name);
    for (const t of all) {
      const byNet = this.#byKey.get(t.family)?.get(t.prefixLength);
      const set = byNet?.get(t.key);
      set?.delete(t);
      if (set?.size === 0) byNet?.delete(t.key);
    }
  }

  /** Every prefix of the service on its interface; null: not known (no data yet, or not tracked). */
  get(name: string): boolean | null {
    if (!this.#known) return null;
    const all = this.#services.get(name);
    return all === undefined ? null : all.every((t) => t.assigned);
  }

  /** The table now holds real data: every service gets its value. Returns the services told. */
  markKnown(): string[] {
    if (this.#known) return [];
    this.#known = true;
    this.#entries.clear();
    for (const [family, byLength] of this.#byKey) for (const length of byLength.keys()) this.#ensureLength(family, length);
    for (const all of this.#services.values()) for (const t of all) t.assigned = this.#holds(t);
    return [...this.#services.keys()];
  }

  /** The table changed by `diff` (already applied to it): the services whose value changed. */
  apply(diff: AddressDiff): string[] {
    if (!this.#known || (diff.added.length === 0 && diff.removed.length === 0)) return [];
    const touched = new Set<Tracked>();
    for (const [entries, add] of [
      [diff.removed, false],
      [diff.added, true],
    ] as const) {
      for (const e of entries) {
        const byLength = this.#entries.get(e.family);
        if (byLength === undefined) continue;
        for (const [length, byNet] of byLength) {
          const key = networkKey(e.address, length, e.family);
          if (key === null) continue;
          if (add) mapOf(byNet, key).set(entryKey(e), e);
          else {
            const m = byNet.get(key);
            m?.delete(entryKey(e));
            if (m?.size === 0) byNet.delete(key);
          }
          for (const t of this.#byKey.get(e.family)?.get(length)?.get(key) ?? []) touched.add(t);
        }
      }
    }
    const changed = new Set<string>();
    for (const t of touched) {
      const now = this.#holds(t);
      if (now === t.assigned) continue;
      const before = this.get(t.name);
      t.assigned = now;
      if (this.get(t.name) !== before) changed.add(t.name);
    }
    return [...changed];
  }

  /** Index the table's entries by their network key for one prefix length, once. */
  #ensureLength(family: Family, length: number): void {
    const byLength = mapOf(this.#entries, family);
    if (byLength.has(length)) return;
    const byNet = new Map<string, Map<string, AddressEntry>>();
    byLength.set(length, byNet);
    for (const e of this.table.entries()) {
      if (e.family !== family) continue;
      const key = networkKey(e.address, length, family);
      if (key !== null) mapOf(byNet, key).set(entryKey(e), e);
    }
  }

  #holds(t: Tracked): boolean {
    const candidates = this.#entries.get(t.family)?.get(t.prefixLength)?.get(t.key);
    if (candidates === undefined) return false;
    for (const e of candidates.values()) if (!e.dadFailed && onInterface(t.iface, e.device, e.label)) return true;
    return false;
  }
}

function mapOf<K, K2, V>(outer: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

function setOf<K, V>(outer: Map<K, Set<V>>, key: K): Set<V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Set();
    outer.set(key, inner);
  }
  return inner;
}
