import { onInterface, prefixMatcher } from '@ahc/checks';
import type { Family } from '@ahc/protocol';
import type { AddressDiff, AddressEntry, AddressTable } from './address-lines';

interface Tracked {
  readonly iface: string;
  readonly family: Family;
  /** The service's prefix, built once (no parsing per event). */
  readonly inPrefix: (address: string) => boolean;
  assigned: boolean;
}

/**
 * For each service with the IP check on: is an address of its prefix on its interface, per the
 * address table (docs/design.md, "Address checks: one kernel subscription"). Until the table has
 * had real data the answer is null (the workers check for themselves); afterwards it changes only
 * with the table. Each change of the table costs one look per service of that family, and a
 * rescan of its interface only for a service that loses an address it matched.
 */
export class IpAssignments {
  readonly #services = new Map<string, Tracked>();
  #known = false;

  constructor(private readonly table: AddressTable) {}

  /** Whether the table holds real data (a dump succeeded). */
  get known(): boolean {
    return this.#known;
  }

  track(name: string, iface: string, address: string, prefixLength: number, family: Family): void {
    const t: Tracked = { iface, family, inPrefix: prefixMatcher(address, prefixLength, family), assigned: false };
    this.#services.set(name, t);
    if (this.#known) t.assigned = this.#scan(t);
  }

  untrack(name: string): void {
    this.#services.delete(name);
  }

  get(name: string): boolean | null {
    if (!this.#known) return null;
    return this.#services.get(name)?.assigned ?? null;
  }

  /** The table now holds real data: every service gets its value. Returns the services told. */
  markKnown(): string[] {
    if (this.#known) return [];
    this.#known = true;
    const told: string[] = [];
    for (const [name, t] of this.#services) {
      t.assigned = this.#scan(t);
      told.push(name);
    }
    return told;
  }

  /** The table changed by `diff`: the services whose value changed. */
  apply(diff: AddressDiff): string[] {
    if (!this.#known || (diff.added.length === 0 && diff.removed.length === 0)) return [];
    const changed: string[] = [];
    for (const [name, t] of this.#services) {
      const before = t.assigned;
      if (t.assigned && diff.removed.some((e) => this.#counts(t, e))) t.assigned = this.#scan(t);
      if (!t.assigned && diff.added.some((e) => this.#counts(t, e))) t.assigned = true;
      if (t.assigned !== before) changed.push(name);
    }
    return changed;
  }

  #counts(t: Tracked, e: AddressEntry): boolean {
    return e.family === t.family && !e.dadFailed && onInterface(t.iface, e.device, e.label) && t.inPrefix(e.address);
  }

  #scan(t: Tracked): boolean {
    for (const e of this.table.entries()) if (this.#counts(t, e)) return true;
    return false;
  }
}
