import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import type { LogDestination, LogSink, Logger } from '../src/logger';
import { threadColumnWidth } from '../src/formats';
import type { LevelName } from '../src/log-record';
import { SinkHealth } from '../src/sink-health';
import { captureLogger } from '../../../test/helpers/capture-logger';
import type { SinkMonitor } from '../src/sink-health';

const STAMP = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}`;

function capture(json: boolean, journalctl = false, level: LevelName = 'debug', nameWidth = 10) {
  return captureLogger({ level, version: '1.2.3', nameWidth, pid: 4242, json, journalctl });
}

const parseJson = (line: string | undefined): Record<string, unknown> => {
  expect(line).toMatch(/^anycast-healthchecker: \{.*\}\n$/);
  return JSON.parse((line ?? '').slice('anycast-healthchecker: '.length)) as Record<string, unknown>;
};

const BASE_KEYS = ['asctime', 'levelname', 'process', 'message', 'version', 'program', 'service_name'];
const SERVICE = { service_name: 'web', ip_address: '10.52.12.1', prefix_length: 32, ip_check_disabled: false, status: 'up' } as const;

describe('thread column width', () => {
  it('is one more than the longest section name, DEFAULT and daemon included', () => {
    expect(threadColumnWidth([])).toBe(8);
    expect(threadColumnWidth(['a', 'svc1'])).toBe(8);
    expect(threadColumnWidth(['foo.bar.com', 'x'])).toBe(12);
  });
});

describe('text format', () => {
  it('is asctime, program[pid], the level in 8 columns, the thread padded to the width, the message', () => {
    const { log, lines } = capture(false, false, 'debug', 12);
    log.info('starting');
    log.child({ service_name: 'foo.bar.com' }).warning('status DOWN');
    log.critical('boom');
    expect(lines[0]).toMatch(new RegExp(`^${STAMP} anycast-healthchecker\\[4242\\] INFO     MainThread   starting\\n$`));
    expect(lines[1]).toMatch(new RegExp(`^${STAMP} anycast-healthchecker\\[4242\\] WARNING  foo.bar.com  status DOWN\\n$`));
    expect(lines[2]).toMatch(new RegExp(`^${STAMP} anycast-healthchecker\\[4242\\] CRITICAL MainThread   boom\\n$`));
  });

  it('keeps a thread name longer than the column whole, followed by one space', () => {
    const { log, lines } = capture(false, false, 'debug', 8);
    log.debug('x');
    expect(lines[0]).toMatch(new RegExp(`^${STAMP} anycast-healthchecker\\[4242\\] DEBUG    MainThread x\\n$`));
  });

  it('drops records below the configured level', () => {
    const { log, lines } = capture(false, false, 'warning');
    log.info('quiet');
    log.critical('loud');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/CRITICAL MainThread loud\n$/);
  });
});

describe('journald format (log_format_journalctl)', () => {
  it('is exactly <P>THREAD - MESSAGE, P the syslog severity of the level', () => {
    const { log, lines } = capture(false, true);
    log.debug('d');
    log.info('i');
    log.warning('w');
    log.error('e');
    log.critical('c');
    log.child({ service_name: 'svc-a', ip_address: '10.0.0.1' }).info('status UP');
    expect(lines).toEqual([
      '<7>MainThread - d\n',
      '<6>MainThread - i\n',
      '<4>MainThread - w\n',
      '<3>MainThread - e\n',
      '<2>MainThread - c\n',
      '<6>svc-a - status UP\n',
    ]);
  });
});

describe('JSON format', () => {
  it('is "anycast-healthchecker: " and the 7 base keys for MainThread records', () => {
    const { log, lines } = capture(true);
    log.info('main');
    const main = parseJson(lines[0]);
    expect(Object.keys(main)).toEqual(BASE_KEYS);
    expect(main).toEqual({
      asctime: expect.stringMatching(new RegExp(`^${STAMP}$`)) as unknown,
      levelname: 'INFO',
      process: 4242,
      message: 'main',
      version: '1.2.3',
      program: 'anycast-healthchecker',
      service_name: 'MainThread',
    });
  });

  it('adds ip_address, prefix_length, ip_check_disabled and status for records that carry them, with their types', () => {
    const { log, lines } = capture(true);
    log.child(SERVICE).info('status UP');
    const svc = parseJson(lines[0]);
    expect(Object.keys(svc)).toEqual([
      'asctime',
      'levelname',
      'process',
      'message',
      'ip_address',
      'prefix_length',
      'ip_check_disabled',
      'status',
      'version',
      'program',
      'service_name',
    ]);
    expect(svc).toMatchObject({ ...SERVICE, message: 'status UP' });
  });

  it('a record in a service column without service fields has the 7 base keys only', () => {
    const { log, lines } = capture(true);
    log.logWith('warning', "10.52.12.1/32 isn't assigned to lo interface", { service_name: 'web' });
    log.child({ service_name: 'web' }).error('check timed out');
    for (const line of lines) {
      const rec = parseJson(line);
      expect(Object.keys(rec)).toEqual(BASE_KEYS);
      expect(rec.service_name).toBe('web');
    }
  });

  it("logWith gives one record its own fields over the child's, without changing the child", () => {
    const { log, lines } = capture(true);
    const web = log.child({ service_name: 'web' });
    web.logWith('info', 'changed to UP', { ip_address: '10.52.12.1', prefix_length: 32, ip_check_disabled: true, status: 'up' });
    web.info('plain');
    const withFields = log.child(SERVICE);
    withFields.logWith('info', 'changed to DOWN', { status: 'down' });
    withFields.info('status UP');
    expect(parseJson(lines[0])).toMatchObject({ service_name: 'web', status: 'up', ip_check_disabled: true, prefix_length: 32 });
    expect(Object.keys(parseJson(lines[1]))).toEqual(BASE_KEYS);
    expect(parseJson(lines[2])).toMatchObject({ status: 'down', ip_address: '10.52.12.1' });
    expect(parseJson(lines[3])).toMatchObject({ status: 'up' });
  });

  it('status is unknown when a service record leaves it out', () => {
    const { log, lines } = capture(true);
    log.logWith('info', 'going up 1/2', { service_name: 'web', ip_address: '10.52.12.1', prefix_length: 32, ip_check_disabled: false });
    expect(parseJson(lines[0]).status).toBe('unknown');
  });

  it('HTTP bodies (jsonPrefix false) are the bare object', () => {
    const { log, lines } = captureLogger({ level: 'info', version: 'v', nameWidth: 8, json: true, jsonPrefix: false });
    log.info('x');
    expect(lines[0]).toMatch(/^\{"asctime":/);
  });
});

/** A debug logger (program `p`, version `v`, name width 10) writing to `destinations`. */
const loggerOn = (destinations: LogDestination[]): Logger =>
  createLogger({ level: 'debug', program: 'p', version: 'v', nameWidth: 10, destinations });

/** A sink that fails on demand, with the shared loss bookkeeping. */
class FlakySink implements LogSink {
  readonly lines: string[] = [];
  readonly health: SinkHealth;
  failing = false;
  constructor(
    name: string,
    private readonly onWrite?: () => void,
  ) {
    this.health = new SinkHealth(name);
  }
  get healthy(): boolean {
    return this.health.healthy;
  }
  monitor(m: SinkMonitor): void {
    this.health.attach(m);
  }
  write(line: string): void {
    this.onWrite?.();
    if (this.failing) {
      this.health.failed('ENOSPC: no space left on device');
      return;
    }
    this.lines.push(line);
    this.health.ok();
  }
}

function two(extra: Partial<{ fallback: LogSink }> = {}) {
  const a = new FlakySink('log file /x.log');
  const b = new FlakySink('syslog server h:514');
  const destinations: LogDestination[] = [
    { sink: a, json: false },
    { sink: b, json: false },
  ];
  const log = createLogger({ level: 'debug', program: 'anycast-healthchecker', version: 'v', nameWidth: 10, destinations, ...extra });
  return { a, b, log };
}

describe('a destination that breaks', () => {
  it('is reported once on the others, never on itself, and its recovery says how many lines were lost', () => {
    const { a, b, log } = two();
    log.info('one');
    a.failing = true;
    log.info('two');
    log.info('three');
    a.failing = false;
    log.info('four');
    const reportsOnB = b.lines.filter((l) => l.includes('log file /x.log'));
    expect(reportsOnB).toHaveLength(2);
    expect(reportsOnB[0]).toMatch(
      / ERROR +MainThread cannot write log lines to log file \/x\.log: ENOSPC: no space left on device; they are dropped and counted until it works again\n$/,
    );
    expect(reportsOnB[1]).toMatch(/ WARNING +MainThread writing log lines to log file \/x\.log works again; 2 log lines were lost\n$/);
    expect(a.lines.map((l) => l.replace(/^.* MainThread +/, ''))).toEqual([
      'one\n',
      'four\n',
      'writing log lines to log file /x.log works again; 2 log lines were lost\n',
    ]);
    expect(a.health.lost).toBe(2);
  });

  it('goes to the fallback (stderr) as one raw line when no other destination works, never to the fallback about itself', () => {
    const fallback = new FlakySink('stderr');
    const { a, b, log } = two({ fallback });
    a.failing = true;
    b.failing = true;
    log.info('lost');
    log.info('lost too');
    expect(fallback.lines).toEqual([
      'anycast-healthchecker: cannot write log lines to log file /x.log: ENOSPC: no space left on device; they are dropped and counted until it works again\n',
      'anycast-healthchecker: cannot write log lines to syslog server h:514: ENOSPC: no space left on device; they are dropped and counted until it works again\n',
    ]);
    const alone = createLogger({
      level: 'debug',
      program: 'anycast-healthchecker',
      version: 'v',
      nameWidth: 10,
      destinations: [{ sink: fallback, json: false }],
      fallback,
    });
    fallback.failing = true;
    alone.info('x');
    expect(fallback.lines).toHaveLength(2);
  });

  it('a report that makes another sink fail is queued, not recursed into, and reaches whatever still works', () => {
    const c = new FlakySink('HTTP log server http://h/');
    const b = new FlakySink('syslog server h:514');
    const a = new FlakySink('log file /x.log', () => {
      b.failing = true;
    });
    const log = loggerOn([
      { sink: a, json: false },
      { sink: b, json: false },
      { sink: c, json: false },
    ]);
    a.failing = true;
    log.info('x');
    // Recursion would deliver b's report (made while a's was being delivered) before a's.
    expect(c.lines.map((l) => l.replace(/^.* MainThread +/, '').replace(/:.*/s, ''))).toEqual([
      'cannot write log lines to log file /x.log',
      'cannot write log lines to syslog server h',
      'x\n',
    ]);
    expect(b.lines).toEqual([]);
  });

  it('a sink that throws does not stop the others, and no logger method throws', () => {
    const good: string[] = [];
    const log = loggerOn([
      {
        json: false,
        sink: {
          write: () => {
            throw new Error('broken');
          },
        },
      },
      { json: false, sink: { write: (l) => void good.push(l) } },
    ]);
    expect(() => log.info('still here')).not.toThrow();
    expect(good).toHaveLength(1);
  });
});
