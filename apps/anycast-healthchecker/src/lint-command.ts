import { lintConfig } from '@ahc/config';
import type { ConfigSources } from '@ahc/config';

/**
 * `anycast-healthchecker lint`: every problem at once, one per line as `file:line: ...`
 * (or JSON), errors then warnings. Exit 1 when there are errors, 0 otherwise.
 */
export function runLint(sources: ConfigSources, json: boolean): number {
  const report = lintConfig(sources);
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const p of report.problems) process.stdout.write(`${p.severity}: ${p.message} [${p.code}]\n`);
    process.stdout.write(`${report.files.length} files, ${report.errors} errors, ${report.warnings} warnings\n`);
  }
  return report.errors > 0 ? 1 : 0;
}
