import type { Family } from '@ahc/protocol';
import type { AddressWatchSnapshot } from './address-watch';
import type { CheckHost, ThreadInfo, WorkerState } from './check-host';
import type { PrefixReconciler, ReconcilerSnapshot } from './prefix-reconciler';
import type { ServiceRegistry, ServiceView } from './service-registry';
import type { Drain, Drains } from './drains';

/** The worker of one service as the check host reports it ('disabled': no worker at all). */
export interface WorkerSnapshot {
  readonly state: WorkerState | 'disabled';
  readonly threadId: number | null;
  readonly lastHeartbeatAgeMs: number | null;
  readonly restarts: number;
  readonly lastExit: string | null;
  /** How its threads ended so far, by kind. */
  readonly exits: Readonly<Record<string, number>>;
}

export interface ServiceSnapshot {
  /** The registry's view: config, counters, advertise, last result, exported values. */
  readonly view: ServiceView;
  readonly worker: WorkerSnapshot;
  /** The drains that hold it (drains.ts); empty: not drained. */
  readonly drains?: readonly Drain[];
}

export interface FamilySnapshot extends ReconcilerSnapshot {
  readonly family: Family;
  /** What the service states ask for, dummy first. */
  readonly desired: readonly string[];
}

/**
 * What the core knows at one moment, as plain data and without wire formats: the status reply
 * (apps/anycast-healthchecker/src/status-reply.ts) and the metrics are rendered from it.
 */
export interface CoreSnapshot {
  readonly services: readonly ServiceSnapshot[];
  readonly families: readonly FamilySnapshot[];
  /** Threads that run now. */
  readonly threads: number;
  /** Where the interface checks' answers come from; null: no address watch (each check reads getifaddrs). */
  readonly addresses: AddressWatchSnapshot | null;
}

function workerOf(view: ServiceView, threads: readonly ThreadInfo[]): WorkerSnapshot {
  const thread = threads.find((t) => t.services.includes(view.config.name));
  return {
    state: view.config.disabled ? 'disabled' : (thread?.state ?? 'stopped'),
    threadId: thread?.threadId ?? null,
    lastHeartbeatAgeMs: thread?.lastHeartbeatAgeMs ?? null,
    restarts: thread?.restarts ?? 0,
    lastExit: thread?.lastExit ?? null,
    exits: thread?.exits ?? {},
  };
}

export function coreSnapshot(
  registry: ServiceRegistry,
  reconcilers: ReadonlyMap<Family, PrefixReconciler>,
  host: CheckHost | null,
  addresses: AddressWatchSnapshot | null = null,
  drains: Drains | null = null,
): CoreSnapshot {
  const threads = host?.threads() ?? [];
  return {
    services: registry.all().map((view) => ({ view, worker: workerOf(view, threads), drains: drains?.drainsOf(view.config.name) ?? [] })),
    families: [...reconcilers].map(([family, r]) => ({ family, ...r.snapshot(), desired: [r.bird.dummy, ...registry.desired(family)] })),
    threads: host?.threadCount ?? 0,
    addresses,
  };
}
