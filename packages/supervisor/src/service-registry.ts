import type { ServiceConfig } from '@ahc/config';
import { INITIAL_COUNTERS } from '@ahc/protocol';
import type { CheckCounters, Family, ResultMessage } from '@ahc/protocol';
import { NO_EXPORTED_VALUES, exportResult } from './exported-values';
import type { ExportedValues } from './exported-values';

/**
 * What the supervisor knows of one service, as everyone but the registry sees it: a value that
 * never changes (the registry replaces it at every change), so a snapshot stays as it was taken.
 * Worker failure is not here: it is the check host's (ThreadInfo.state 'failed'), see
 * docs/design.md, "The data path, from config to BIRD".
 */
export interface ServiceView {
  readonly config: ServiceConfig;
  /** The decided state and rise/fall counts; a restarted worker continues from them. */
  readonly counters: CheckCounters;
  /** Whether the prefix belongs in the BIRD file: decided by checks, by on_disabled, or (until
   * the first decision) by whether it was in the file at startup. */
  readonly advertise: boolean;
  /**
   * Start-up, until the first decision: which of its prefixes the BIRD files had (each family's
   * reconciler adopts its own file), so a service whose files disagree keeps each prefix as it
   * was instead of moving some; null once anything decided (then `advertise` moves them all).
   */
  readonly held: ReadonlySet<string> | null;
  readonly lastResult: ResultMessage | null;
  readonly timeouts: number;
  readonly checks: number;
  /** The values of the Prometheus textfile (exported-values.ts). */
  readonly exported: ExportedValues;
}

/** The same prefixes, in any order: a list written in another order moves no route on reload. */
function samePrefixes(a: ServiceConfig, b: ServiceConfig): boolean {
  const mine = new Set(a.prefixes.map((p) => p.prefix));
  return mine.size === b.prefixes.length && b.prefixes.every((p) => mine.has(p.prefix));
}

function fresh(config: ServiceConfig): ServiceView {
  return {
    config,
    counters: INITIAL_COUNTERS,
    advertise: config.disabled ? config.onDisabled === 'advertise' : false,
    held: null,
    lastResult: null,
    timeouts: 0,
    checks: 0,
    exported: NO_EXPORTED_VALUES,
  };
}

/**
 * The one owner of every fact about a service: the decided state and counters (so a restarted
 * worker continues without a transition of its own), whether its prefix is advertised, the last
 * result and the exported values. Each change has a named method; everyone else reads views.
 */
export class ServiceRegistry {
  readonly #records = new Map<string, ServiceView>();
  /** Services started from the state file's last decided state (state-restore.ts), until reload replaces them. */
  readonly #restored = new Set<string>();
  #onDecided: () => void = () => undefined;

  /** `withheld`: services whose prefixes stay out of the desired set whatever their state (drains, drains.ts). */
  constructor(
    services: readonly ServiceConfig[],
    private readonly withheld: (name: string) => boolean = () => false,
  ) {
    for (const config of services) this.add(config);
  }

  get(name: string): ServiceView | undefined {
    return this.#records.get(name);
  }

  all(): readonly ServiceView[] {
    return [...this.#records.values()];
  }

  ofFamily(family: Family): readonly ServiceView[] {
    return this.all().filter((r) => r.config.prefixes.some((p) => p.family === family));
  }

  /** The counters a (re)started worker continues from; UNKNOWN for a service not configured. */
  counters(name: string): CheckCounters {
    return this.#records.get(name)?.counters ?? { state: 'unknown', rise: 0, fail: 0 };
  }

  /** The current prefixes of a service (none when it is not configured). */
  prefixesOf(name: string): readonly string[] {
    return this.#records.get(name)?.config.prefixes.map((p) => p.prefix) ?? [];
  }

  /** The prefixes that belong in the family's BIRD file now (the dummy aside): advertised and not drained. */
  desired(family: Family): Set<string> {
    const out = new Set<string>();
    for (const r of this.ofFamily(family)) {
      if (this.withheld(r.config.name)) continue;
      for (const { prefix, family: f } of r.config.prefixes) {
        if (f === family && (r.held === null ? r.advertise : r.held.has(prefix))) out.add(prefix);
      }
    }
    return out;
  }

  configured(family: Family): Set<string> {
    return new Set(this.ofFamily(family).flatMap((r) => r.config.prefixes.filter((p) => p.family === family).map((p) => p.prefix)));
  }

  /** Called after every change of a decided state (or of the set of services): the state file's cue. */
  onDecided(listener: () => void): void {
    this.#onDecided = listener;
  }

  /** Reload: a service that was not configured. */
  add(config: ServiceConfig): ServiceView {
    const view = fresh(config);
    this.#records.set(config.name, view);
    this.#onDecided();
    return view;
  }

  /**
   * Start-up, before the BIRD files are read: these enabled checks start in their last decided
   * state (docs/operations.md, "State across restarts"), UP with its rise count full, DOWN with
   * its fail count full, exactly as a service that has been in that state for a while; the BIRD
   * file's content does not override it (adoptStartupFile). The checks then go on from there.
   */
  restore(states: ReadonlyMap<string, 'up' | 'down'>): void {
    for (const [name, state] of states) {
      const r = this.#records.get(name);
      if (r === undefined || r.config.disabled) continue;
      const counters: CheckCounters = state === 'up' ? { state, rise: r.config.rise, fail: 0 } : { state, rise: 0, fail: r.config.fail };
      this.#update(r, { counters, advertise: state === 'up', held: null });
      this.#restored.add(name);
    }
  }

  /** Whether the service started from the state file (status and tests). */
  wasRestored(name: string): boolean {
    return this.#restored.has(name);
  }

  /**
   * withdraw_on_shutdown: nothing is advertised any more. The decided states stay as they are
   * (the state file keeps them). Returns the services whose prefix was advertised.
   */
  withdrawAllForShutdown(): ServiceView[] {
    const advertised = this.all().filter((r) => r.advertise);
    for (const r of advertised) this.#update(r, { advertise: false, held: null });
    return advertised;
  }

  /**
   * Reload: a changed service. An enabled check with the same prefixes (in any order) keeps its decided state (no
   * flap), whether it is advertised and its exported values, and counts rise/fail anew.
   */
  replaceConfig(config: ServiceConfig): ServiceView {
    const from = this.#records.get(config.name);
    const base = fresh(config);
    const view =
      from !== undefined && !config.disabled && samePrefixes(from.config, config)
        ? {
            ...base,
            counters: { state: from.counters.state, rise: 0, fail: 0 },
            advertise: from.advertise,
            held: from.held,
            exported: from.exported,
          }
        : base;
    this.#records.set(config.name, view);
    this.#restored.delete(config.name);
    this.#onDecided();
    return view;
  }

  /** Reload: a service that is no longer configured. */
  remove(name: string): void {
    this.#records.delete(name);
    this.#restored.delete(name);
    this.#onDecided();
  }

  /**
   * Start-up: every prefix of the family stays as the file has it, until its service decides. A
   * service counts as advertised while any of its prefixes is (the only case for a lone prefix).
   * Services restored from the state file keep their restored decision instead.
   */
  adoptStartupFile(family: Family, prefixesInFile: ReadonlySet<string>): void {
    for (const r of this.ofFamily(family)) {
      if (this.#restored.has(r.config.name)) continue;
      const held = new Set([...(r.held ?? [])].filter((p) => !r.config.prefixes.some((x) => x.prefix === p && x.family === family)));
      for (const { prefix, family: f } of r.config.prefixes) if (f === family && prefixesInFile.has(prefix)) held.add(prefix);
      this.#update(r, { advertise: held.size > 0, held });
    }
  }

  /** A disabled check's decision (on_disabled), applied once at start-up. */
  applyDisabled(name: string): ServiceView | undefined {
    const r = this.#records.get(name);
    return r === undefined ? undefined : this.#update(r, { advertise: r.config.onDisabled === 'advertise', held: null });
  }

  /** A check decided (a transition): its state and counters, and whether it is advertised. */
  decide(name: string, state: 'up' | 'down', counters: CheckCounters): ServiceView | undefined {
    const r = this.#records.get(name);
    return r === undefined ? undefined : this.#update(r, { counters, advertise: state === 'up', held: null });
  }

  /** A decision that changes no route (its family has no BIRD file): only the counters. */
  updateCounters(name: string, counters: CheckCounters): void {
    const r = this.#records.get(name);
    if (r !== undefined) this.#update(r, { counters });
  }

  /** One check's result: counters, counts and the exported values (docs/metrics.md). */
  recordResult(name: string, result: ResultMessage, nowSeconds: number): void {
    const r = this.#records.get(name);
    if (r === undefined) return;
    this.#update(r, {
      // The counts, not the decided state: only a transition decides. A worker that dies between
      // a result and its transition is restarted with these counters, so its next check emits
      // the transition again instead of continuing silently in a state nobody applied.
      counters: { ...result.counters, state: r.counters.state },
      lastResult: result,
      checks: r.checks + 1,
      timeouts: result.timedOut ? r.timeouts + 1 : r.timeouts,
      exported: exportResult(r.exported, result, r.config, nowSeconds),
    });
  }

  /**
   * on_worker_failure = withdraw: start over from UNKNOWN, so the check's next rise advertises it
   * again. True when the prefix was advertised (the reconciler has work to do).
   */
  withdrawForWorkerFailure(name: string): boolean {
    const r = this.#records.get(name);
    if (r === undefined) return false;
    this.#update(r, { counters: { state: 'unknown', rise: 0, fail: 0 }, advertise: false, held: null });
    return r.advertise;
  }

  #update(r: ServiceView, changes: Partial<ServiceView>): ServiceView {
    const view: ServiceView = { ...r, ...changes };
    this.#records.set(r.config.name, view);
    if (view.counters.state !== r.counters.state) this.#onDecided();
    return view;
  }
}
