import { afterEach, describe, expect, it } from 'vitest';
import type { CheckCounters, FromWorker, ServiceCheckSpec } from '@ahc/protocol';
import { monotonicMs } from '@ahc/protocol';
import { WorkerThreadHost } from '../src/worker-thread-host';
import type { CheckHostEvents } from '../src/check-host';
import { RESTART_BACKOFF, backoffDelay } from '../src/backoff';
import { FAILED_AFTER_CRASHES, judgeThread, progressLimitMs } from '../src/watchdog';
import { WORKER_FILE, until } from './fixture';
import { checkSpec, hostPrefix } from '../../../test/helpers/check-spec';

const spec = (name: string, over: Partial<ServiceCheckSpec> = {}): ServiceCheckSpec =>
  checkSpec({ name, timeoutMs: 100, rise: 1, fail: 1, epochMs: monotonicMs(), ...over });

describe('watchdog rules (pure)', () => {
  const base = { now: 100_000, startedAt: 90_000 };
  it('accepts a thread that beats and progresses', () => {
    expect(judgeThread({ ...base, lastHeartbeat: 99_500, loops: [{ spec: spec('a'), lastProgress: 99_900 }] }).ok).toBe(true);
  });
  it('condemns a thread without heartbeats for 3 s whose event loop is busy (busy loop)', () => {
    const v = judgeThread({ ...base, lastHeartbeat: 96_000, busyShare: 0.99, loops: [] });
    expect(v).toMatchObject({ ok: false, kind: 'spinning' });
    expect(!v.ok && v.reason).toMatch(/no heartbeat .*busy/);
  });
  it('spares a silent thread whose event loop is idle (starved of CPU) up to 30 s', () => {
    expect(judgeThread({ ...base, lastHeartbeat: 90_000, busyShare: 0.1, loops: [] }).ok).toBe(true);
    const v = judgeThread({ ...base, now: 130_000, lastHeartbeat: 99_000, busyShare: 0.1, loops: [] });
    expect(!v.ok && v.reason).toMatch(/blocked/);
    expect(v).toMatchObject({ ok: false, kind: 'blocked' });
  });
  it('condemns a loop without results for longer than its limit, which scales with interval and timeout', () => {
    const slow = spec('slow', { intervalMs: 300_000, timeoutMs: 10_000 });
    expect(progressLimitMs(slow)).toBe(2 * 310_000 + 5000);
    expect(judgeThread({ ...base, lastHeartbeat: 99_900, loops: [{ spec: slow, lastProgress: 0 }] }).ok).toBe(true);
    expect(judgeThread({ ...base, lastHeartbeat: 99_900, loops: [{ spec: spec('fast'), lastProgress: 90_000 }] })).toMatchObject({
      ok: false,
      kind: 'no-progress',
    });
  });
  it('gives a new thread 5 s for its first heartbeat', () => {
    expect(judgeThread({ now: 104_000, startedAt: 100_000, lastHeartbeat: null, loops: [] }).ok).toBe(true);
    expect(judgeThread({ now: 106_000, startedAt: 100_000, lastHeartbeat: null, loops: [] })).toMatchObject({
      ok: false,
      kind: 'no-start',
    });
  });
  it('restarts at once the first time, then backs off exponentially up to 30 s', () => {
    const afterCrash = (crashes: number) => backoffDelay(crashes - 1, RESTART_BACKOFF);
    expect([1, 2, 3, 4, 5].map(afterCrash)).toEqual([0, 100, 200, 400, 800]);
    expect(afterCrash(100)).toBe(30_000);
  });
});

class Recorder implements CheckHostEvents {
  messages: FromWorker[] = [];
  exits: string[] = [];
  failed: string[][] = [];
  recovered: string[][] = [];
  ready: Array<number | null> = [];
  protocolErrors: Array<{ code: string; message: string; dropped: number }> = [];
  counterState = new Map<string, CheckCounters>();
  onMessage(m: FromWorker): void {
    this.messages.push(m);
    if (m.type === 'result' || m.type === 'transition') this.counterState.set(m.service, m.counters);
  }
  onThreadExit(_s: readonly string[], reason: string): void {
    this.exits.push(reason);
  }
  onThreadFailed(s: readonly string[]): void {
    this.failed.push([...s]);
  }
  onThreadRecovered(s: readonly string[]): void {
    this.recovered.push([...s]);
  }
  onThreadReady(_id: number, _s: readonly string[], latency: number | null): void {
    this.ready.push(latency);
  }
  onProtocolError(_id: number, code: string, message: string, dropped: number): void {
    this.protocolErrors.push({ code, message, dropped });
  }
  counters(service: string): CheckCounters {
    return this.counterState.get(service) ?? { state: 'unknown', rise: 0, fail: 0 };
  }
  transitions(): FromWorker[] {
    return this.messages.filter((m) => m.type === 'transition');
  }
  results(service: string): number {
    return this.messages.filter((m) => m.type === 'result' && m.service === service).length;
  }
}

let hosts: WorkerThreadHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  hosts = [];
});

function makeHost(mode: 'per-service' | number, rec: Recorder) {
  const host = new WorkerThreadHost(
    { workerFile: WORKER_FILE, mode, logLevel: 'error', faultInjection: true, watchdogIntervalMs: 100 },
    rec,
  );
  hosts.push(host);
  return host;
}

describe.each([['per-service' as const], [1]])('watchdog with real worker threads (worker_threads = %s)', (mode) => {
  for (const kind of ['throw', 'exit', 'terminate', 'busy-loop'] as const) {
    it(`restarts a worker that ${kind === 'terminate' ? 'is terminated from outside' : kind === 'busy-loop' ? 'spins in a busy loop' : kind === 'throw' ? 'throws' : 'calls process.exit'}, continuing its counters without a transition`, async () => {
      const rec = new Recorder();
      const host = makeHost(mode, rec);
      host.start(spec('a'), { state: 'unknown', rise: 0, fail: 0 });
      host.start(spec('b', { prefixes: [hostPrefix('10.52.12.2')] }), { state: 'unknown', rise: 0, fail: 0 });
      await until(() => rec.transitions().length === 2, 5000, 'both up');
      const readyBefore = rec.ready.length;
      expect(host.injectFault('a', kind)).toBe(true);
      await until(() => rec.exits.length === 1, 6000, 'exit seen');
      await until(() => rec.ready.length > readyBefore, 5000, 'replacement ready');
      const resultsAfter = rec.results('a');
      await until(() => rec.results('a') > resultsAfter + 2, 5000, 'checks running again');
      expect(rec.transitions().length).toBe(2); // no advertise/withdraw caused by the restart
      const info = host.threads().find((t) => t.services.includes('a'));
      expect(info?.state).toBe('running');
      expect(info?.restarts).toBe(1);
      if (kind === 'busy-loop') expect(rec.exits[0]).toMatch(/no heartbeat/);
      if (kind === 'throw') expect(rec.exits[0]).toMatch(/injected fault/);
      // counted by kind for status and metrics
      const expected = { throw: 'throw', exit: 'exit', terminate: 'exit', 'busy-loop': 'watchdog:spinning' }[kind];
      expect(info?.exits).toEqual({ [expected]: 1 });
    }, 20_000);
  }
});

describe('malformed messages from a real worker', () => {
  it('are reported once (AHC_PROTOCOL) and dropped; the thread keeps checking', async () => {
    const rec = new Recorder();
    const host = makeHost('per-service', rec);
    host.start(spec('a'), { state: 'unknown', rise: 0, fail: 0 });
    await until(() => rec.results('a') > 0, 3000, 'first result');
    expect(host.injectFault('a', 'malformed')).toBe(true);
    await until(() => rec.protocolErrors.length > 0, 3000, 'the report');
    const n = rec.results('a');
    await until(() => rec.results('a') > n, 3000, 'checks go on');
    expect(rec.protocolErrors).toEqual([{ code: 'AHC_PROTOCOL', message: expect.stringMatching(/malformed log message/), dropped: 1 }]);
    expect(rec.messages.some((m) => m.type === 'log' && m.message === 'not a level')).toBe(false);
    expect(rec.exits).toEqual([]);
  }, 20_000);
});

describe('watchdog', () => {
  it('terminates and restarts a thread whose check loop stopped making progress', async () => {
    const rec = new Recorder();
    const host = makeHost('per-service', rec);
    host.start(spec('a'), { state: 'unknown', rise: 0, fail: 0 });
    await until(() => rec.results('a') > 0, 3000, 'first result');
    host.injectFault('a', 'stall-loop');
    await until(() => rec.exits.length === 1, progressLimitMs(spec('a')) + 3000, 'watchdog kill');
    expect(rec.exits[0]).toMatch(/made no progress/);
    const n = rec.results('a');
    await until(() => rec.results('a') > n, 3000, 'checks again');
  }, 20_000);

  it(`marks the services failed after ${FAILED_AFTER_CRASHES} crashes in a row and recovered when checks run again`, async () => {
    const rec = new Recorder();
    const host = makeHost('per-service', rec);
    host.start(spec('a', { intervalMs: 500 }), { state: 'unknown', rise: 0, fail: 0 });
    for (let i = 0; i < FAILED_AFTER_CRASHES; i += 1) {
      await until(() => rec.ready.length === i + 1, 5000, `thread ${i + 1} ready`);
      host.injectFault('a', 'exit');
      await until(() => rec.exits.length === i + 1, 5000, `crash ${i + 1}`);
    }
    expect(rec.failed).toEqual([['a']]);
    expect(host.threads()[0]?.state).toBe('failed');
    // the next restart comes after backoff; its first check result means recovery
    await until(() => rec.recovered.length === 1, 12_000, 'recovered after a stable run');
    expect(host.threads()[0]?.state).toBe('running');
  }, 30_000);

  it('does not restart threads after close()', async () => {
    const rec = new Recorder();
    const host = makeHost('per-service', rec);
    host.start(spec('a'), { state: 'unknown', rise: 0, fail: 0 });
    await until(() => rec.ready.length === 1, 3000, 'ready');
    await host.close();
    expect(host.threadCount).toBe(0);
    expect(rec.exits).toEqual([]);
  });
});
