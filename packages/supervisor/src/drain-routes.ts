import { prefixesText } from '@ahc/protocol';
import type { ServiceConfig } from '@ahc/config';
import type { Logger } from '@ahc/logging';
import { customActionOf } from './bird-io';
import type { CustomAction } from './bird-io';
import type { Drains } from './drains';
import type { ServiceRegistry, ServiceView } from './service-registry';

export interface DrainRoutesDeps {
  readonly drains: Drains;
  readonly registry: ServiceRegistry;
  /** The supervisor's one way of queueing a service's prefixes: one item per prefix, to its family's reconciler. */
  readonly queue: (config: ServiceConfig, action: 'add' | 'delete', custom?: CustomAction) => void;
  /** The service's log column. */
  readonly serviceLog: (name: string) => Logger;
}

/**
 * Turns changes of the drains into route changes (docs/design.md, "Drains and the control
 * socket"): a service drained now has its prefix withdrawn, one undrained has it announced
 * again if its check (or on_disabled) wants it. Each is a queue item of its family's
 * reconciler, the path a DOWN takes, so drains that come together share one write and one
 * reconfigure. The desired set itself leaves drained services out (the registry asks Drains);
 * this only tells the reconcilers, and logs, when that changes.
 */
export class DrainRoutes {
  /** The services whose drain the reconcilers were last told (see apply). */
  #told = new Set<string>();
  /** When and why each drained service's drain began (for the undrain's log record). */
  readonly #began = new Map<string, { atMs: number; why: string }>();

  constructor(private readonly deps: DrainRoutesDeps) {}

  /** The configured services drained now. */
  drainedNow(): Set<string> {
    return new Set(
      this.deps.registry
        .all()
        .map((r) => r.config.name)
        .filter((n) => this.deps.drains.isDrained(n)),
    );
  }

  /** Take the drains as they are as told, without telling anyone: a step that reads the desired set is coming anyway (start-up, reload). */
  settle(): void {
    this.#told = this.drainedNow();
  }

  /**
   * Run `change` (a change of the drains) and return the configured services whose drained state
   * it turned, in either direction. With `apply`, the reconcilers are told at once.
   */
  change(change: () => void, apply: boolean): string[] {
    const before = this.drainedNow();
    change();
    const after = this.drainedNow();
    if (apply) this.apply();
    return [...new Set([...before, ...after])].filter((n) => before.has(n) !== after.has(n));
  }

  /** Tell the reconcilers what changed in the drains since they were last told. */
  apply(): void {
    const now = this.drainedNow();
    for (const name of new Set([...now, ...this.#told])) {
      if (now.has(name) === this.#told.has(name)) continue;
      const view = this.deps.registry.get(name);
      if (view !== undefined) this.#request(view, now.has(name));
    }
    this.#told = now;
  }

  #request(view: ServiceView, drained: boolean): void {
    const c = view.config;
    const log = this.deps.serviceLog(c.name);
    if (drained) {
      const why = this.deps.drains
        .drainsOf(c.name)
        .map((d) => `${d.source === 'file' ? 'drain file' : 'drain command'}${d.all ? ' (all services)' : ''}: ${d.reason}`)
        .join('; ');
      this.#began.set(c.name, { atMs: Date.now(), why });
      log.info(
        `drained (${why}): ${prefixesText(c.prefixes)} is withdrawn and stays so whatever the check says, until undrained; the check keeps running`,
      );
    } else {
      const began = this.#began.get(c.name);
      this.#began.delete(c.name);
      const was = began === undefined ? '' : ` after ${((Date.now() - began.atMs) / 1000).toFixed(1)} s (${began.why})`;
      const state = view.counters.state.toUpperCase();
      log.info(
        view.advertise
          ? `undrained${was}: ${prefixesText(c.prefixes)} is announced again (the check says ${state})`
          : `undrained${was}: ${prefixesText(c.prefixes)} stays withdrawn until the check decides UP (now ${state})`,
      );
    }
    // Nothing moves for prefixes its check does not want anyway.
    if (!view.advertise) return;
    this.deps.queue(c, drained ? 'delete' : 'add', customActionOf(c, drained ? 'down' : 'up'));
  }
}
