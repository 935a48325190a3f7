// Keeps docs/configuration.md from drifting away from the schema, the defaults and the error codes.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INI_ERROR_CODES, iniFromObject } from '@ahc/ini';
import { DAEMON_DEFAULTS, KNOWN_DAEMON_OPTIONS, KNOWN_SERVICE_OPTIONS, SERVICE_DEFAULTS, compileConfig } from '../src/index';
import { PYTHON_DAEMON_PRINTED_OPTIONS, PYTHON_SERVICE_DEFAULT_OPTIONS } from './fixture';

const DOC_URL = new URL('../../../docs/configuration.md', import.meta.url);
const doc = readFileSync(DOC_URL, 'utf8');

/** Rows of the option tables: option name -> cells (option, type, default, meaning). */
function optionRows(text: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\| `([a-z0-9_]+)` \|/.exec(line);
    if (m === null) continue;
    const cells = line
      .slice(1, -1)
      .split(' | ')
      .map((c) => c.trim());
    rows.set(m[1] as string, cells);
  }
  return rows;
}

/** The text of the `## heading` section. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}`);
  if (start === -1) return '';
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end === -1 ? undefined : end);
}

const rows = optionRows(doc);
const defaultCell = (option: string): string => rows.get(option)?.[2] ?? '';

// The options of the Python daemon (docs/configuration.md, plus the 0.6 JSON-over-HTTP logging). Anything
// else the schema knows is ours and must be marked **beyond** in the doc.
const PYTHON_OPTIONS = new Set([
  'check_cmd',
  'ip_prefix',
  ...PYTHON_SERVICE_DEFAULT_OPTIONS,
  'custom_bird_reconfigure_cmd',
  ...PYTHON_DAEMON_PRINTED_OPTIONS,
  // Python options with no default, so not printed by -p/-P.
  'log_server',
  'splay_startup',
  'json_logging',
  'http_server',
  'http_server_port',
  'http_server_protocol',
  'http_server_timeout',
]);

describe('docs/configuration.md', () => {
  it('has a table row for every [daemon] option the schema knows', () => {
    expect([...KNOWN_DAEMON_OPTIONS].filter((o) => !rows.has(o))).toEqual([]);
  });

  it('has a table row for every service option the schema knows', () => {
    expect([...KNOWN_SERVICE_OPTIONS].filter((o) => !rows.has(o))).toEqual([]);
  });

  it('documents no option the schema does not know', () => {
    const known = new Set([...KNOWN_DAEMON_OPTIONS, ...KNOWN_SERVICE_OPTIONS]);
    expect([...rows.keys()].filter((o) => !known.has(o))).toEqual([]);
  });

  it.each(Object.entries(SERVICE_DEFAULTS))('shows the [DEFAULT] default %s = %s', (option, value) => {
    expect(defaultCell(option)).toBe(`\`${value}\``);
  });

  it.each(Object.entries(DAEMON_DEFAULTS))('shows the [daemon] default %s = %s', (option, value) => {
    expect(defaultCell(option)).toBe(`\`${value}\``);
  });

  it('says "unset" or "required" for every option without a built-in default', () => {
    const withDefault = new Set([...Object.keys(SERVICE_DEFAULTS), ...Object.keys(DAEMON_DEFAULTS)]);
    const others = [...rows.keys()].filter((o) => !withDefault.has(o));
    expect(others.filter((o) => !/^(unset|required)\b/.test(defaultCell(o)))).toEqual([]);
    expect(['check_cmd', 'ip_prefix'].map(defaultCell)).toEqual(['required', 'required']);
  });

  it('shows the value the program uses when an optional option is unset', () => {
    const doc0 = iniFromObject({ DEFAULT: { ...SERVICE_DEFAULTS }, daemon: { ...DAEMON_DEFAULTS } }, '<built-in>');
    const d = compileConfig(doc0, [], { filesystem: false }).daemon;
    const effective: Record<string, string> = {
      // unset is `auto`; with no services it picks per-service, the reason says which rule ran
      worker_threads: d.workerThreadsReason.startsWith('worker_threads = auto') ? 'auto' : String(d.workerThreads),
      bird_reconfigure_timeout: String(d.reconfigureTimeoutMs / 1000),
      instance_lock: d.instanceLock,
      on_worker_failure: d.onWorkerFailure,
      json_logging: String(d.logging.jsonLogging),
      http_server_protocol: d.logging.httpServerProtocol,
      http_server_timeout: String(d.logging.httpServerTimeoutMs / 1000),
    };
    for (const [option, value] of Object.entries(effective)) expect(defaultCell(option), option).toBe(`unset (\`${value}\`)`);
  });

  it('marks every option the Python daemon does not have as beyond it, and only those', () => {
    const marked = [...rows]
      .filter(([, cells]) => (cells[3] ?? '').startsWith('**beyond**'))
      .map(([o]) => o)
      .sort();
    const ours = [...KNOWN_DAEMON_OPTIONS, ...KNOWN_SERVICE_OPTIONS].filter((o) => !PYTHON_OPTIONS.has(o)).sort();
    expect(marked).toEqual(ours);
    expect(ours).toEqual(expect.arrayContaining(['worker_threads', 'bird_reconfigure_timeout', 'instance_lock']));
  });

  it('lists every configuration and INI error code under Validation', () => {
    const srcDir = new URL('../src/', import.meta.url);
    const source = readdirSync(srcDir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(new URL(f, srcDir), 'utf8'))
      .join('\n');
    // The source names codes as constants of the table in @ahc/errors (ERR.AHC_…).
    const codes = new Set([...source.matchAll(/\bERR\.(AHC_[A-Z_]+)\b/g)].map((m) => m[1] as string));
    for (const code of INI_ERROR_CODES) codes.add(code);
    expect(codes.size).toBeGreaterThan(15);
    const validation = section(doc, 'Validation');
    expect([...codes].filter((code) => !validation.includes(`\`${code}\``))).toEqual([]);
  });
});
