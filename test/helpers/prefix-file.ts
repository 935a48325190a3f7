// BIRD prefix include files in the exact format of docs/bird.md, written by the test bed (initial
// files, hand-driven withdraws) the way the daemon writes them.
import { mkdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { isIP } from 'node:net';

export const DUMMY_IP4_PREFIX = '10.189.200.255/32';
export const DUMMY_IP6_PREFIX = '2001:db8::1/128';
export const IP4_VARIABLE = 'ACAST_PS_ADVERTISE';
export const IP6_VARIABLE = 'ACAST6_PS_ADVERTISE';

export type Family = 4 | 6;

function timestamp(date: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ` +
    `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds() * 1000, 6)}`
  );
}

/** Render a prefix file; the first prefix is the dummy, as in the daemon's own files. */
export function renderPrefixFile(variable: string, prefixes: readonly string[], date = new Date()): string {
  const [dummy] = prefixes;
  if (dummy === undefined) throw new Error('renderPrefixFile: at least the dummy prefix is required');
  return [
    `# Generated ${timestamp(date)} by anycast-healthchecker (pid=${process.pid})`,
    `# ${dummy} is a dummy IP Prefix. It should NOT be used and REMOVED from the constant.`,
    `define ${variable} =`,
    '    [',
    prefixes.map((prefix) => `        ${prefix}`).join(',\n'),
    '    ];',
    '',
  ].join('\n');
}

/** Prefixes listed in a prefix file: any line that, stripped of spaces and commas, is a prefix. */
export function parsePrefixFile(text: string): string[] {
  const prefixes: string[] = [];
  for (const raw of text.split('\n')) {
    const candidate = raw.replace(/[\s,]/g, '');
    const [ip, len, extra] = candidate.split('/');
    if (ip === undefined || extra !== undefined || isIP(ip) === 0) continue;
    if (len !== undefined && !/^\d{1,3}$/.test(len)) continue;
    prefixes.push(candidate);
  }
  return prefixes;
}

/** Atomically replace `path` with a prefix file for `family` (dummy first, then `prefixes`). */
export function writePrefixFile(path: string, family: Family, prefixes: readonly string[]): void {
  const variable = family === 4 ? IP4_VARIABLE : IP6_VARIABLE;
  const dummy = family === 4 ? DUMMY_IP4_PREFIX : DUMMY_IP6_PREFIX;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, renderPrefixFile(variable, [dummy, ...prefixes.filter((p) => p !== dummy)]));
  renameSync(tmp, path);
}

/** Write the dummy-only prefix file unless the file already exists. */
export function ensurePrefixFile(path: string, family: Family): void {
  if (!existsSync(path)) writePrefixFile(path, family, []);
}

/** Canonical text of a prefix as BIRD prints it (lower case, IPv6 compressed, /len added). */
export function canonicalPrefix(prefix: string): string {
  const [ip = '', len] = prefix.trim().split('/');
  const family = isIP(ip);
  if (family === 0) throw new Error(`not an IP prefix: ${prefix}`);
  const address = family === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
  return `${address}/${len ?? (family === 6 ? '128' : '32')}`;
}
