import type { ServiceConfig } from '@ahc/config';
import { INITIAL_COUNTERS } from '@ahc/protocol';
import type { CheckCounters, Family, ResultMessage } from '@ahc/protocol';
import { NO_EXPORTED_VALUES } from './exported-values';
import type { ExportedValues } from './exported-values';

/** What the supervisor knows of one service. The decided state and counters live here, not in
 * the worker, so a restarted worker continues without a transition of its own. */
export interface ServiceRecord {
  readonly config: ServiceConfig;
  counters: CheckCounters;
  /** Whether the prefix belongs in the BIRD file: decided by checks, by on_disabled, or (until
   * the first decision) by whether it was in the file at startup. */
  advertise: boolean;
  lastResult: ResultMessage | null;
  timeouts: number;
  checks: number;
  /** The watchdog gave up on its worker for now (restarts continue with backoff). */
  workerFailed: boolean;
  /** The values of the Prometheus textfile (exported-values.ts). */
  exported: ExportedValues;
}

export class ServiceRegistry {
  readonly #records = new Map<string, ServiceRecord>();

  constructor(services: readonly ServiceConfig[]) {
    for (const config of services) this.add(config);
  }

  add(config: ServiceConfig, from?: ServiceRecord): ServiceRecord {
    const record: ServiceRecord = {
      config,
      counters: INITIAL_COUNTERS,
      advertise: config.disabled ? config.onDisabled === 'advertise' : false,
      lastResult: null,
      timeouts: 0,
      checks: 0,
      workerFailed: false,
      exported: NO_EXPORTED_VALUES,
    };
    if (from !== undefined && !config.disabled && from.config.prefix === config.prefix) {
      // A changed check keeps its decided state (no flap) and counts rise/fail anew.
      record.counters = { state: from.counters.state, rise: 0, fail: 0 };
      record.advertise = from.advertise;
      record.exported = from.exported;
    }
    this.#records.set(config.name, record);
    return record;
  }

  remove(name: string): void {
    this.#records.delete(name);
  }

  get(name: string): ServiceRecord | undefined {
    return this.#records.get(name);
  }

  all(): ServiceRecord[] {
    return [...this.#records.values()];
  }

  ofFamily(family: Family): ServiceRecord[] {
    return this.all().filter((r) => r.config.family === family);
  }

  /** The prefixes that belong in the family's BIRD file now. */
  desired(family: Family): Set<string> {
    return new Set(this.ofFamily(family).filter((r) => r.advertise).map((r) => r.config.prefix));
  }

  configured(family: Family): Set<string> {
    return new Set(this.ofFamily(family).map((r) => r.config.prefix));
  }
}
