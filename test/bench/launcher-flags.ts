// The node flags the daemon's launcher runs with: its second line, read by sh, ends in
// `exec "$n" FLAGS "$0" "$@"` (the packages' /usr/bin wrapper uses the same flags). Benchmarks
// that start the launcher with `node` (to pass extra flags) add these, so they measure what
// operators run.
import { readFileSync } from 'node:fs';

export function launcherNodeFlags(entry: string): string[] {
  const second = readFileSync(entry, 'utf8').split('\n', 2)[1] ?? '';
  const m = /\bexec "\$n"((?:\s+-[^\s]+)*)\s+"\$0" "\$@"\s*$/.exec(second);
  if (m === null) throw new Error(`${entry}: unexpected second line ${JSON.stringify(second)}; expected … exec "$n" [FLAGS] "$0" "$@"`);
  return (m[1] ?? '')
    .trim()
    .split(/\s+/)
    .filter((s) => s !== '');
}
