// The textfile's families and exact sample sets (docs/metrics.md) for the one-service bed:
// `textfileProblems(parsed, expected)` lists every declared-family problem, missing sample,
// extra sample and wrong value, so a test asserts `toEqual([])` and a failure shows them all.
import type { PromText } from './prom-text.js';
import { sampleKey } from './prom-text.js';

const P = 'anycast_healthchecker_';

/** The eight families always declared, with their types. */
export const DECLARED_FAMILIES: Readonly<Record<string, 'gauge' | 'counter'>> = {
  [`${P}service_state`]: 'gauge',
  [`${P}service_check_duration_milliseconds`]: 'gauge',
  [`${P}service_check_ip_assignment`]: 'gauge',
  [`${P}service_check_timeout_total`]: 'counter',
  [`${P}uptime`]: 'gauge',
  [`${P}state`]: 'gauge',
  [`${P}version_info`]: 'gauge',
  [`${P}service`]: 'gauge',
};
export const TIMEOUT_CREATED = `${P}service_check_timeout_created`;

export const ANY = Symbol('any value');
export type Expected = number | typeof ANY;

/** What one moment's textfile must hold for `svc-a`; absent keys mean "no sample". */
export interface Moment {
  readonly serviceState?: Expected;
  readonly duration?: Expected;
  readonly ipAssignment?: Expected;
  readonly timeouts?: Expected;
  /** `…_state` (default 1). */
  readonly daemonState?: Expected | readonly number[];
}

interface Want {
  readonly name: string;
  /** null: any labels with these keys (version_info). */
  readonly labels: Readonly<Record<string, string>> | { readonly anyOf: readonly string[] };
  readonly value: Expected | readonly number[];
}

function wants(service: string, prefix: string, m: Moment): Want[] {
  const svc = { service_name: service, ip_prefix: prefix };
  const w: Want[] = [
    { name: `${P}uptime`, labels: {}, value: ANY },
    { name: `${P}state`, labels: {}, value: m.daemonState ?? 1 },
    { name: `${P}version_info`, labels: { anyOf: ['version'] }, value: 1 },
    { name: `${P}service`, labels: svc, value: 1 },
  ];
  if (m.serviceState !== undefined) w.push({ name: `${P}service_state`, labels: svc, value: m.serviceState });
  if (m.duration !== undefined) w.push({ name: `${P}service_check_duration_milliseconds`, labels: svc, value: m.duration });
  if (m.ipAssignment !== undefined) w.push({ name: `${P}service_check_ip_assignment`, labels: svc, value: m.ipAssignment });
  if (m.timeouts !== undefined) {
    w.push({ name: `${P}service_check_timeout_total`, labels: svc, value: m.timeouts });
    w.push({ name: TIMEOUT_CREATED, labels: svc, value: ANY });
  }
  return w;
}

function labelsMatch(want: Want['labels'], got: Readonly<Record<string, string>>): boolean {
  if ('anyOf' in want && Array.isArray(want.anyOf)) {
    const keys = Object.keys(got).sort();
    return keys.length === want.anyOf.length && [...want.anyOf].sort().every((k, i) => keys[i] === k);
  }
  const w = want as Readonly<Record<string, string>>;
  const wk = Object.keys(w);
  return wk.length === Object.keys(got).length && wk.every((k) => got[k] === w[k]);
}

function valueOk(want: Want['value'], got: number): boolean {
  if (want === ANY) return Number.isFinite(got);
  if (Array.isArray(want)) return want.includes(got);
  return got === want;
}

function show(v: Want['value']): string {
  if (v === ANY) return 'any number';
  if (Array.isArray(v)) return `one of ${v.join(', ')}`;
  return String(v);
}

/** Family declarations and the exact sample set; an empty list when everything matches. */
export function textfileProblems(parsed: PromText, service: string, prefix: string, moment: Moment): string[] {
  const problems: string[] = [];
  for (const [name, type] of Object.entries(DECLARED_FAMILIES)) {
    const f = parsed.families.get(name);
    if (f === undefined) problems.push(`family ${name} is not declared`);
    else {
      if (f.type !== type) problems.push(`family ${name} has TYPE ${f.type ?? '(none)'}, not ${type}`);
      if (f.help === undefined) problems.push(`family ${name} has no HELP`);
    }
  }
  const created = parsed.families.get(TIMEOUT_CREATED);
  if (moment.timeouts === undefined && created !== undefined)
    problems.push(`family ${TIMEOUT_CREATED} is declared before the first timeout`);
  if (created !== undefined && created.type !== 'gauge')
    problems.push(`family ${TIMEOUT_CREATED} has TYPE ${created.type ?? '(none)'}, not gauge`);
  const expected = wants(service, prefix, moment);
  const matched = new Set<Want>();
  for (const s of parsed.samples) {
    const w = expected.find((e) => !matched.has(e) && e.name === s.name && labelsMatch(e.labels, s.labels));
    if (w === undefined) {
      problems.push(`extra sample ${sampleKey(s)} ${s.value}`);
      continue;
    }
    matched.add(w);
    if (!valueOk(w.value, s.value)) problems.push(`${sampleKey(s)} is ${s.value}, expected ${show(w.value)}`);
  }
  for (const w of expected) {
    if (!matched.has(w))
      problems.push(
        `missing sample ${w.name}${
          'anyOf' in w.labels
            ? `{${(w.labels.anyOf as string[]).join(',')}=…}`
            : `{${Object.entries(w.labels)
                .map(([k, v]) => `${k}="${v}"`)
                .join(',')}}`
        } (${show(w.value)})`,
      );
  }
  return problems;
}

/** The value of one of svc-a's samples, or undefined. */
export function serviceValue(parsed: PromText, family: string, service: string): number | undefined {
  return parsed.samples.find((s) => s.name === `${P}${family}` && s.labels.service_name === service)?.value;
}
