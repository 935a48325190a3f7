// A strict reader of Nagios plugin output, written from the plugin guidelines
// (nagios-plugins.org/doc/guidelines.html and the Monitoring Plugins interface): it throws on
// anything a guideline forbids, so a test that parses a plugin line checks its grammar.
//
//   STATUS-TEXT [| PERFDATA]          one line; the text part never holds a `|`
//   PERFDATA = item (' ' item)*
//   item     = label '=' value [UOM] [';' [warn] [';' [crit] [';' [min] [';' [max]]]]]
//   label    = quoted: "'" (any printable but "'" | "''")+ "'"   (a doubled quote is one quote)
//            | bare:   printable characters but space, "'" and "="
//              no label holds "=", quoted or not; quotes are needed for a space or a "'"
//   value    = -?digits[.digits] (no exponent) | U
//   UOM      = '' | s | ms | us | % | B | KB | MB | GB | TB | c
//   warn/crit: a range, [@][start:][end] with start a number or ~; min/max: a number

export interface PerfDatum {
  readonly label: string;
  readonly value: number | 'U';
  readonly uom: string;
  readonly warn: string;
  readonly crit: string;
  readonly min: string;
  readonly max: string;
}

export interface PluginLine {
  readonly state: 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';
  readonly text: string;
  readonly perfdata: readonly PerfDatum[];
}

const UOMS = new Set(['', 's', 'ms', 'us', '%', 'B', 'KB', 'MB', 'GB', 'TB', 'c']);
const NUMBER = /^-?\d+(?:\.\d+)?$/;
const RANGE = /^@?(?:(?:~|-?\d+(?:\.\d+)?):)?(?:-?\d+(?:\.\d+)?)?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function fail(why: string, text: string, at: number): never {
  throw new Error(`invalid performance data at offset ${at}: ${why}: ${JSON.stringify(text)}`);
}

/** Parse the part after `|`, strictly. */
export function parsePerfdata(text: string): PerfDatum[] {
  const out: PerfDatum[] = [];
  let i = 0;
  if (text === '') fail('empty', text, 0);
  for (;;) {
    let label = '';
    if (text[i] === "'") {
      i += 1;
      for (;;) {
        if (i >= text.length) fail('unterminated quoted label', text, i);
        const c = text[i] as string;
        if (c === "'") {
          if (text[i + 1] === "'") {
            label += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        if (c === '=') fail('"=" in a label', text, i);
        label += c;
        i += 1;
      }
    } else {
      while (i < text.length && text[i] !== '=' && text[i] !== ' ' && text[i] !== "'") {
        label += text[i];
        i += 1;
      }
      if (text[i] === ' ' || text[i] === "'") fail('unquoted label with a space or a quote', text, i);
    }
    if (label.trim() === '') fail('label without a non-space character', text, i);
    if (CONTROL.test(label)) fail('control character in a label', text, i);
    if (text[i] !== '=') fail('"=" expected after the label', text, i);
    i += 1;
    let end = text.indexOf(' ', i);
    if (end === -1) end = text.length;
    const fields = text.slice(i, end).split(';');
    if (fields.length > 5) fail('more than five ;-separated fields', text, i);
    const [head = '', warn = '', crit = '', min = '', max = ''] = fields;
    const m = /^(U|-?\d+(?:\.\d+)?)(.*)$/.exec(head);
    if (m === null) fail('the value is not a plain decimal number', text, i);
    const uom = m[2] as string;
    if (!UOMS.has(uom)) fail(`unknown unit of measurement "${uom}"`, text, i);
    for (const [name, v] of [
      ['warn', warn],
      ['crit', crit],
    ] as const)
      if (v !== '' && !RANGE.test(v)) fail(`${name} is not a range`, text, i);
    for (const [name, v] of [
      ['min', min],
      ['max', max],
    ] as const)
      if (v !== '' && !NUMBER.test(v)) fail(`${name} is not a number`, text, i);
    out.push({ label, value: m[1] === 'U' ? 'U' : Number(m[1]), uom, warn, crit, min, max });
    i = end;
    if (i >= text.length) return out;
    i += 1;
    if (i >= text.length || text[i] === ' ') fail('items must be separated by exactly one space', text, i);
  }
}

/** Parse one line of plugin output, `PREFIX STATE - text[ | perfdata]`, strictly. */
export function parsePluginLine(line: string, prefix = 'ANYCAST-HEALTHCHECKER'): PluginLine {
  if (/[\r\n]/.test(line)) throw new Error(`more than one line: ${JSON.stringify(line)}`);
  const bar = line.indexOf('|');
  const text = bar === -1 ? line : line.slice(0, bar);
  const m = new RegExp(`^${prefix} (OK|WARNING|CRITICAL|UNKNOWN) - (\\S.*?)$`).exec(bar === -1 ? text : text.replace(/ $/, ''));
  if (m === null) throw new Error(`the status text does not read "${prefix} STATE - text": ${JSON.stringify(text)}`);
  if (CONTROL.test(text)) throw new Error(`control character in the status text: ${JSON.stringify(text)}`);
  const perf = bar === -1 ? [] : parsePerfdata(line.slice(bar + 1).replace(/^ /, ''));
  return { state: m[1] as PluginLine['state'], text: m[2] as string, perfdata: perf };
}

/** The plugin's fixed performance-data labels, in order, before the per-service `<name>_duration` ones (docs/status-and-watchdog.md). */
export const FIXED_PERFDATA_LABELS: readonly string[] = [
  'services',
  'running',
  'failed',
  'restarting',
  'disabled',
  'up',
  'down',
  'unknown',
  'drained',
  'restarts',
  'uptime',
  'loop_lag',
];
