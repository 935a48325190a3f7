/**
 * The one owner of drains (docs/operations.md, "Draining a service"): which services an
 * operator took out of service, why and since when. A drained service's prefixes are withdrawn
 * whatever its check decides; its check keeps running. Two sources, kept apart:
 *
 * - `command`: `anycast-healthchecker drain` over the control socket; a plain snapshot of these
 *   is what gets persisted (`snapshot()` / `restore()`).
 * - `file`: the drain file (`drain_file`), which persists itself: it is never in the snapshot.
 *
 * Either may drain every service (`'*'`, `drain --all`, an empty drain file). Pure: no timers,
 * no I/O; the supervisor applies a change to the routes (supervisor.ts).
 */

/** Where a drain comes from. */
export type DrainSource = 'command' | 'file';

/** The key of a drain of every service. */
export const ALL_SERVICES = '*';

export interface DrainEntry {
  readonly reason: string;
  /** When it began (ISO 8601). */
  readonly since: string;
}

/** One drain that holds a service, as status and metrics show it. */
export interface Drain extends DrainEntry {
  readonly source: DrainSource;
  /** It drains every service (`drain --all`, or a drain file without names). */
  readonly all: boolean;
}

/** The command drains, by service name or `'*'`: plain data, for the state directory. */
export type DrainSnapshot = Readonly<Record<string, DrainEntry>>;

/** What the drain file says: absent (no drain), every service, or the named ones. */
export type DrainFileContent =
  { readonly kind: 'absent' } | { readonly kind: 'all' } | { readonly kind: 'services'; readonly names: readonly string[] };

export interface RestoreResult {
  /** Keys restored (service names or `'*'`). */
  readonly restored: readonly string[];
  /** What was left out, and why (for one log line each). */
  readonly ignored: readonly string[];
}

function isEntry(value: unknown): value is DrainEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.reason === 'string' && typeof v.since === 'string' && !Number.isNaN(Date.parse(v.since));
}

export class Drains {
  readonly #command = new Map<string, DrainEntry>();
  readonly #file = new Map<string, DrainEntry>();
  readonly #listeners = new Set<(snapshot: DrainSnapshot) => void>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  /**
   * Be told the new snapshot after each change of the command drains (drain, undrain, restore,
   * forget), e.g. to write it to the state directory. Returns the unsubscribe function.
   */
  onCommandChange(listener: (snapshot: DrainSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(changed: boolean): void {
    if (!changed) return;
    const snapshot = this.snapshot();
    for (const l of this.#listeners) l(snapshot);
  }

  /**
   * Drain the named services, or all (`'*'`), by command. A service already drained by command
   * keeps its first reason and time. Returns the keys that were not drained by command before.
   */
  drain(targets: readonly string[] | typeof ALL_SERVICES, reason: string): string[] {
    const keys = targets === ALL_SERVICES ? [ALL_SERVICES] : targets;
    const since = this.now().toISOString();
    const added: string[] = [];
    for (const key of keys) {
      if (this.#command.has(key)) continue;
      this.#command.set(key, { reason, since });
      added.push(key);
    }
    this.#changed(added.length > 0);
    return added;
  }

  /**
   * End command drains: of the named services, or every command drain (`'*'`: `--all` and each
   * service's own). The drain file is not touched (only removing the file ends its drains).
   * Returns the keys removed.
   */
  undrain(targets: readonly string[] | typeof ALL_SERVICES): string[] {
    const removed = targets === ALL_SERVICES ? [...this.#command.keys()] : targets.filter((key) => this.#command.has(key));
    for (const key of removed) this.#command.delete(key);
    this.#changed(removed.length > 0);
    return removed;
  }

  /**
   * The drain file's content now. A name (or `all`) that was already in the file keeps its time;
   * new ones start now, or at `since` (the file's modification time when the daemon starts).
   */
  setFile(content: DrainFileContent, reason: string, since?: Date): void {
    const keys = content.kind === 'absent' ? [] : content.kind === 'all' ? [ALL_SERVICES] : content.names;
    const start = (since ?? this.now()).toISOString();
    const next = new Map<string, DrainEntry>();
    for (const key of keys) next.set(key, { reason, since: this.#file.get(key)?.since ?? start });
    this.#file.clear();
    for (const [k, v] of next) this.#file.set(k, v);
  }

  isDrained(service: string): boolean {
    return this.#command.has(service) || this.#command.has(ALL_SERVICES) || this.#file.has(service) || this.#file.has(ALL_SERVICES);
  }

  /** Every drain that holds the service: its own and `--all` by command, then the drain file's. */
  drainsOf(service: string): Drain[] {
    const out: Drain[] = [];
    const add = (map: ReadonlyMap<string, DrainEntry>, source: DrainSource): void => {
      for (const key of [service, ALL_SERVICES]) {
        const e = map.get(key);
        if (e !== undefined) out.push({ ...e, source, all: key === ALL_SERVICES });
      }
    };
    add(this.#command, 'command');
    add(this.#file, 'file');
    return out;
  }

  /** The names the drain file holds now (`'*'` for all), for warnings about unknown ones. */
  fileKeys(): string[] {
    return [...this.#file.keys()];
  }

  /** The command drains as plain data, for persistence (the drain file is not in it). */
  snapshot(): DrainSnapshot {
    return Object.fromEntries(this.#command);
  }

  /**
   * Put back command drains from a snapshot (at start, before the first BIRD write). Entries
   * that are not `{reason, since}`, or name a service `known` rejects, are left out and named in
   * `ignored`; drains already there are kept. `'*'` is always known.
   */
  restore(snapshot: unknown, known: (service: string) => boolean): RestoreResult {
    const restored: string[] = [];
    const ignored: string[] = [];
    if (typeof snapshot !== 'object' || snapshot === null || Array.isArray(snapshot)) {
      return { restored, ignored: ['the saved drains are not an object'] };
    }
    for (const [key, value] of Object.entries(snapshot as Record<string, unknown>)) {
      if (!isEntry(value)) ignored.push(`${key}: not {reason, since}`);
      else if (key !== ALL_SERVICES && !known(key)) ignored.push(`${key}: not a configured service`);
      else if (!this.#command.has(key)) {
        this.#command.set(key, { reason: value.reason, since: new Date(value.since).toISOString() });
        restored.push(key);
      }
    }
    this.#changed(restored.length > 0);
    return { restored, ignored };
  }

  /** Reload: a service no longer configured loses its command drain (it would hold nothing). */
  forget(service: string): boolean {
    const had = this.#command.delete(service);
    this.#changed(had);
    return had;
  }
}
