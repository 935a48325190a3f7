import { afterEach, describe, expect, it } from 'vitest';
import type { CheckCounters, FromWorker, ServiceCheckSpec } from '@ahc/protocol';
import type { CheckHostEvents } from '../src/check-host';
import { Supervisor } from '../src/supervisor';
import { describeSlotChange } from '../src/worker-slot';
import type { SlotChange } from '../src/worker-slot';
import { WorkerThreadHost } from '../src/worker-thread-host';
import { WORKER_FILE, makeBed, until } from './fixture';
import { checkSpec, hostPrefix } from '../../../test/helpers/check-spec';

const spec = (name: string): ServiceCheckSpec => checkSpec({ name, timeoutMs: 100, rise: 1, fail: 1 });

class Recorder implements CheckHostEvents {
  changes: Array<{ text: string; threadId: number | null; services: string[] }> = [];
  ready = 0;
  exits = 0;
  onMessage(_m: FromWorker): void {}
  onThreadExit(): void {
    this.exits += 1;
  }
  onThreadFailed(): void {}
  onThreadRecovered(): void {}
  onThreadReady(): void {
    this.ready += 1;
  }
  onSlotChange(change: SlotChange, threadId: number | null, services: readonly string[]): void {
    this.changes.push({ text: describeSlotChange(change), threadId, services: [...services] });
  }
  counters(): CheckCounters {
    return { state: 'unknown', rise: 0, fail: 0 };
  }
}

let hosts: WorkerThreadHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  hosts = [];
});

function makeHost(mode: 'per-service' | number, rec: Recorder): WorkerThreadHost {
  const host = new WorkerThreadHost(
    { workerFile: WORKER_FILE, mode, logLevel: 'error', faultInjection: true, watchdogIntervalMs: 100 },
    rec,
  );
  hosts.push(host);
  return host;
}

describe('WorkerThreadHost slot changes (real threads)', () => {
  it('tells the observer every move of a slot: boot, a crash and its immediate restart, close', async () => {
    const rec = new Recorder();
    const host = makeHost('per-service', rec);
    host.start(spec('a'), { state: 'unknown', rise: 0, fail: 0 });
    await until(() => rec.ready === 1, 5000, 'ready');
    const first = host.threads()[0]?.threadId ?? null;
    expect(host.injectFault('a', 'exit')).toBe(true);
    await until(() => rec.ready === 2, 5000, 'replacement ready');
    const second = host.threads()[0]?.threadId ?? null;
    await host.close();
    expect(rec.changes.map((c) => c.text)).toEqual([
      'idle -> booting: spawned',
      'booting -> running: first heartbeat',
      'running -> idle: exited with code 3',
      'idle -> booting: spawned',
      'booting -> running: first heartbeat',
      'running -> stopped: the host closed',
    ]);
    expect(rec.changes.map((c) => c.threadId)).toEqual([first, first, first, second, second, second]);
    expect(rec.changes.every((c) => c.services.join() === 'a')).toBe(true);
  });

  it('leaves no stopped slot behind: neither stop() of the last service (per-service) nor close()', async () => {
    const rec = new Recorder();
    const host = makeHost('per-service', rec);
    host.start(spec('a'), { state: 'unknown', rise: 0, fail: 0 });
    host.start({ ...spec('b'), prefixes: [hostPrefix('10.52.12.2')] }, { state: 'unknown', rise: 0, fail: 0 });
    await until(() => rec.ready === 2, 5000, 'both ready');
    host.stop('a');
    expect(host.slotCount).toBe(1);
    expect(host.threads().map((t) => t.services)).toEqual([['b']]);
    await host.close();
    expect(host.slotCount).toBe(0);
    expect(host.threads()).toEqual([]);
    expect(rec.changes.filter((c) => c.text.includes('-> stopped')).map((c) => c.text)).toEqual([
      'running -> stopped: its last service a was stopped',
      'running -> stopped: the host closed',
    ]);
    expect(rec.exits).toBe(0);
  });

  it('pooled: a thread whose services all stopped keeps running, ready for the next service', async () => {
    const rec = new Recorder();
    const host = makeHost(1, rec);
    host.start(spec('a'), { state: 'unknown', rise: 0, fail: 0 });
    await until(() => rec.ready === 1, 5000, 'ready');
    host.stop('a');
    expect(host.slotCount).toBe(1);
    expect(host.threadCount).toBe(1);
    host.start(spec('b'), { state: 'unknown', rise: 0, fail: 0 });
    expect(host.threads()).toMatchObject([{ state: 'running', services: ['b'] }]);
    expect(rec.changes.map((c) => c.text)).toEqual(['idle -> booting: spawned', 'booting -> running: first heartbeat']);
  });
});

describe('the supervisor logs slot changes', () => {
  it('at debug level, with the thread id and its services', () => {
    const bed = makeBed();
    const sup = new Supervisor(bed.config({}), bed.logger);
    sup.onSlotChange({ from: 'running', to: 'idle', wasFailed: false, failed: false, why: 'exited with code 3' }, 7, ['a', 'b']);
    sup.onSlotChange({ from: 'idle', to: 'idle', wasFailed: false, failed: true, why: '5 crashes in a row' }, 7, ['a', 'b']);
    sup.onSlotChange({ from: 'idle', to: 'booting', wasFailed: false, failed: false, why: 'spawned' }, null, ['c']);
    const lines = bed.logs.join('');
    expect(lines).toMatch(/DEBUG +MainThread +worker slot of thread 7 \(a, b\): running -> idle: exited with code 3/);
    expect(lines).toMatch(/DEBUG +MainThread +worker slot of thread 7 \(a, b\): idle, marked failed: 5 crashes in a row/);
    expect(lines).toMatch(/worker slot of thread - \(c\): idle -> booting: spawned/);
    // Not the watchdog's own records, which operators' log checks match.
    expect(lines).not.toMatch(/check thread .* restarting/i);
  });
});

describe('WorkerThreadHost when no thread can be made', () => {
  it('counts it as a crash, restarts with backoff and never throws into the daemon', async () => {
    const rec = new Recorder();
    // A bare relative path makes `new Worker` throw at once, as exhausted threads or memory do.
    const host = new WorkerThreadHost(
      { workerFile: 'check-worker.mjs', mode: 'per-service', logLevel: 'error', watchdogIntervalMs: 100 },
      rec,
    );
    hosts.push(host);
    expect(() => host.start(spec('a'), { state: 'unknown', rise: 0, fail: 0 })).not.toThrow();
    await until(() => (rec.exits >= 3 ? true : undefined), 3000);
    const info = host.threads().find((t) => t.services.includes('a'));
    expect(info?.lastExit).toMatch(/^could not be started: /);
    expect(info?.exits['spawn-failed']).toBeGreaterThanOrEqual(3);
    expect(info?.state).toBe('restarting');
  });
});

describe('WorkerThreadHost and the address watch answer (real threads)', () => {
  class IpRecorder extends Recorder {
    assigned: boolean | null = true;
    messages: FromWorker[] = [];
    override onMessage(m: FromWorker): void {
      this.messages.push(m);
    }
    ipAssigned(): boolean | null {
      return this.assigned;
    }
  }
  // 10.255.254.253 is on no interface: getifaddrs would say "not assigned"; only the pushed answer says it is.
  const ipSpec = (name: string): ServiceCheckSpec => ({
    ...checkSpec({ name, timeoutMs: 100, rise: 1, fail: 1, intervalMs: 60_000 }),
    ipCheckDisabled: false,
    prefixes: [hostPrefix('10.255.254.253')],
  });
  const results = (rec: IpRecorder) => rec.messages.filter((m): m is Extract<FromWorker, { type: 'result' }> => m.type === 'result');

  for (const mode of ['per-service', 2] as const) {
    it(`${mode}: start carries the answer, ip-state changes it at once, a restarted thread gets the current one`, async () => {
      const rec = new IpRecorder();
      const host = makeHost(mode, rec);
      host.start(ipSpec('a'), { state: 'unknown', rise: 0, fail: 0 });
      await until(() => results(rec).length === 1, 5000, 'the first check');
      expect(results(rec)[0]?.ipAssigned).toBe(true);
      const pushed = Date.now();
      rec.assigned = false;
      host.setIpAssigned('a', false);
      // The interval is a minute: only the push can run this check.
      await until(() => results(rec).length === 2, 2000, 'the check the push ran');
      expect(Date.now() - pushed).toBeLessThan(1000);
      expect(results(rec)[1]?.ipAssigned).toBe(false);
      expect(rec.messages.some((m) => m.type === 'transition' && m.reason === 'ip-unassigned')).toBe(true);
      // The thread dies; its replacement's start carries the current answer (false), so its first check says so.
      rec.assigned = true;
      host.setIpAssigned('b-not-started', true); // a service the host does not know: nothing happens
      rec.assigned = false;
      expect(host.injectFault('a', 'exit')).toBe(true);
      await until(() => results(rec).length === 3, 5000, 'the first check of the restarted thread');
      expect(results(rec)[2]?.ipAssigned).toBe(false);
      rec.assigned = true;
      expect(host.injectFault('a', 'exit')).toBe(true);
      await until(() => results(rec).length === 4, 5000, 'the first check of the second restarted thread');
      expect(results(rec)[3]?.ipAssigned).toBe(true);
    }, 20_000);
  }
});
