/**
 * What the prefix file must become: once at startup (repair what is there, keep what the checks
 * will decide) and on every later update (exactly the dummy and the desired prefixes).
 * Pure decisions; the caller reads, writes and reconfigures.
 */
import { comparePrefixes } from './prefix';
import type { PrefixFileContent } from './prefix-file';

export type FindingKind =
  | 'missing-variable'
  | 'wrong-variable'
  | 'missing-dummy'
  | 'unknown-prefixes-removed'
  | 'unknown-prefixes-kept';

export interface Finding {
  readonly kind: FindingKind;
  /** One sentence for the operator's log. */
  readonly detail: string;
}

export interface PrefixFilePlan {
  /** The prefixes the file must hold, dummy first. */
  readonly prefixes: string[];
  /** True when the file must be (re)written. */
  readonly rewrite: boolean;
  readonly findings: Finding[];
}

export interface StartupRepairInput {
  /** The parsed file, or null when it is missing or empty. */
  readonly current: PrefixFileContent | null;
  readonly variable: string;
  readonly dummy: string;
  /** Normalised prefixes that have a service check in this family. */
  readonly configured: ReadonlySet<string>;
  /** `purge_ip_prefixes`: remove prefixes that have no service check. */
  readonly purge: boolean;
}

export interface UpdateInput {
  /** The parsed file, or null when it is missing or empty. */
  readonly current: PrefixFileContent | null;
  readonly variable: string;
  readonly dummy: string;
  /** Normalised prefixes that must be advertised (the dummy is implied and may be omitted). */
  readonly desired: ReadonlySet<string>;
  /**
   * Optional: prefixes that have a service check. Only used to report removed prefixes that no
   * check knows about (added by hand) as `unknown-prefixes-removed`.
   */
  readonly configured?: ReadonlySet<string>;
}

function variableFindings(current: PrefixFileContent | null, variable: string): Finding[] {
  if (current === null) {
    return [{ kind: 'missing-variable', detail: `the file is missing or empty; it is written with variable ${variable}` }];
  }
  if (current.variable === null) {
    return [{ kind: 'missing-variable', detail: `no "define ${variable} =" line found; the variable is set to ${variable}` }];
  }
  if (current.variable !== variable) {
    return [
      {
        kind: 'wrong-variable',
        detail: `the file defines ${current.variable} instead of ${variable}; the variable is renamed to ${variable}`,
      },
    ];
  }
  return [];
}

function dummyFinding(current: PrefixFileContent | null, dummy: string): Finding[] {
  if (current !== null && current.prefixes.includes(dummy)) return [];
  return [{ kind: 'missing-dummy', detail: `the dummy prefix ${dummy} is missing and is added` }];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/**
 * Startup: correct the variable, add the dummy, and remove (purge) or report prefixes without a
 * service check. Prefixes with a check stay as they are until their checks decide.
 */
export function planStartupRepair(input: StartupRepairInput): PrefixFilePlan {
  const { current, variable, dummy, configured, purge } = input;
  const findings = [...variableFindings(current, variable), ...dummyFinding(current, dummy)];
  let rewrite = findings.length > 0;

  const existing = (current?.prefixes ?? []).filter((prefix) => prefix !== dummy);
  const unknown = existing.filter((prefix) => !configured.has(prefix));
  let kept = existing;
  if (unknown.length > 0) {
    const list = unknown.join(', ');
    if (purge) {
      kept = existing.filter((prefix) => configured.has(prefix));
      rewrite = true;
      findings.push({
        kind: 'unknown-prefixes-removed',
        detail: `removed ${unknown.length} prefix(es) without a service check (purge_ip_prefixes is set): ${list}`,
      });
    } else {
      findings.push({
        kind: 'unknown-prefixes-kept',
        detail:
          `kept ${unknown.length} prefix(es) without a service check (set purge_ip_prefixes to remove them at ` +
          `startup; they are removed on the next update): ${list}`,
      });
    }
  }
  return { prefixes: [dummy, ...kept], rewrite, findings };
}

/**
 * Every later update: the file holds exactly the dummy and the desired prefixes. Prefixes that
 * stay keep their order; new ones are appended in address order. `rewrite` is true iff the
 * variable or the prefix list would change.
 */
export function planUpdate(input: UpdateInput): PrefixFilePlan {
  const { current, variable, dummy, desired, configured } = input;
  const findings = [...variableFindings(current, variable), ...dummyFinding(current, dummy)];

  const existing = (current?.prefixes ?? []).filter((prefix) => prefix !== dummy);
  const staying = existing.filter((prefix) => desired.has(prefix));
  const present = new Set(staying);
  const added = [...desired].filter((prefix) => prefix !== dummy && !present.has(prefix)).sort(comparePrefixes);
  const prefixes = [dummy, ...staying, ...added];

  if (configured !== undefined) {
    const unknown = existing.filter((prefix) => !desired.has(prefix) && !configured.has(prefix));
    if (unknown.length > 0) {
      findings.push({
        kind: 'unknown-prefixes-removed',
        detail: `removed ${unknown.length} prefix(es) without a service check: ${unknown.join(', ')}`,
      });
    }
  }

  const rewrite = current === null || current.variable !== variable || !sameList(current.prefixes, prefixes);
  return { prefixes, rewrite, findings };
}
