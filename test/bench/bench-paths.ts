// Where the benchmarks find the daemon and put their results. Each benchmark runs as a bundle
// from dist/bench/ (its source is in test/bench/): both are two levels below the repository.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The launcher (its #! line carries the node flags operators run with: launcher-flags.ts). */
export const DAEMON_ENTRY = join(REPO_ROOT, 'apps', 'anycast-healthchecker', 'bin', 'anycast-healthchecker.mjs');
/** The built program; missing until `pnpm run build`. */
export const DAEMON_BUNDLE = join(REPO_ROOT, 'apps', 'anycast-healthchecker', 'dist', 'main.mjs');

/** dist/bench/NAME.json, where a benchmark writes its full results. */
export function resultFile(name: string): string {
  return join(REPO_ROOT, 'dist', 'bench', `${name}.json`);
}
