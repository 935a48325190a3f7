import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckCounters, FromWorker, ServiceCheckSpec } from '@ahc/protocol';
import type { CheckHostEvents } from '../src/check-host';
import { InProcessCheckHost } from '../src/in-process-host';
import { makeBed, until } from './fixture';
import { checkSpec, hostPrefix } from '../../../test/helpers/check-spec';

const UNKNOWN: CheckCounters = { state: 'unknown', rise: 0, fail: 0 };

const spec = (name: string, argv: string[], over: Partial<ServiceCheckSpec> = {}): ServiceCheckSpec => checkSpec({ name, argv, ...over });

class Recorder implements CheckHostEvents {
  messages: Array<{ message: FromWorker; threadId: number }> = [];
  threadEvents: string[] = [];
  onMessage(message: FromWorker, threadId: number): void {
    this.messages.push({ message, threadId });
  }
  onThreadExit(): void {
    this.threadEvents.push('exit');
  }
  onThreadFailed(): void {
    this.threadEvents.push('failed');
  }
  onThreadRecovered(): void {
    this.threadEvents.push('recovered');
  }
  counters(): CheckCounters {
    return UNKNOWN;
  }
  of(type: FromWorker['type'], service: string): FromWorker[] {
    return this.messages.map((m) => m.message).filter((m) => m.type === type && m.service === service);
  }
}

let hosts: InProcessCheckHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  hosts = [];
});

function makeHost(rec: Recorder): InProcessCheckHost {
  const host = new InProcessCheckHost({ logLevel: 'debug' }, rec);
  hosts.push(host);
  return host;
}

const linesOf = (file: string): number => {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '').length;
  } catch {
    return 0;
  }
};

describe('InProcessCheckHost: the real check loops in the main thread', () => {
  it('runs the check command and decides by rise/fall, posting results and one transition', async () => {
    const bed = makeBed();
    const ran = join(bed.dir, 'ran');
    const rec = new Recorder();
    const host = makeHost(rec);
    host.start(spec('a', ['/bin/sh', '-c', `echo x >> ${ran}`]), UNKNOWN);
    await until(() => rec.of('transition', 'a').length === 1, 5000, 'UP after check_rise = 2 successes');
    expect(rec.of('transition', 'a')[0]).toMatchObject({ state: 'up', counters: { state: 'up', rise: 2, fail: 0 } });
    expect(rec.of('result', 'a').length).toBeGreaterThanOrEqual(2);
    expect(linesOf(ran)).toBeGreaterThanOrEqual(2); // the command really ran, once per check
    expect(rec.messages.every((m) => m.threadId === 0)).toBe(true);
    expect(rec.of('log', 'a').some((m) => m.type === 'log' && m.message === 'changed to UP')).toBe(true);
    expect(rec.threadEvents).toEqual([]);
  });

  it('continues the counters it is started with (a restart emits no transition by itself)', async () => {
    const rec = new Recorder();
    const host = makeHost(rec);
    host.start(spec('a', ['/bin/true']), { state: 'up', rise: 2, fail: 0 });
    await until(() => rec.of('result', 'a').length >= 3, 5000, 'three results');
    expect(rec.of('transition', 'a')).toEqual([]);
    host.start(spec('a', ['/bin/false'], { fail: 1 }), { state: 'up', rise: 2, fail: 0 });
    await until(() => rec.of('transition', 'a').length === 1, 5000, 'DOWN');
    expect(rec.of('transition', 'a')[0]).toMatchObject({ state: 'down' });
  });

  it('stop() ends one loop; the others go on', async () => {
    const rec = new Recorder();
    const host = makeHost(rec);
    host.start(spec('a', ['/bin/true']), UNKNOWN);
    host.start(spec('b', ['/bin/true'], { prefixes: [hostPrefix('10.52.12.2')] }), UNKNOWN);
    await until(() => rec.of('result', 'a').length > 0 && rec.of('result', 'b').length > 0, 5000, 'both checking');
    host.stop('a');
    const a = rec.of('result', 'a').length;
    const b = rec.of('result', 'b').length;
    await until(() => rec.of('result', 'b').length >= b + 3, 5000, 'b goes on');
    expect(rec.of('result', 'a').length).toBe(a);
    expect(host.services()).toEqual(['b']);
  });

  it('runNow() runs a check at once without waiting for the interval', async () => {
    const rec = new Recorder();
    const host = makeHost(rec);
    host.start(spec('slow', ['/bin/true'], { intervalMs: 60_000 }), UNKNOWN);
    await until(() => rec.of('result', 'slow').length === 1, 5000, 'the first check');
    host.runNow();
    await until(() => rec.of('result', 'slow').length === 2, 5000, 'the check run now');
  });

  it('reports the main thread as the one thread, refuses fault injection and stops everything on close()', async () => {
    const rec = new Recorder();
    const host = makeHost(rec);
    expect(host.threads()).toEqual([]);
    expect(host.threadCount).toBe(0);
    host.start(spec('a', ['/bin/true']), UNKNOWN);
    expect(host.threads()).toEqual([
      { threadId: 0, state: 'running', services: ['a'], lastHeartbeatAgeMs: null, restarts: 0, lastExit: null, exits: {} },
    ]);
    expect(host.threadCount).toBe(1);
    expect(host.injectFault('a', 'throw')).toBe(false);
    expect(host.injectFault('a', 'terminate')).toBe(false);
    await host.close();
    expect(host.threadCount).toBe(0);
    host.start(spec('b', ['/bin/true']), UNKNOWN);
    expect(host.services()).toEqual([]);
  });
});

describe('InProcessCheckHost and the address watch answer', () => {
  it('start carries the answer and setIpAssigned changes it, checking at once when it turns false', async () => {
    const messages: FromWorker[] = [];
    let assigned: boolean | null = true;
    const host = new InProcessCheckHost(
      { logLevel: 'debug', isAssigned: () => false },
      {
        onMessage: (m) => messages.push(m),
        onThreadExit: () => undefined,
        onThreadFailed: () => undefined,
        onThreadRecovered: () => undefined,
        counters: () => ({ state: 'unknown', rise: 0, fail: 0 }),
        ipAssigned: () => assigned,
      },
    );
    hosts.push(host);
    const results = () => messages.filter((m): m is Extract<FromWorker, { type: 'result' }> => m.type === 'result');
    host.start(checkSpec({ name: 'a', rise: 1, fail: 1, intervalMs: 60_000, ipCheckDisabled: false }), {
      state: 'unknown',
      rise: 0,
      fail: 0,
    });
    await until(() => results().length === 1, 3000, 'the first check');
    expect(results()[0]?.ipAssigned).toBe(true);
    assigned = false;
    host.setIpAssigned('a', false);
    await until(() => results().length === 2, 2000, 'the check the push ran');
    expect(results()[1]?.ipAssigned).toBe(false);
  });
});
