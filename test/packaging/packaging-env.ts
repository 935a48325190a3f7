// What the packaging tests share: where things are, when to skip, and building a package into a
// temporary directory with the same script `pnpm run package` runs.
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec, execSync } from '../helpers/exec.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const UNIT_FILE = join(repoRoot, 'contrib', 'systemd', 'anycast-healthchecker.service');
export const SYSUSERS_FILE = join(repoRoot, 'contrib', 'systemd', 'anycast-healthchecker.sysusers');
export const TMPFILES_FILE = join(repoRoot, 'contrib', 'systemd', 'anycast-healthchecker.tmpfiles');
export const INIT_SCRIPT = join(repoRoot, 'contrib', 'sysvinit', 'anycast-healthchecker');
export const MAN_PAGE = join(repoRoot, 'docs', 'anycast-healthchecker.8');
export const VERSION: string = (
  JSON.parse(readFileSync(join(repoRoot, 'apps', 'anycast-healthchecker', 'package.json'), 'utf8')) as { version: string }
).version;

/** The Node.js the packages carry: contrib/runtime/versions, the one place it is pinned. */
export const PINNED_NODE: string = (() => {
  const m = /^NODE_VERSION=(\S+)$/m.exec(readFileSync(join(repoRoot, 'contrib', 'runtime', 'versions'), 'utf8'));
  if (m?.[1] === undefined) throw new Error('contrib/runtime/versions has no NODE_VERSION=');
  return m[1];
})();

/** This machine's architecture as Debian names it. */
export const HOST_ARCH: string = process.arch === 'x64' ? 'amd64' : process.arch;

export function hasTool(name: string): boolean {
  return execSync(['sh', '-c', `command -v ${name}`]).code === 0;
}

/** Why the packaging tests cannot run here, or null. `AHC_SKIP_PACKAGING=1` skips them all. */
export function packagingSkipReason(needs: { root?: boolean; tools?: readonly string[] }): string | null {
  if (process.env.AHC_SKIP_PACKAGING === '1') return 'AHC_SKIP_PACKAGING=1';
  if (needs.root === true && process.getuid?.() !== 0) return 'needs root (it installs a package system-wide)';
  for (const tool of needs.tools ?? []) if (!hasTool(tool)) return `${tool} is not installed`;
  const bundle = join(repoRoot, 'apps', 'anycast-healthchecker', 'dist', 'main.mjs');
  if (!existsSync(bundle)) return `${bundle} is missing (the global setup builds it)`;
  return null;
}

/** Build one package format into a fresh temporary directory; returns the package's path. The
 * bundle is not rebuilt (the global setup did it; rebuilding would race with tests running it).
 * `--fast` (gzip -1): the same content as a release build, in seconds instead of a minute.
 * `version`: a test build under another version (AHC_PACKAGE_VERSION, e.g. the "previous" 0.0.9-1
 * of the upgrade tests, made from this same tree). */
export async function buildPackage(format: 'deb' | 'rpm', options: { arch?: string; version?: string } = {}): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), `ahc-${format}-`));
  await exec(
    [
      'env',
      ...(options.version === undefined ? [] : [`AHC_PACKAGE_VERSION=${options.version}`]),
      process.execPath,
      join(repoRoot, 'contrib', 'packaging', 'build-packages.mjs'),
      '--skip-build',
      '--fast',
      '--format',
      format,
      '--arch',
      options.arch ?? HOST_ARCH,
      '--out-dir',
      out,
    ],
    { timeoutMs: 120_000 },
  );
  const built = readdirSync(out).filter((f) => f.endsWith(`.${format}`));
  if (built.length !== 1 || built[0] === undefined)
    throw new Error(`expected one .${format} in ${out}, found ${built.join(', ') || 'none'}`);
  return join(out, built[0]);
}

/** The "Overall exposure level" figure of `systemd-analyze security` output. */
export function exposureOf(output: string): number {
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(output);
  if (m?.[1] === undefined) throw new Error(`no exposure level in:\n${output}`);
  return Number(m[1]);
}

/** `Uid:`/`Gid:`/`Groups:` of /proc/PID/status. */
export function procIds(statusText: string): { uid: number[]; gid: number[]; groups: number[] } {
  const field = (name: string): number[] =>
    (new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(statusText)?.[1] ?? '')
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '')
      .map(Number);
  return { uid: field('Uid'), gid: field('Gid'), groups: field('Groups') };
}
