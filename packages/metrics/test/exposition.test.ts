import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CONTENT_TYPE, Exposition } from '../src/exposition';

/** A small deterministic PRNG, so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const NASTY = ['plain', 'a"quote', 'back\\slash', 'new\nline', 'é ünïcode', '', '10.0.0.1/32', '2001:db8::1/128', '{}=,'];
const VALUES = [0, 1, -1, 1.5, 0.001, 1e-7, 1e21, 123456789, -0, Infinity, -Infinity, 2 ** 53];

interface Sample {
  readonly labels: Record<string, string>;
  readonly value: number;
}
interface Def {
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly labelNames: string[];
  readonly samples: readonly Sample[];
}

function randomDefs(seed: number): Def[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  return Array.from({ length: 1 + Math.floor(r() * 6) }, (_, i) => {
    const type = r() < 0.5 ? 'gauge' : 'counter';
    const labelNames = ['service_name', 'ip_prefix', 'family'].slice(0, Math.floor(r() * 4));
    const drawn: Sample[] = Array.from({ length: labelNames.length === 0 ? (r() < 0.5 ? 1 : 0) : Math.floor(r() * 4) }, () => ({
      labels: Object.fromEntries(labelNames.filter(() => r() < 0.9).map((n) => [n, pick(NASTY)])),
      value: type === 'counter' ? Math.abs(pick(VALUES)) : pick(VALUES),
    }));
    // Counters only take values prom-client can reach by incrementing from 0 once: finite, one
    // sample per label set.
    const seen = new Set<string>();
    const samples =
      type === 'gauge'
        ? drawn
        : drawn.filter((s) => {
            const key = JSON.stringify(s.labels);
            if (seen.has(key) || !Number.isFinite(s.value)) return false;
            seen.add(key);
            return true;
          });
    return { name: `m${i}_${type}${type === 'counter' ? '_total' : ''}`, type, help: `help ${pick(NASTY)}`, labelNames, samples };
  });
}

function withPromClient(defs: readonly Def[]): Promise<string> {
  const registry = new Registry();
  for (const d of defs) {
    const options = { name: d.name, help: d.help, labelNames: d.labelNames, registers: [registry] };
    if (d.type === 'gauge') {
      const g = new Gauge(options);
      for (const s of d.samples) (d.labelNames.length === 0 ? g : g.labels(s.labels)).set(s.value);
    } else {
      const c = new Counter(options);
      // one sample per label set (randomDefs), so one increment from 0 gives its value
      for (const s of d.samples) (d.labelNames.length === 0 ? c : c.labels(s.labels)).inc(s.value);
    }
  }
  return registry.metrics();
}

function withExposition(defs: readonly Def[]): string {
  const e = new Exposition();
  for (const d of defs) {
    const m = d.type === 'gauge' ? e.gauge(d.name, d.help, d.labelNames) : e.counter(d.name, d.help, d.labelNames);
    for (const s of d.samples) m.set(s.labels, s.value);
  }
  return e.render();
}

describe('Prometheus text exposition', () => {
  it('renders byte for byte what prom-client renders, on 300 random metric sets with awkward labels and values', async () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const defs = randomDefs(seed);
      expect(withExposition(defs), `seed ${seed}`).toBe(await withPromClient(defs));
    }
  });

  it('writes NaN as the format spells it, and uses the 0.0.4 content type', () => {
    const e = new Exposition();
    e.gauge('x', 'h').set({}, Number.NaN);
    expect(e.render()).toBe('# HELP x h\n# TYPE x gauge\nx NaN\n');
    expect(CONTENT_TYPE).toBe(new Registry().contentType);
  });

  it('refuses an unknown label, an invalid name and a name defined twice', () => {
    const e = new Exposition();
    const m = e.gauge('ok_name', 'h', ['a']);
    expect(() => m.set({ b: '1' }, 1)).toThrow('metric ok_name has no label b');
    expect(() => e.gauge('bad-name', 'h')).toThrow('invalid metric name bad-name');
    expect(() => e.counter('ok_name', 'h')).toThrow('metric ok_name is already defined');
  });
});
