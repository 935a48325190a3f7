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
  const all = [...problems, ...unknownOptions(loaded.document)];
  return {
    files: loaded.files,
    problems: all,
    errors: all.filter((p) => p.severity === 'error').length,
    warnings: all.filter((p) => p.severity === 'warning').length,
  };
}
