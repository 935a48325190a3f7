// A strict parser of the Prometheus text exposition format (0.0.4) as node_exporter's textfile
// collector reads it: `# HELP` / `# TYPE` at most once per family and before its samples, the
// samples of a family contiguous, every sample inside a declared family, valid names, label
// syntax and values, no duplicate series. Anything else throws PromParseError with the line.

export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly line: number;
}

export interface PromFamily {
  readonly name: string;
  help?: string;
  type?: PromType;
  readonly samples: PromSample[];
}

export interface PromText {
  readonly families: ReadonlyMap<string, PromFamily>;
  readonly samples: readonly PromSample[];
}

export class PromParseError extends Error {
  readonly code = 'AHC_TEST_PROM_PARSE';
  constructor(line: number, text: string, why: string) {
    super(`line ${line}: ${why}: ${JSON.stringify(text)}`);
    this.name = 'PromParseError';
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<PromType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function familyOf(sampleName: string, families: ReadonlyMap<string, PromFamily>): PromFamily | undefined {
  const exact = families.get(sampleName);
  if (exact !== undefined) return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const f = families.get(sampleName.slice(0, -suffix.length));
    if (f !== undefined && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

function parseLabels(text: string, lineNo: number, raw: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  const fail = (why: string): never => {
    throw new PromParseError(lineNo, raw, why);
  };
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq === -1) fail('label without "="');
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) fail(`invalid label name ${JSON.stringify(name)}`);
    if (name in labels) fail(`duplicate label ${name}`);
    i = eq + 1;
    if (text[i] !== '"') fail(`label ${name}: value not quoted`);
    i += 1;
    let value = '';
    for (;;) {
      const ch = text[i];
      if (ch === undefined) fail(`label ${name}: unterminated value`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = text[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else fail(`label ${name}: invalid escape \\${next ?? ''}`);
        i += 2;
        continue;
      }
      if (ch === '\n') fail(`label ${name}: newline in value`);
      value += ch;
      i += 1;
    }
    labels[name] = value;
    i += 1;
    if (i < text.length) {
      if (text[i] !== ',') fail(`label ${name}: "," expected after the value`);
      i += 1;
    }
  }
  return labels;
}

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;
}

/** Parse a whole textfile; throws PromParseError at the first violation. */
export function parsePromText(text: string): PromText {
  const families = new Map<string, PromFamily>();
  const samples: PromSample[] = [];
  const series = new Set<string>();
  const closed = new Set<string>();
  let current: PromFamily | undefined;
  if (text !== '' && !text.endsWith('\n')) throw new PromParseError(0, text.slice(-40), 'the file does not end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const fail = (why: string): never => {
      throw new PromParseError(lineNo, raw, why);
    };
    const line = raw.trim();
    if (line === '') return;
    const switchTo = (family: PromFamily): void => {
      if (current !== undefined && current !== family) closed.add(current.name);
      if (closed.has(family.name)) fail(`family ${family.name} continues after another family`);
      current = family;
    };
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (m === null) return; // a plain comment
      const [, keyword, name = '', rest = ''] = m;
      if (!METRIC_NAME.test(name)) fail(`invalid metric name ${JSON.stringify(name)}`);
      let family = families.get(name);
      if (family === undefined) {
        family = { name, samples: [] };
        families.set(name, family);
      }
      switchTo(family);
      if (keyword === 'HELP') {
        if (family.help !== undefined) fail(`second HELP for ${name}`);
        family.help = rest;
      } else {
        if (family.type !== undefined) fail(`second TYPE for ${name}`);
        if (family.samples.length > 0) fail(`TYPE for ${name} after its samples`);
        const type = rest.trim() as PromType;
        if (!TYPES.has(type)) fail(`unknown type ${JSON.stringify(rest)}`);
        family.type = type;
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/.exec(line);
    if (m === null) fail('not a sample line');
    const [, name = '', labelText = '', valueText = ''] = m as RegExpExecArray;
    const labels = parseLabels(labelText, lineNo, raw);
    const value = parseValue(valueText);
    if (value === undefined) fail(`invalid value ${JSON.stringify(valueText)}`);
    const family = familyOf(name, families);
    if (family === undefined || family.type === undefined) fail(`sample ${name} outside a family declared with TYPE`);
    switchTo(family as PromFamily);
    const key = seriesKey(name, labels);
    if (series.has(key)) fail(`duplicate series ${key}`);
    series.add(key);
    const sample: PromSample = { name, labels, value: value as number, line: lineNo };
    (family as PromFamily).samples.push(sample);
    samples.push(sample);
  });
  return { families, samples };
}

/** `name{k="v",...}` with sorted labels, for comparing sample sets. */
export function sampleKey(sample: Pick<PromSample, 'name' | 'labels'>): string {
  return seriesKey(sample.name, sample.labels);
}
