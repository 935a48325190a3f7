import { constants } from 'node:os';
import type { ResultMessage } from '@ahc/protocol';

/**
 * The per-service values of the Prometheus textfile, as the Python daemon sets them
 * (docs/metrics.md, "Values in each situation"). They change at particular checks only, so they
 * are kept per service and updated by every result, not derived from the last result.
 */
export interface ExportedValues {
  /** `service_state`: 0 healthy, else the deciding check's exit code; null: no sample yet. */
  readonly stateValue: number | null;
  /** `service_check_duration_milliseconds` of the last completed check; null: none yet. */
  readonly durationMs: number | null;
  /** `service_check_ip_assignment`; null while no interface check ran (or it is disabled). */
  readonly ipAssigned: boolean | null;
  /** `service_check_timeout_total`. */
  readonly timeouts: number;
  /** Unix time (s) of the first timeout (`…_timeout_created`); null: no sample yet. */
  readonly timeoutsCreatedAt: number | null;
}

export const NO_EXPORTED_VALUES: ExportedValues = Object.freeze({
  stateValue: null,
  durationMs: null,
  ipAssigned: null,
  timeouts: 0,
  timeoutsCreatedAt: null,
});

/** The exit code the Python daemon reports for a check killed at its timeout. */
export const TIMED_OUT_STATE = 126;

export interface ExportRules {
  readonly rise: number;
  readonly fail: number;
  readonly ipCheckDisabled: boolean;
}

/**
 * The values after one check:
 * - an unassigned address sets the state to 1 (the check command did not run);
 * - the rise-th consecutive success, and every one after it, sets 0; the fail-th consecutive
 *   failure, and every one after it, sets its exit code (126 when it timed out, minus the signal
 *   number when a signal killed it, as Python's returncode);
 * - checks below the threshold ("going up/down") leave the state as it was;
 * - the duration is that of completed checks: timed-out and unassigned ones leave it.
 */
export function exportResult(prev: ExportedValues, result: ResultMessage, rules: ExportRules, nowSeconds: number): ExportedValues {
  const ipAssigned = rules.ipCheckDisabled ? prev.ipAssigned : result.ipAssigned;
  if (!result.ipAssigned) return { ...prev, ipAssigned, stateValue: 1 };
  let { stateValue, timeouts, timeoutsCreatedAt } = prev;
  if (result.timedOut) {
    timeouts += 1;
    timeoutsCreatedAt ??= nowSeconds;
  }
  if (result.ok && result.counters.rise >= rules.rise) stateValue = 0;
  else if (!result.ok && result.counters.fail >= rules.fail) stateValue = failedValue(result);
  return {
    stateValue,
    durationMs: result.timedOut ? prev.durationMs : result.durationMs,
    ipAssigned,
    timeouts,
    timeoutsCreatedAt,
  };
}

function failedValue(result: ResultMessage): number {
  if (result.timedOut) return TIMED_OUT_STATE;
  if (result.exitCode !== null) return result.exitCode;
  const signal = result.signal === undefined || result.signal === null ? undefined : signalNumber(result.signal);
  return signal === undefined ? 1 : -signal;
}

function signalNumber(name: string): number | undefined {
  return (constants.signals as Record<string, number | undefined>)[name];
}
