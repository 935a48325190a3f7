/**
 * Prometheus text exposition format 0.0.4, for the few gauges and counters this daemon exports.
 * Written here instead of using prom-client: importing prom-client costs the main thread about
 * 13 MiB of resident memory (its cluster, zlib, HTTP and default-metrics code), more than the
 * rest of the daemon's main thread, for a format of a few lines. Output is byte for byte what
 * prom-client 15 renders for the same metrics (a test compares them).
 */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'gauge' | 'counter';

const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** One metric family: its samples in the order they were first set. */
export class Metric {
  readonly #samples = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly type: MetricType,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    // As prom-client: a metric without labels has one sample from the start, 0.
    if (labelNames.length === 0) this.#samples.set('', 0);
  }

  /** Set the sample with these labels (all of labelNames, or a subset: missing ones are left out). */
  set(labels: Readonly<Record<string, string>>, value: number): void {
    for (const key of Object.keys(labels)) {
      if (!this.labelNames.includes(key)) throw new Error(`metric ${this.name} has no label ${key}`);
    }
    const text = this.labelNames
      .filter((n) => labels[n] !== undefined)
      .map((n) => `${n}="${escapeLabel(labels[n] as string)}"`)
      .join(',');
    this.#samples.set(text === '' ? '' : `{${text}}`, value);
  }

  render(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    for (const [labels, value] of this.#samples) out += `${this.name}${labels} ${formatValue(value)}\n`;
    return out;
  }
}

/** The metrics of one scrape or textfile write, rendered in the order they were added. */
export class Exposition {
  readonly #metrics: Metric[] = [];

  gauge(name: string, help: string, labelNames: readonly string[] = []): Metric {
    return this.#add(new Metric(name, 'gauge', help, labelNames));
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Metric {
    return this.#add(new Metric(name, 'counter', help, labelNames));
  }

  render(): string {
    return this.#metrics.map((m) => m.render()).join('\n');
  }

  #add(metric: Metric): Metric {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metric.name)) throw new Error(`invalid metric name ${metric.name}`);
    if (this.#metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} is already defined`);
    this.#metrics.push(metric);
    return metric;
  }
}
