import type { ServiceConfig } from '@ahc/config';
import type { ServiceStateEntry, StateDrainEntry, StateFile } from './state-file';
import type { ServiceView } from './service-registry';

/**
 * What a daemon takes from the state file at start (docs/operations.md, "State across
 * restarts"), and what it writes into it. Pure: the clock and the file are the caller's.
 */

export interface RestoreContext {
  /** Wall clock now (ms since the epoch): the file's times are wall-clock times of another process. */
  readonly nowMs: number;
  /** `state_max_age`: a state last confirmed longer ago than this is not restored. */
  readonly maxAgeMs: number;
  /** This daemon's pidfile: a file written by a daemon with another one is not ours. */
  readonly pidfile: string;
}

export interface RestorePlan {
  /** Services that start in their last decided state instead of UNKNOWN. */
  readonly states: ReadonlyMap<string, 'up' | 'down'>;
  /** The restored entries (their `since`/`seenAt` carry on until a check moves them). */
  readonly entries: ReadonlyMap<string, ServiceStateEntry>;
  /** Drains to apply before the first write of the BIRD files. */
  readonly drains: Readonly<Record<string, StateDrainEntry>>;
  /** One line per service that had an entry and is not restored, and why (for the log). */
  readonly skipped: readonly string[];
}

export const NOTHING_RESTORED: RestorePlan = Object.freeze({ states: new Map(), entries: new Map(), drains: {}, skipped: [] });

/** A wall clock that went back a little between two daemons (NTP slew) is not a reason to drop a state. */
const CLOCK_SLACK_MS = 5_000;

/** A service's prefixes, as the state file keeps them (a list, for services with several). */
export function prefixesOf(c: ServiceConfig): readonly string[] {
  return c.prefixes.map((p) => p.prefix);
}

const samePrefixes = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

/**
 * Which services start in their last decided state: an enabled check whose entry has its
 * current prefixes and was confirmed by a check at most `state_max_age` ago. UP is not restored
 * after a daemon withdrew everything at shutdown (the prefix comes back when its check rises).
 * Disabled checks are never restored: on_disabled decides them.
 */
export function planRestore(
  file: StateFile,
  services: readonly ServiceConfig[],
  ctx: RestoreContext,
): { plan: RestorePlan; refused: string | null } {
  if (file.pidfile !== ctx.pidfile)
    return { plan: NOTHING_RESTORED, refused: `it belongs to the daemon with pidfile ${file.pidfile} (this one's is ${ctx.pidfile})` };
  const states = new Map<string, 'up' | 'down'>();
  const entries = new Map<string, ServiceStateEntry>();
  const skipped: string[] = [];
  const byName = new Map(services.map((s) => [s.name, s]));
  for (const [name, entry] of Object.entries(file.services)) {
    const c = byName.get(name);
    const age = ctx.nowMs - Date.parse(entry.seenAt);
    let why: string | null = null;
    if (c === undefined) why = 'no longer configured';
    else if (c.disabled) why = 'its check is disabled (on_disabled decides)';
    else if (!samePrefixes(entry.prefixes, prefixesOf(c))) why = `its prefix changed (was ${entry.prefixes.join(', ')})`;
    else if (age > ctx.maxAgeMs) why = `last confirmed ${Math.round(age / 1000)} s ago, more than state_max_age`;
    else if (age < -CLOCK_SLACK_MS) why = `last confirmed ${Math.round(-age / 1000)} s in the future (the clock went back)`;
    else if (entry.state === 'up' && file.withdrawnAtShutdown) why = 'the previous daemon withdrew it at shutdown';
    if (why !== null) {
      skipped.push(`${name} (${entry.state}): ${why}`);
      continue;
    }
    states.set(name, entry.state);
    entries.set(name, entry);
  }
  return { plan: { states, entries, drains: file.drains ?? {}, skipped }, refused: null };
}

/**
 * The services part of the next state file: every service with a decided state. `since` and
 * `seenAt` carry on from the previous entry while the state is the same; a check result moves
 * `seenAt` (and dates a new decision).
 */
export function serviceEntries(
  views: readonly ServiceView[],
  previous: ReadonlyMap<string, ServiceStateEntry>,
  nowMs: number,
): Map<string, ServiceStateEntry> {
  const out = new Map<string, ServiceStateEntry>();
  for (const v of views) {
    const state = v.counters.state;
    if (state === 'unknown' || v.config.disabled) continue;
    const prefixes = prefixesOf(v.config);
    const before = previous.get(v.config.name);
    const same = before !== undefined && before.state === state && samePrefixes(before.prefixes, prefixes);
    const checkedAt = v.lastResult?.finishedAt ?? null;
    const since = same ? before.since : new Date(checkedAt ?? nowMs).toISOString();
    const seenAt = Math.max(Date.parse(same ? before.seenAt : since), checkedAt ?? 0);
    out.set(v.config.name, { state, prefixes, since, seenAt: new Date(seenAt).toISOString() });
  }
  return out;
}
