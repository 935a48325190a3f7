// The node flags the daemon's launcher runs with: its first line is `#!/usr/bin/env -S node FLAGS`
// (pnpm's .bin shim and the packages' /usr/bin wrapper use the same flags). Benchmarks that start
// the launcher with `node` (to pass extra flags) add these, so they measure what operators run.
import { readFileSync } from 'node:fs';

export function launcherNodeFlags(entry: string): string[] {
  const first = readFileSync(entry, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\s*\/usr\/bin\/env\s+(?:-S\s+)?node((?:\s+-[^\s]+)*)\s*$/.exec(first);
  if (m === null) throw new Error(`${entry}: unexpected first line ${JSON.stringify(first)}; expected #!/usr/bin/env -S node [FLAGS]`);
  return (m[1] ?? '')
    .trim()
    .split(/\s+/)
    .filter((s) => s !== '');
}
