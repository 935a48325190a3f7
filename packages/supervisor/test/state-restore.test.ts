// What a daemon takes from the state file at start, and how it carries the entries on
// (docs/operations.md, "State across restarts"); and the registry's side of it.
import { describe, expect, it } from 'vitest';
import type { ResultMessage } from '@ahc/protocol';
import { STATE_FORMAT, STATE_PROGRAM } from '../src/state-file';
import type { ServiceStateEntry, StateFile } from '../src/state-file';
import { planRestore, serviceEntries } from '../src/state-restore';
import { ServiceRegistry } from '../src/service-registry';
import { makeBed } from './fixture';

const bed = makeBed();
const config = bed.config({
  a: { ip_prefix: '10.52.12.1/32', check_rise: '3', check_fail: '4' },
  b: { ip_prefix: '10.52.12.2/32', check_fail: '2' },
  c: { ip_prefix: '10.52.12.3/32' },
  d: { ip_prefix: '10.52.12.4/32', check_disabled: 'true', on_disabled: 'advertise' },
});
const NOW = 1_796_000_000_000;
const PIDFILE = '/run/ahc/ahc.pid';
const ctx = { nowMs: NOW, maxAgeMs: 120_000, pidfile: PIDFILE };

const entry = (state: 'up' | 'down', prefix: string, ageMs = 1_000): ServiceStateEntry => ({
  state,
  prefixes: [prefix],
  since: new Date(NOW - 3_600_000).toISOString(),
  seenAt: new Date(NOW - ageMs).toISOString(),
});

function file(services: Record<string, ServiceStateEntry>, over: Partial<StateFile> = {}): StateFile {
  return {
    program: STATE_PROGRAM,
    format: STATE_FORMAT,
    version: '0.1.0',
    pidfile: PIDFILE,
    pid: 7,
    savedAt: new Date(NOW - 1_000).toISOString(),
    withdrawnAtShutdown: false,
    services,
    ...over,
  };
}

describe('planRestore', () => {
  it('restores UP and DOWN of enabled checks confirmed within state_max_age, with their drains', () => {
    const drains = { b: { reason: 'disk swap', since: new Date(NOW - 5_000).toISOString(), source: 'command' as const } };
    const { plan, refused } = planRestore(
      file({ a: entry('up', '10.52.12.1/32'), b: entry('down', '10.52.12.2/32', 119_000) }, { drains }),
      config.services,
      ctx,
    );
    expect(refused).toBeNull();
    expect([...plan.states]).toEqual([
      ['a', 'up'],
      ['b', 'down'],
    ]);
    expect(plan.drains).toEqual(drains);
    expect(plan.skipped).toEqual([]);
  });

  it('skips, saying why, entries that are too old, from the future, for a changed prefix, a disabled or an unknown service', () => {
    const { plan } = planRestore(
      file({
        a: entry('up', '10.52.12.1/32', 121_000),
        b: entry('up', '10.52.99.2/32'),
        c: entry('up', '10.52.12.3/32', -60_000),
        d: entry('up', '10.52.12.4/32'),
        gone: entry('up', '10.52.12.9/32'),
      }),
      config.services,
      ctx,
    );
    expect(plan.states.size).toBe(0);
    expect(plan.skipped).toEqual([
      'a (up): last confirmed 121 s ago, more than state_max_age',
      'b (up): its prefix changed (was 10.52.99.2/32)',
      'c (up): last confirmed 60 s in the future (the clock went back)',
      'd (up): its check is disabled (on_disabled decides)',
      'gone (up): no longer configured',
    ]);
  });

  it('tolerates a clock a few seconds behind the one that wrote the file', () => {
    expect(planRestore(file({ a: entry('up', '10.52.12.1/32', -3_000) }), config.services, ctx).plan.states.get('a')).toBe('up');
  });

  it('restores nothing with state_max_age = 0', () => {
    expect(planRestore(file({ a: entry('up', '10.52.12.1/32', 1) }), config.services, { ...ctx, maxAgeMs: 0 }).plan.states.size).toBe(0);
  });

  it('does not put UP back after the previous daemon withdrew at shutdown, but keeps DOWN', () => {
    const { plan } = planRestore(
      file({ a: entry('up', '10.52.12.1/32'), b: entry('down', '10.52.12.2/32') }, { withdrawnAtShutdown: true }),
      config.services,
      ctx,
    );
    expect([...plan.states]).toEqual([['b', 'down']]);
    expect(plan.skipped).toEqual(['a (up): the previous daemon withdrew it at shutdown']);
  });

  it('refuses a file written by a daemon with another pidfile: nothing from it, drains included', () => {
    const { plan, refused } = planRestore(
      file(
        { a: entry('up', '10.52.12.1/32') },
        { pidfile: '/tmp/other/ahc.pid', drains: { '*': { reason: '', since: '2026-01-01T00:00:00.000Z', source: 'file' } } },
      ),
      config.services,
      ctx,
    );
    expect(refused).toBe(`it belongs to the daemon with pidfile /tmp/other/ahc.pid (this one's is ${PIDFILE})`);
    expect(plan.states.size).toBe(0);
    expect(plan.drains).toEqual({});
  });
});

function result(service: string, finishedAt: number): ResultMessage {
  return {
    type: 'result',
    service,
    ok: true,
    exitCode: 0,
    timedOut: false,
    ipAssigned: true,
    durationMs: 1,
    finishedAt,
    counters: { state: 'up', rise: 2, fail: 0 },
  };
}

describe('serviceEntries', () => {
  it('writes decided services only, dated by the deciding check, and moves seenAt with each check', () => {
    const r = new ServiceRegistry(config.services);
    r.recordResult('a', result('a', NOW - 10), NOW / 1000);
    r.decide('a', 'up', { state: 'up', rise: 3, fail: 0 });
    const first = serviceEntries(r.all(), new Map(), NOW);
    const iso = (ms: number): string => new Date(ms).toISOString();
    expect([...first]).toEqual([['a', { state: 'up', prefixes: ['10.52.12.1/32'], since: iso(NOW - 10), seenAt: iso(NOW - 10) }]]);
    r.recordResult('a', result('a', NOW + 990), NOW / 1000);
    expect(serviceEntries(r.all(), first, NOW + 1_000).get('a')).toEqual({
      state: 'up',
      prefixes: ['10.52.12.1/32'],
      since: iso(NOW - 10),
      seenAt: iso(NOW + 990),
    });
  });

  it('carries a restored entry on unchanged until a check confirms it, so restarts alone never make it younger', () => {
    const r = new ServiceRegistry(config.services);
    const restored = new Map([['a', entry('up', '10.52.12.1/32', 50_000)]]);
    r.restore(new Map([['a', 'up']]));
    expect(serviceEntries(r.all(), restored, NOW + 100_000).get('a')).toEqual(restored.get('a'));
  });
});

describe('ServiceRegistry.restore', () => {
  it('starts a restored service in its state with full counts, and keeps it over the BIRD file at start-up', () => {
    const r = new ServiceRegistry(config.services);
    r.restore(
      new Map<string, 'up' | 'down'>([
        ['a', 'up'],
        ['b', 'down'],
        ['d', 'down'],
      ]),
    );
    // The file has b but not a; c is not restored and follows the file as before.
    r.adoptStartupFile(4, new Set(['10.52.12.2/32', '10.52.12.3/32']));
    const view = (n: string) => r.get(n);
    expect(view('a')).toMatchObject({ counters: { state: 'up', rise: 3, fail: 0 }, advertise: true });
    expect(view('b')).toMatchObject({ counters: { state: 'down', rise: 0, fail: 2 }, advertise: false });
    expect(view('c')).toMatchObject({ counters: { state: 'unknown' }, advertise: true });
    // A disabled check is on_disabled's (applied when the checks start), never the state file's.
    expect(view('d')).toMatchObject({ counters: { state: 'unknown' }, advertise: false });
    expect(r.desired(4)).toEqual(new Set(['10.52.12.1/32', '10.52.12.3/32']));
    expect([r.wasRestored('a'), r.wasRestored('c'), r.wasRestored('d')]).toEqual([true, false, false]);
  });

  it('tells its listener about every change of a decided state, not about counts', () => {
    const r = new ServiceRegistry(config.services);
    let calls = 0;
    r.onDecided(() => (calls += 1));
    r.recordResult('a', result('a', NOW), NOW / 1000);
    expect(calls).toBe(0);
    r.decide('a', 'up', { state: 'up', rise: 3, fail: 0 });
    r.decide('a', 'up', { state: 'up', rise: 3, fail: 0 });
    expect(calls).toBe(1);
    r.decide('a', 'down', { state: 'down', rise: 0, fail: 4 });
    expect(calls).toBe(2);
  });

  it('withdraws everything at shutdown without changing a decided state', () => {
    const r = new ServiceRegistry(config.services);
    r.decide('a', 'up', { state: 'up', rise: 3, fail: 0 });
    r.applyDisabled('d');
    expect(
      r
        .withdrawAllForShutdown()
        .map((v) => v.config.name)
        .sort(),
    ).toEqual(['a', 'd']);
    expect(r.desired(4).size).toBe(0);
    expect(r.get('a')?.counters.state).toBe('up');
  });
});
