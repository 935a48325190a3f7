import { describe, expect, it } from 'vitest';
import type { ResultMessage } from '@ahc/protocol';
import { ServiceRegistry } from '../src/service-registry';
import { makeBed } from './fixture';
import { hostPrefix } from '../../../test/helpers/check-spec';

const bed = makeBed();
const config = bed.config({
  a: { ip_prefix: '10.52.12.1/32' },
  b: { ip_prefix: '10.52.12.2/32' },
  d: { ip_prefix: '10.52.12.4/32', check_disabled: 'true', on_disabled: 'advertise' },
  w: { ip_prefix: '10.52.12.5/32', check_disabled: 'true', on_disabled: 'withdraw' },
});
const service = (name: string) => {
  const s = config.services.find((c) => c.name === name);
  if (s === undefined) throw new Error(name);
  return s;
};
const up = { state: 'up', rise: 1, fail: 0 } as const;

function result(ok: boolean, over: Partial<ResultMessage> = {}): ResultMessage {
  return {
    type: 'result',
    seq: 1,
    service: 'a',
    ok,
    exitCode: ok ? 0 : 2,
    durationMs: 3,
    timedOut: false,
    ipAssigned: true,
    finishedAt: 1,
    counters: ok ? up : { state: 'down', rise: 0, fail: 1 },
    ...over,
  } as ResultMessage;
}

describe('ServiceRegistry', () => {
  it('starts every enabled check UNKNOWN and withdrawn, disabled ones as on_disabled says', () => {
    const r = new ServiceRegistry(config.services);
    expect(r.all().map((v) => [v.config.name, v.counters.state, v.advertise])).toEqual([
      ['a', 'unknown', false],
      ['b', 'unknown', false],
      ['d', 'unknown', true],
      ['w', 'unknown', false],
    ]);
    expect(r.desired(4)).toEqual(new Set(['10.52.12.4/32']));
    expect(r.configured(4).size).toBe(4);
  });

  it('adopts the file at start-up, then decisions, disabled checks and worker failures change what is advertised', () => {
    const r = new ServiceRegistry(config.services);
    r.adoptStartupFile(4, new Set(['10.52.12.2/32', '10.52.12.5/32']));
    expect(r.desired(4)).toEqual(new Set(['10.52.12.2/32', '10.52.12.5/32']));
    r.applyDisabled('d');
    r.applyDisabled('w');
    r.decide('a', 'up', up);
    expect(r.desired(4)).toEqual(new Set(['10.52.12.1/32', '10.52.12.2/32', '10.52.12.4/32']));
    expect(r.counters('a')).toEqual(up);
    expect(r.withdrawForWorkerFailure('a')).toBe(true);
    expect(r.withdrawForWorkerFailure('a')).toBe(false); // no longer advertised: nothing to do
    expect(r.get('a')).toMatchObject({ advertise: false, counters: { state: 'unknown', rise: 0, fail: 0 } });
    expect(r.counters('gone')).toEqual({ state: 'unknown', rise: 0, fail: 0 });
  });

  it('hands out views that do not change afterwards', () => {
    const r = new ServiceRegistry(config.services);
    const before = r.get('a');
    r.decide('a', 'up', up);
    r.recordResult('a', result(true), 100);
    expect(before).toMatchObject({ advertise: false, checks: 0, lastResult: null });
    expect(r.get('a')).toMatchObject({ advertise: true, checks: 1 });
  });

  it('counts results and timeouts and keeps the exported values (docs/metrics.md)', () => {
    const r = new ServiceRegistry(config.services);
    r.recordResult('a', result(false, { timedOut: true, exitCode: null }), 100);
    r.recordResult('a', result(true), 200);
    r.recordResult('nobody', result(true), 300);
    expect(r.get('a')).toMatchObject({
      checks: 2,
      timeouts: 1,
      // the counts of the last result; the decided state changes with a transition only
      counters: { ...up, state: 'unknown' },
      exported: { stateValue: 0, timeouts: 1, timeoutsCreatedAt: 100 },
    });
  });

  it('takes the decided state from transitions only, so a worker lost between a result and its transition decides again', () => {
    const r = new ServiceRegistry(config.services);
    r.decide('a', 'up', up);
    // the check that fails for the fail-th time: its result arrives, its transition never does
    r.recordResult('a', result(false, { counters: { state: 'down', rise: 0, fail: 2 } }), 100);
    expect(r.counters('a')).toEqual({ state: 'up', rise: 0, fail: 2 });
    expect(r.get('a')?.advertise).toBe(true);
    // a restarted worker continues from these: its next failure is a transition to DOWN again
    r.decide('a', 'down', { state: 'down', rise: 0, fail: 2 });
    expect(r.counters('a').state).toBe('down');
    expect(r.get('a')?.advertise).toBe(false);
  });

  it("keeps a changed check's decided state on reload when its prefix stays, and starts over when it moves", () => {
    const r = new ServiceRegistry(config.services);
    r.decide('a', 'up', { state: 'up', rise: 3, fail: 0 });
    r.recordResult('a', result(true), 100);
    expect(r.replaceConfig({ ...service('a'), intervalMs: 5000 })).toMatchObject({
      advertise: true,
      counters: { state: 'up', rise: 0, fail: 0 },
      checks: 0,
    });
    expect(r.get('a')?.exported.stateValue).toBe(0);
    expect(r.replaceConfig({ ...service('a'), prefixes: [hostPrefix('10.52.12.9')] })).toMatchObject({
      advertise: false,
      counters: { state: 'unknown' },
    });
    r.decide('b', 'up', up);
    expect(r.replaceConfig({ ...service('b'), disabled: true, onDisabled: 'withdraw' })).toMatchObject({
      advertise: false,
      counters: { state: 'unknown' },
    });
  });

  it('adds and removes services on reload', () => {
    const r = new ServiceRegistry([service('a')]);
    r.add(service('b'));
    expect(r.prefixesOf('b')).toEqual(['10.52.12.2/32']);
    r.remove('a');
    expect(r.all().map((v) => v.config.name)).toEqual(['b']);
    expect(r.prefixesOf('a')).toEqual([]);
  });

  it('changes only the counters of a decision that moves no route', () => {
    const r = new ServiceRegistry(config.services);
    r.updateCounters('a', up);
    expect(r.get('a')).toMatchObject({ counters: up, advertise: false });
  });
});

describe('ServiceRegistry, a service with several prefixes', () => {
  const multiBed = makeBed();
  const multiConfig = multiBed.config(
    { m: { ip_prefix: '10.52.12.1/32, 10.52.12.2/32 2001:db8:52::1/128' }, s: { ip_prefix: '10.52.12.3/32' } },
    { ipv6: 'true', bird6_conf: `${multiBed.dir}/anycast-prefixes6.conf`, bird6_reconfigure_cmd: '/bin/true' },
  );

  it('lists each prefix in its own family, desired together once decided', () => {
    const r = new ServiceRegistry(multiConfig.services);
    expect(r.ofFamily(6).map((v) => v.config.name)).toEqual(['m']);
    expect([...r.configured(4)]).toEqual(['10.52.12.1/32', '10.52.12.2/32', '10.52.12.3/32']);
    expect([...r.configured(6)]).toEqual(['2001:db8:52::1/128']);
    expect(r.prefixesOf('m')).toEqual(['10.52.12.1/32', '10.52.12.2/32', '2001:db8:52::1/128']);
    r.decide('m', 'up', up);
    expect([[...r.desired(4)], [...r.desired(6)]]).toEqual([['10.52.12.1/32', '10.52.12.2/32'], ['2001:db8:52::1/128']]);
    r.decide('m', 'down', { state: 'down', rise: 0, fail: 1 });
    expect([[...r.desired(4)], [...r.desired(6)]]).toEqual([[], []]);
  });

  it('holds each prefix as its file had it at start-up, until the first decision moves them all', () => {
    const r = new ServiceRegistry(multiConfig.services);
    r.adoptStartupFile(4, new Set(['10.52.12.2/32', '10.52.12.3/32']));
    expect([...r.desired(4)]).toEqual(['10.52.12.2/32', '10.52.12.3/32']);
    expect([...r.desired(6)]).toEqual([]);
    r.adoptStartupFile(6, new Set(['2001:db8:52::1/128']));
    expect([[...r.desired(4)], [...r.desired(6)]]).toEqual([['10.52.12.2/32', '10.52.12.3/32'], ['2001:db8:52::1/128']]);
    expect(r.get('m')?.advertise).toBe(true);
    r.decide('m', 'up', up);
    expect(r.get('m')?.held).toBeNull();
    expect([...r.desired(4)]).toEqual(['10.52.12.1/32', '10.52.12.2/32', '10.52.12.3/32']);
  });
});
