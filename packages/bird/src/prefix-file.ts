/**
 * The BIRD include file holding the advertised prefixes: reading it the way the Python daemon
 * does, and rendering it byte for byte as the Python daemon writes it.
 */
import { normalizePrefix } from './prefix';

/** What a prefix file says: the variable it defines and the prefixes in it, dummy included. */
export interface PrefixFileContent {
  /** The name after `define`, or null when no line defines one. */
  readonly variable: string | null;
  /** Normalised prefixes in file order, duplicates removed. */
  readonly prefixes: readonly string[];
}

export interface RenderPrefixFileInput {
  readonly variable: string;
  /** Always written first; must be in canonical form. */
  readonly dummy: string;
  /** Canonical prefixes, written in this order after the dummy (the dummy and repeats skipped). */
  readonly prefixes: readonly string[];
  readonly generatedAt: Date;
  readonly pid: number;
}

const DEFINE = /^\s*define\s+([^\s=]+)\s*=/;
const STRIP = /^[\s,]+|[\s,]+$/g;

/**
 * Read a prefix file. The variable is the name in the first line of the form
 * `define NAME =` (the `=` on the same line, directly after the name or after spaces). A prefix
 * is any line that, stripped of surrounding whitespace and commas, is a valid IP prefix.
 */
export function parsePrefixFile(text: string): PrefixFileContent {
  let variable: string | null = null;
  const prefixes: string[] = [];
  const seen = new Set<string>();
  for (const line of text.split(/\r?\n|\r/)) {
    if (variable === null) {
      const match = DEFINE.exec(line);
      if (match !== null) {
        variable = match[1] as string;
        continue;
      }
    }
    const candidate = line.replace(STRIP, '');
    if (candidate === '') continue;
    const result = normalizePrefix(candidate);
    if (result.ok && !seen.has(result.prefix)) {
      seen.add(result.prefix);
      prefixes.push(result.prefix);
    }
  }
  return { variable, prefixes };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * Local time the way Python prints `str(datetime.now())`: `2026-11-24 10:00:00.123456`. A Date
 * holds milliseconds, so the last three digits of the microseconds are always zero; the
 * fraction is always written (Python leaves it out when it is exactly zero).
 */
export function formatPythonTimestamp(date: Date): string {
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1, 2)}-${pad(date.getDate(), 2)} ` +
    `${pad(date.getHours(), 2)}:${pad(date.getMinutes(), 2)}:${pad(date.getSeconds(), 2)}.` +
    pad(date.getMilliseconds() * 1000, 6)
  );
}

/** The file text, exactly as the Python daemon writes it (final newline included). */
export function renderPrefixFile(input: RenderPrefixFileInput): string {
  const entries = [input.dummy];
  const seen = new Set(entries);
  for (const prefix of input.prefixes) {
    if (seen.has(prefix)) continue;
    seen.add(prefix);
    entries.push(prefix);
  }
  const lines = [
    `# Generated ${formatPythonTimestamp(input.generatedAt)} by anycast-healthchecker (pid=${input.pid})`,
    `# ${input.dummy} is a dummy IP Prefix. It should NOT be used and REMOVED from the constant.`,
    `define ${input.variable} =`,
    '    [',
    entries.map((prefix) => `        ${prefix}`).join(',\n'),
    '    ];',
  ];
  return `${lines.join('\n')}\n`;
}
