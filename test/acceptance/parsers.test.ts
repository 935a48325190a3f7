/**
 * The acceptance tests' own parsers: log records in the three line shapes, checked-record
 * sequences, and the strict Prometheus text parser with the textfile comparison.
 */
import { describe, expect, it } from 'vitest';
import {
  checkedSequence,
  normaliseFreeText,
  paddingProblems,
  parseAnyRecord,
  parseRecord,
  type LogRecord,
} from '../helpers/log-records.js';
import { parsePromText, PromParseError } from '../helpers/prom-text.js';
import { ANY, textfileProblems } from '../helpers/textfile-expect.js';

describe('log record parser', () => {
  it('reads the text shape with its fields and padding', () => {
    const r = parseRecord('2026-11-24 10:00:00,123 anycast-healthchecker[42] INFO     svc-a    going up 1/2', 'text');
    expect(r).toMatchObject({ asctime: '2026-11-24 10:00:00,123', pid: 42, level: 'INFO', thread: 'svc-a', message: 'going up 1/2' });
    expect(paddingProblems([r as LogRecord], 8)).toEqual([]);
    const tight = parseRecord('2026-11-24 10:00:00,123 anycast-healthchecker[42] INFO svc-a going up 1/2', 'text') as LogRecord;
    expect(paddingProblems([tight], 8)).toHaveLength(2);
    expect(parseRecord('2026-11-24 10:00:00 anycast-healthchecker[42] INFO svc-a x', 'text')).toBeUndefined();
  });

  it('reads the journald shape and maps the severity to the level', () => {
    expect(parseRecord('<4>MainThread - found IP prefixes x', 'journald')).toMatchObject({
      level: 'WARNING',
      thread: 'MainThread',
      message: 'found IP prefixes x',
    });
    expect(parseRecord('<6>svc-a going up', 'journald')).toBeUndefined();
  });

  it('reads the JSON shape only with its prefix and an object', () => {
    const raw = 'anycast-healthchecker: {"levelname":"INFO","service_name":"svc-a","message":"changed to UP","process":7,"status":"up"}';
    expect(parseRecord(raw, 'json')).toMatchObject({ level: 'INFO', thread: 'svc-a', message: 'changed to UP', pid: 7 });
    expect(parseRecord('{"levelname":"INFO"}', 'json')).toBeUndefined();
    expect(parseRecord('anycast-healthchecker: [1]', 'json')).toBeUndefined();
    expect(parseAnyRecord('plain text')).toBeUndefined();
  });

  it('keeps only checked records of one column, near misses included', () => {
    const lines = [
      '<6>svc-a - running /bin/true',
      '<6>svc-a - going up 1',
      '<6>MainThread - starting anycast-healthchecker version 1 (pid 3)',
      '<6>svc-a - changed to UP',
      '<6>MainThread - received 15 at 12:00',
      '<7>svc-a - sleeping for 1s',
    ];
    const records = lines.map((l) => parseRecord(l, 'journald') as LogRecord);
    expect(checkedSequence(records, 'svc-a')).toEqual(['INFO going up 1', 'INFO changed to UP']);
    expect(checkedSequence(records, 'MainThread').map(normaliseFreeText)).toEqual([
      'INFO starting anycast-healthchecker version 1 (pid 3)',
      'INFO received 15 at …',
    ]);
  });
});

describe('strict Prometheus text parser', () => {
  const good = [
    '# HELP a_total Things.',
    '# TYPE a_total counter',
    'a_total{x="1",y="q\\"uote"} 2',
    '',
    '# HELP g A gauge.',
    '# TYPE g gauge',
    'g 1.5e3',
    '',
  ].join('\n');

  it('parses families, labels with escapes and values', () => {
    const p = parsePromText(`${good}\n`);
    expect(p.families.get('a_total')?.type).toBe('counter');
    expect(p.samples.map((s) => [s.name, s.labels, s.value])).toEqual([
      ['a_total', { x: '1', y: 'q"uote' }, 2],
      ['g', {}, 1500],
    ]);
  });

  it.each([
    ['a sample without TYPE', 'b 1\n'],
    ['a second TYPE', '# TYPE g gauge\n# TYPE g gauge\n'],
    ['TYPE after samples', '# HELP g x\ng 1\n'],
    ['a family split in two', '# TYPE g gauge\ng{a="1"} 1\n# TYPE h gauge\nh 1\ng{a="2"} 1\n'],
    ['a duplicate series', '# TYPE g gauge\ng{a="1"} 1\ng{a="1"} 2\n'],
    ['an unquoted label value', '# TYPE g gauge\ng{a=1} 1\n'],
    ['a bad value', '# TYPE g gauge\ng 1,5\n'],
    ['no final newline', '# TYPE g gauge\ng 1'],
  ])('rejects %s', (_, text) => {
    expect(() => parsePromText(text)).toThrow(PromParseError);
  });

  it('compares a textfile with a moment: missing, extra and wrong values are all listed', () => {
    const families = [
      'service_state gauge',
      'service_check_duration_milliseconds gauge',
      'service_check_ip_assignment gauge',
      'service_check_timeout_total counter',
      'uptime gauge',
      'state gauge',
      'version_info gauge',
      'service gauge',
    ]
      .map((f) => f.split(' '))
      .map(([n, t]) => `# HELP anycast_healthchecker_${n} h\n# TYPE anycast_healthchecker_${n} ${t}`);
    const l = '{service_name="s",ip_prefix="p"}';
    const text = [
      families[0],
      `anycast_healthchecker_service_state${l} 1`,
      families[1],
      families[2],
      families[3],
      `anycast_healthchecker_service_check_timeout_total${l} 0`,
      families[4],
      'anycast_healthchecker_uptime 3',
      families[5],
      'anycast_healthchecker_state 1',
      families[6],
      'anycast_healthchecker_version_info{version="9"} 1',
      families[7],
      `anycast_healthchecker_service${l} 1`,
      '',
    ].join('\n');
    expect(textfileProblems(parsePromText(text), 's', 'p', { serviceState: 0, duration: ANY })).toEqual([
      'anycast_healthchecker_service_state{ip_prefix="p",service_name="s"} is 1, expected 0',
      'extra sample anycast_healthchecker_service_check_timeout_total{ip_prefix="p",service_name="s"} 0',
      'missing sample anycast_healthchecker_service_check_duration_milliseconds{service_name="s",ip_prefix="p"} (any number)',
    ]);
  });
});
