import { lintConfig, loadCompiledConfig } from '@ahc/config';
import type { CompiledConfig, ConfigSources } from '@ahc/config';
import type { Logger } from '@ahc/logging';
import type { ReloadSummary, Supervisor } from '@ahc/supervisor';

/** What one reload did: SIGHUP logs it, `anycast-healthchecker reload` is told it. */
export type ReloadOutcome =
  | { readonly kind: 'reloaded'; readonly summary: ReloadSummary }
  /** The files do not compile: the running configuration is kept. */
  | { readonly kind: 'invalid'; readonly reasons: readonly string[] }
  /** Still starting: the reload runs once start-up is complete. */
  | { readonly kind: 'pending' }
  | { readonly kind: 'stopping' };

export function describeReload(r: ReloadSummary): string {
  const part = (n: string[], what: string): string => `${n.length} ${what}${n.length > 0 ? ` (${n.join(', ')})` : ''}`;
  return `${part(r.added, 'added')}, ${part(r.removed, 'removed')}, ${part(r.changed, 'changed')}, ${r.unchanged} unchanged`;
}

/**
 * Every error of an invalid configuration (the reload refuses at the first, as the daemon's
 * start does; the operator gets all of them at once, as from lint).
 */
function reasonsOf(sources: ConfigSources, first: string): string[] {
  try {
    const errors = lintConfig(sources)
      .problems.filter((p) => p.severity === 'error')
      .map((p) => p.message);
    return errors.includes(first) ? [first, ...errors.filter((m) => m !== first)] : [first, ...errors];
  } catch {
    return [first];
  }
}

/**
 * The daemon's one reload path (SIGHUP and the control socket's `reload`): read and compile the
 * files, then apply them (Supervisor.reload: added started, removed stopped and withdrawn,
 * changed restarted keeping their decided state, unchanged untouched). An invalid configuration
 * changes nothing. Synchronous from the read to the apply, so two reloads never interleave.
 */
export function reloadConfiguration(sources: ConfigSources, supervisor: Supervisor, log: Logger): ReloadOutcome {
  if (supervisor.state === 'stopping' || supervisor.state === 'stopped') return { kind: 'stopping' };
  let next: CompiledConfig;
  try {
    next = loadCompiledConfig(sources).config;
  } catch (error) {
    const first = (error as Error).message;
    log.error(`configuration reload failed, keeping the running configuration: ${first}`);
    const reasons = reasonsOf(sources, first);
    if (reasons.length > 1) log.error(`the new configuration has ${reasons.length - 1} more problem(s): ${reasons.slice(1).join('; ')}`);
    return { kind: 'invalid', reasons };
  }
  const r = supervisor.reload(next);
  if (r === null) {
    // Still starting: reloading now would race the start-up repair; the caller runs it once the checks run.
    log.info('the configuration is reloaded as soon as start-up is complete');
    return { kind: 'pending' };
  }
  log.info(`configuration reloaded: ${describeReload(r)}`);
  if (r.daemonChanges.length > 0) log.warning(`[daemon] changes need a restart to take effect: ${r.daemonChanges.join(', ')}`);
  return { kind: 'reloaded', summary: r };
}
