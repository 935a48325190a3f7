import { ERR } from '@ahc/errors';
import type { CompiledConfig } from '@ahc/config';
import type { Logger } from '@ahc/logging';
import { NOTHING_RESTORED, StateStore, planRestore } from '@ahc/supervisor';
import type { RestorePlan, StateDrainEntry, StopOutcome, Supervisor } from '@ahc/supervisor';
import { VERSION } from './version';

/** The state directory, opened and read, and what was restored from it (docs/operations.md, "State across restarts"). */
export interface StateSetup {
  readonly store: StateStore;
  readonly plan: RestorePlan;
}

/**
 * Half the age a state may have, so a daemon that dies leaves one young enough; at most once a
 * minute (and once a minute with state_max_age = 0, which restores nothing).
 */
export function refreshMs(maxAgeMs: number): number {
  return maxAgeMs === 0 ? 60_000 : Math.min(60_000, Math.max(1_000, maxAgeMs / 2));
}

/**
 * Before the BIRD files are read: open `state_dir`, read the state file and start the services it
 * allows in their last decided state (ServiceRegistry.restore). Never throws: a missing, unreadable
 * or foreign file, or a directory that cannot be made, is logged and the daemon starts as without one.
 */
export async function restoreState(config: CompiledConfig, supervisor: Supervisor, log: Logger): Promise<StateSetup> {
  const { dir, maxAgeMs } = config.daemon.state;
  const store = new StateStore({
    dir,
    log,
    version: VERSION,
    pidfile: config.daemon.pidfile,
    services: () => supervisor.registry.all(),
    refreshMs: refreshMs(maxAgeMs),
  });
  const file = await store.open();
  if (file === null) return { store, plan: NOTHING_RESTORED };
  const { plan, refused } = planRestore(file, config.services, { nowMs: Date.now(), maxAgeMs, pidfile: config.daemon.pidfile });
  if (refused !== null) {
    log.warning(`${ERR.AHC_STATE_FILE}: not restoring the state file ${store.path}: ${refused}; it is replaced at the next write`);
    return { store, plan };
  }
  supervisor.registry.restore(plan.states);
  const ups = [...plan.states].filter(([, s]) => s === 'up').map(([n]) => n);
  const downs = [...plan.states].filter(([, s]) => s === 'down').map(([n]) => n);
  const age = Math.round((Date.now() - Date.parse(file.savedAt)) / 1000);
  const from = `${store.path} (written ${age} s ago by pid ${file.pid})`;
  if (plan.states.size === 0) log.info(`restored no decided state from ${from}: every service starts UNKNOWN`);
  else
    log.info(
      `restored the last decided state of ${plan.states.size} service(s) from ${from}: ` +
        `UP ${ups.length > 0 ? ups.join(', ') : '-'}; DOWN ${downs.length > 0 ? downs.join(', ') : '-'}; their checks go on from there`,
    );
  for (const line of plan.skipped) log.info(`not restored: ${line}`);
  return { store, plan };
}

/**
 * The command drains of the state file, put back before the first BIRD write (drains made by the
 * drain file are not saved: the file itself is their record). Logged: what came back, and what
 * was left out (a service no longer configured, a malformed entry).
 */
export function restoreCommandDrains(saved: Readonly<Record<string, StateDrainEntry>>, supervisor: Supervisor, log: Logger): void {
  const commands = Object.fromEntries(
    Object.entries(saved)
      .filter(([, d]) => d.source === 'command')
      .map(([key, d]) => [key, { reason: d.reason, since: d.since }]),
  );
  if (Object.keys(commands).length === 0) return;
  const { restored, ignored } = supervisor.restoreDrains(commands);
  const named = (k: string): string => (k === '*' ? 'all services' : k);
  if (restored.length > 0)
    log.info(`restored the drains of ${restored.map(named).join(', ')} from the state file: they stay drained until undrained`);
  for (const why of ignored) log.warning(`${ERR.AHC_STATE_FILE}: a saved drain is not restored: ${why}`);
}

/** The command drains as the state file keeps them. */
export function commandDrainsToSave(supervisor: Supervisor): Record<string, StateDrainEntry> {
  return Object.fromEntries(
    Object.entries(supervisor.drains.snapshot()).map(([key, d]) => [key, { reason: d.reason, since: d.since, source: 'command' as const }]),
  );
}

/** The records of a withdraw at shutdown (docs/log-records.md, "Withdraw on shutdown"). */
export function logStopOutcome(outcome: StopOutcome, timeoutMs: number, log: Logger): void {
  if (outcome.withdraw === 'not-asked') return;
  if (outcome.withdraw === 'applied' && outcome.prefixes.length === 0) {
    log.info('withdraw_on_shutdown: nothing was advertised');
    return;
  }
  const what = `${outcome.prefixes.length} prefix(es)${outcome.prefixes.length > 0 ? ` (${outcome.prefixes.join(', ')})` : ''}`;
  switch (outcome.withdraw) {
    case 'applied':
      log.info(`withdraw_on_shutdown: withdrew ${what}; BIRD applied it in ${outcome.ms} ms`);
      return;
    case 'failed':
    case 'timed-out':
      log.error(
        `withdraw_on_shutdown: BIRD did not confirm the withdraw of ${what} within ${timeoutMs / 1000} s` +
          `${outcome.lastError === null ? '' : ` (${outcome.lastError})`}; exiting anyway`,
      );
      return;
    case 'cut-short':
      log.warning(
        `withdraw_on_shutdown: stopped waiting for BIRD after ${outcome.ms} ms (second signal); the withdraw of ${what} may not be applied`,
      );
      return;
  }
}
