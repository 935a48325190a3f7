import { ERR, codeOf } from '@ahc/errors';
import type { IniDocument } from '@ahc/ini';
import { collectProblems } from './compile';
import type { ConfigProblem } from './compiled-config';
import { BUILT_IN, loadConfigDocument } from './load';
import type { ConfigSources } from './load';
import { DAEMON_SECTION } from './defaults';
import { KNOWN_DAEMON_OPTIONS, KNOWN_SERVICE_OPTIONS } from './schema';

/** Edit distance, for "did you mean" hints on misspelt options. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

function suggestion(option: string, known: ReadonlySet<string>): string {
  let best = '';
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(option, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(option.length / 4)) ? `; did you mean ${best}?` : '';
}

/** Options nobody reads: accepted (as the Python daemon does), but most often a typo. */
function unknownOptions(doc: IniDocument): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const report = (section: string, known: ReadonlySet<string>, options: Iterable<{ name: string; file: string; line: number }>): void => {
    for (const o of options) {
      if (known.has(o.name) || o.file === BUILT_IN) continue;
      out.push({
        severity: 'warning',
        code: ERR.AHC_LINT_UNKNOWN_OPTION,
        file: o.file,
        line: o.line,
        section,
        option: o.name,
        message: `${o.file}:${o.line}: [${section}] ${o.name}: unknown option, ignored${suggestion(o.name, known)}`,
      });
    }
  };
  const allKnown = new Set([...KNOWN_DAEMON_OPTIONS, ...KNOWN_SERVICE_OPTIONS]);
  report('DEFAULT', allKnown, doc.defaults.values());
  for (const s of doc.sections.values()) {
    report(
      s.name,
      s.name === DAEMON_SECTION ? new Set([...KNOWN_DAEMON_OPTIONS, ...KNOWN_SERVICE_OPTIONS]) : KNOWN_SERVICE_OPTIONS,
      s.options.values(),
    );
  }
  return out;
}

/** The first word of a command is sudo (by name or path). */
function startsWithSudo(command: string): boolean {
  const first = command.trim().split(/\s+/)[0] ?? '';
  return first === 'sudo' || first.endsWith('/sudo');
}

const TRUE = new Set(['1', 'yes', 'true', 'on']);

/**
 * Commands starting with sudo: the Python daemon ran them, but under the packaged systemd unit
 * sudo cannot gain privileges (NoNewPrivileges=, no capabilities), so they fail every time
 * (docs/operations.md, "Migrating from the Python daemon").
 */
function sudoCommands(doc: IniDocument): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const why =
    'sudo cannot gain privileges under the packaged systemd unit (NoNewPrivileges=, no capabilities), so this command would fail every time';
  const report = (section: string, option: { name: string; value: string; file: string; line: number }, fix: string): void => {
    if (!startsWithSudo(option.value)) return;
    const where =
      option.file === BUILT_IN
        ? `[${section}] ${option.name} is not set, and its built-in default (the Python daemon's)`
        : `${option.file}:${option.line}: [${section}] ${option.name}`;
    out.push({
      severity: 'warning',
      code: ERR.AHC_LINT_SUDO_IN_SANDBOX,
      ...(option.file === BUILT_IN ? {} : { file: option.file, line: option.line }),
      section,
      option: option.name,
      message: `${where} = ${option.value}: ${why}; ${fix}`,
    });
  };
  const daemon = doc.sections.get(DAEMON_SECTION);
  const birdFix = 'the user healthchecker reaches BIRD through the group bird: use /usr/sbin/birdc configure (birdc6 for BIRD 1.x IPv6)';
  const get = (name: string) => daemon?.options.get(name) ?? doc.defaults.get(name);
  const v4 = get('bird_reconfigure_cmd');
  if (v4 !== undefined && TRUE.has((get('ipv4')?.value ?? 'true').trim().toLowerCase())) report(DAEMON_SECTION, v4, birdFix);
  const v6 = get('bird6_reconfigure_cmd');
  if (v6 !== undefined && TRUE.has((get('ipv6')?.value ?? 'false').trim().toLowerCase())) report(DAEMON_SECTION, v6, birdFix);
  for (const s of doc.sections.values()) {
    if (s.name === DAEMON_SECTION) continue;
    for (const name of ['check_cmd', 'custom_bird_reconfigure_cmd']) {
      const o = s.options.get(name) ?? doc.defaults.get(name);
      if (o !== undefined)
        report(s.name, o, 'run the check without sudo, with what the user healthchecker may do (a group, a readable file)');
    }
  }
  return out;
}

export interface LintReport {
  readonly files: readonly string[];
  readonly problems: readonly ConfigProblem[];
  readonly errors: number;
  readonly warnings: number;
}

/** Every problem at once (lint), where -c stops at the first. */
export function lintConfig(sources: ConfigSources): LintReport {
  let loaded;
  try {
    loaded = loadConfigDocument(sources);
  } catch (error) {
    const e = error as Error & { location?: { file?: string; line?: number } };
    const problem: ConfigProblem = {
      severity: 'error',
      code: codeOf(error, ERR.AHC_CONFIG_INVALID),
      message: e.message,
      ...(e.location?.file === undefined ? {} : { file: e.location.file }),
      ...(e.location?.line === undefined ? {} : { line: e.location.line }),
    };
    return { files: [], problems: [problem], errors: 1, warnings: 0 };
  }
  const { problems } = collectProblems(loaded.document, loaded.files);
  const all = [...problems, ...unknownOptions(loaded.document), ...sudoCommands(loaded.document)];
  return {
    files: loaded.files,
    problems: all,
    errors: all.filter((p) => p.severity === 'error').length,
    warnings: all.filter((p) => p.severity === 'warning').length,
  };
}
