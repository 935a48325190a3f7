import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import type { LevelName } from '../src/log-record';

function capture(json: boolean, journalctl = false, level: LevelName = 'debug') {
  const lines: string[] = [];
  const log = createLogger({ level, program: 'anycast-healthchecker', version: '1.2.3', nameWidth: 10, pid: 4242, destinations: [{ json, journalctl, sink: { write: (l) => void lines.push(l) } }] });
  return { log, lines };
}

describe('text format', () => {
  it('matches the Python daemon: asctime, program[pid], level padded to 8, service column, message', () => {
    const { log, lines } = capture(false);
    log.info('starting');
    log.child({ service_name: 'svc-name' }).warning('status DOWN');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} anycast-healthchecker\[4242\] INFO {5}MainThread starting\n$/);
    expect(lines[1]).toMatch(/ anycast-healthchecker\[4242\] WARNING {2}svc-name {3}status DOWN\n$/);
  });

  it('prefixes the syslog severity for journalctl', () => {
    const { log, lines } = capture(false, true);
    log.error('x');
    log.debug('y');
    expect(lines[0]).toMatch(/^<3>\d{4}-/);
    expect(lines[1]).toMatch(/^<7>\d{4}-/);
  });

  it('drops records below the configured level', () => {
    const { log, lines } = capture(false, false, 'warning');
    log.info('quiet');
    log.critical('loud');
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/CRITICAL MainThread loud/);
  });
});

describe('JSON format', () => {
  it('carries the keys of SPEC §7, with service fields for service records', () => {
    const { log, lines } = capture(true);
    log.info('main');
    log.child({ service_name: 'web', ip_address: '10.52.12.1', prefix_length: 32, status: 'up', ip_check_disabled: false }).info('status UP');
    const main = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(main).toMatchObject({ levelname: 'INFO', process: 4242, message: 'main', version: '1.2.3', program: 'anycast-healthchecker', service_name: 'MainThread' });
    expect(main.asctime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}$/);
    const svc = JSON.parse(lines[1] ?? '{}') as Record<string, unknown>;
    expect(svc).toMatchObject({ service_name: 'web', ip_address: '10.52.12.1', prefix_length: 32, status: 'up', ip_check_disabled: false });
  });

  it('a sink that throws does not stop the others', () => {
    const good: string[] = [];
    const log = createLogger({ level: 'debug', program: 'p', version: 'v', nameWidth: 10, destinations: [
      { json: false, sink: { write: () => { throw new Error('broken'); } } },
      { json: false, sink: { write: (l) => void good.push(l) } },
    ] });
    log.info('still here');
    expect(good.length).toBe(1);
  });
});
