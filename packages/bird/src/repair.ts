/**
 * What the prefix file must become: once at startup (repair what is there, keep what the checks
 * will decide) and on every later update (exactly the dummy and the desired prefixes).
 * Pure decisions; the caller reads, writes and reconfigures.
 */
import { comparePrefixes } from './prefix';
import type { PrefixFileContent } from './prefix-file';

export type FindingKind = 'missing-variable' | 'wrong-variable' | 'missing-dummy' | 'unknown-prefixes-removed' | 'unknown-prefixes-kept';

export interface Finding {
  readonly kind: FindingKind;
  /** One sentence for the operator's log: the Python daemon's wording, which log-based alerting
   * may match (docs/log-records.md). */
  readonly detail: string;
  /** The prefixes it is about (unknown-prefixes-*), in file order. */
  readonly prefixes?: readonly string[];
}

export interface PrefixFilePlan {
  /** The prefixes the file must hold, dummy first. */
  readonly prefixes: string[];
  /** True when the file must be (re)written. */
  readonly rewrite: boolean;
  readonly findings: Finding[];
}

export interface StartupRepairInput {
  /** The file's path, for the findings' sentences. */
  readonly file: string;
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
  /** The file's path, for the findings' sentences. */
  readonly file: string;
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

function variableFindings(current: PrefixFileContent | null, variable: string, file: string): Finding[] {
  if (current === null || current.variable === null) {
    return [{ kind: 'missing-variable', detail: `failed to find variable name in ${file}, going to add it` }];
  }
  if (current.variable !== variable) {
    return [
      {
        kind: 'wrong-variable',
        detail: `found incorrect variable name ${current.variable} in ${file}, going to add the correct one ${variable}`,
      },
    ];
  }
  return [];
}

function dummyFinding(current: PrefixFileContent | null, dummy: string, detail: string): Finding[] {
  if (current !== null && current.prefixes.includes(dummy)) return [];
  return [{ kind: 'missing-dummy', detail }];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/**
 * Startup: correct the variable, add the dummy, and remove (purge) or report prefixes without a
 * service check. Prefixes with a check stay as they are until their checks decide.
 */
export function planStartupRepair(input: StartupRepairInput): PrefixFilePlan {
  const { current, variable, dummy, configured, purge, file } = input;
  const findings = [
    ...variableFindings(current, variable, file),
    ...dummyFinding(current, dummy, `dummy IP prefix ${dummy} is missing from bird configuration ${file}, adding it`),
  ];
  let rewrite = findings.length > 0;

  const existing = (current?.prefixes ?? []).filter((prefix) => prefix !== dummy);
  const unknown = existing.filter((prefix) => !configured.has(prefix));
  let kept = existing;
  if (unknown.length > 0) {
    const list = unknown.join(',');
    if (purge) {
      kept = existing.filter((prefix) => configured.has(prefix));
      rewrite = true;
      findings.push({
        kind: 'unknown-prefixes-removed',
        prefixes: unknown,
        detail: `removing IP prefix(es) ${list} from ${file} because they don't have a service check configured`,
      });
    } else {
      findings.push({
        kind: 'unknown-prefixes-kept',
        prefixes: unknown,
        detail: `found IP prefixes ${list} in ${file} without a service check configured`,
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
  const { current, variable, dummy, desired, configured, file } = input;
  const findings = [
    ...variableFindings(current, variable, file),
    ...dummyFinding(
      current,
      dummy,
      `dummy IP prefix ${dummy} wasn't found in bird configuration, adding it. This shouldn't have happened!`,
    ),
  ];

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
        prefixes: unknown,
        detail:
          `found ${unknown.join(',')} IP prefixes in Bird configuration but we aren't configured to run health checks on them. ` +
          'Either someone modified the configuration manually or something went horrible wrong. We remove them from Bird configuration',
      });
    }
  }

  const rewrite = current === null || current.variable !== variable || !sameList(current.prefixes, prefixes);
  return { prefixes, rewrite, findings };
}
