import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InProcessCheckHost } from '../src/in-process-host';
import { Supervisor } from '../src/supervisor';
import { makeBed, supervisorsOn, until } from './fixture';
import type { Bed } from './fixture';

// Drains through the supervisor, with real checks (in-process host), the real BIRD file and the
// fixture's recording stand-in for birdc: a drain takes the same reconciler path as a DOWN.

const DUMMY = '10.189.200.255/32';
const A = '10.52.12.1/32';
const B = '10.52.12.2/32';
const C = '10.52.12.3/32';
const supervisors = supervisorsOn((_config, events) => new InProcessCheckHost({ logLevel: 'debug' }, events));

async function allUp(bed: Bed, sup: Supervisor, prefixes: readonly string[]): Promise<void> {
  await until(() => prefixes.every((p) => bed.prefixes().includes(p)), 5000, `${prefixes.join(', ')} advertised`);
  await until(() => sup.reconcilers.get(4)?.pending === false, 5000, 'applied');
}

const applied = (sup: Supervisor) => until(() => sup.reconcilers.get(4)?.pending === false, 5000, 'applied');

describe('drains in the supervisor', () => {
  it('withdraw a healthy service at once, keep its check running, and re-advertise it at once when undrained', async () => {
    const bed = makeBed();
    bed.healthy('a', true);
    bed.healthy('b', true);
    const { sup } = await supervisors.start(bed, bed.config({ a: { ip_prefix: A }, b: { ip_prefix: B } }));
    await allUp(bed, sup, [A, B]);
    const before = bed.reconfigures();
    expect(sup.drain(['a'], 'maintenance')).toEqual(['a']);
    await until(() => !bed.prefixes().includes(A), 2000, 'a withdrawn');
    await applied(sup);
    expect(bed.prefixes()).toEqual([DUMMY, B]);
    expect(bed.reconfigures()).toBe(before + 1);
    expect(bed.logs.some((l) => l.includes('withdrawing 10.52.12.1/32 for a'))).toBe(true);
    expect(bed.logs.some((l) => / a .*drained \(drain command: maintenance\)/.test(l))).toBe(true);
    // The check goes on and still decides: status shows what the service would be.
    const checks = sup.registry.get('a')?.checks ?? 0;
    await until(() => (sup.registry.get('a')?.checks ?? 0) >= checks + 3, 5000, 'more checks of the drained service');
    expect(sup.registry.get('a')?.advertise).toBe(true);
    expect(sup.snapshot().services.find((s) => s.view.config.name === 'a')?.drains).toEqual([
      { source: 'command', all: false, reason: 'maintenance', since: expect.any(String) },
    ]);
    expect(sup.undrain(['a'])).toEqual(['a']);
    await until(() => bed.prefixes().includes(A), 2000, 'a announced again');
    expect(bed.logs.some((l) => l.includes('announcing 10.52.12.1/32 for a'))).toBe(true);
    expect(
      bed.logs.some((l) =>
        /undrained after \d+\.\d s \(drain command: maintenance\): 10\.52\.12\.1\/32 is announced again \(the check says UP\)/.test(l),
      ),
    ).toBe(true);
  });

  it('keep a drained service withdrawn while its check goes DOWN and UP again, without telling its own reconfigure command', async () => {
    const bed = makeBed();
    bed.healthy('c', true);
    const custom = (): string[] => (existsSync(bed.customLog) ? readFileSync(bed.customLog, 'utf8').trim().split('\n') : []);
    const { sup } = await supervisors.start(bed, bed.config({ c: { ip_prefix: C, custom_bird_reconfigure_cmd: bed.customCmd } }));
    await until(() => custom().includes('up'), 5000, 'custom up');
    sup.drain(['c'], 'r');
    await until(() => custom().join(',') === 'up,down', 5000, 'custom down for the drain');
    bed.healthy('c', false);
    await until(() => sup.registry.get('c')?.counters.state === 'down', 5000, 'c decided DOWN');
    bed.healthy('c', true);
    await until(() => sup.registry.get('c')?.counters.state === 'up', 5000, 'c decided UP again');
    await applied(sup);
    expect(bed.prefixes()).toEqual([DUMMY]);
    expect(custom()).toEqual(['up', 'down']);
    expect(bed.logs.some((l) => l.includes(`is drained: ${C} stays withdrawn whatever the check says`))).toBe(true);
    sup.undrain(['c']);
    await until(() => bed.prefixes().includes(C), 2000, 'c announced again');
    await until(() => custom().join(',') === 'up,down,up', 5000, 'custom up for the undrain');
  });

  it('apply a drain of several services, and drain --all, with one write and one reconfigure', async () => {
    const bed = makeBed();
    for (const n of ['a', 'b', 'c']) bed.healthy(n, true);
    const { sup } = await supervisors.start(bed, bed.config({ a: { ip_prefix: A }, b: { ip_prefix: B }, c: { ip_prefix: C } }));
    await allUp(bed, sup, [A, B, C]);
    let before = bed.reconfigures();
    expect(sup.drain(['a', 'b'], 'two').sort()).toEqual(['a', 'b']);
    await until(() => bed.prefixes().length === 2, 2000, 'a and b withdrawn');
    await applied(sup);
    expect(bed.reconfigures()).toBe(before + 1);
    before = bed.reconfigures();
    expect(sup.drain('*', 'all')).toEqual(['c']);
    await until(() => bed.prefixes().length === 1, 2000, 'all withdrawn');
    await applied(sup);
    expect(bed.reconfigures()).toBe(before + 1);
    before = bed.reconfigures();
    expect(sup.undrain('*').sort()).toEqual(['a', 'b', 'c']);
    await until(() => bed.prefixes().length === 4, 2000, 'all announced again');
    await applied(sup);
    expect(bed.reconfigures()).toBe(before + 1);
  });

  it('leave an undrained service withdrawn when its check says DOWN, and a disabled advertise one follows the drain too', async () => {
    const bed = makeBed();
    bed.healthy('a', false);
    const { sup } = await supervisors.start(
      bed,
      bed.config({ a: { ip_prefix: A }, adv: { ip_prefix: B, check_disabled: 'true', on_disabled: 'advertise' } }),
    );
    await until(() => sup.registry.get('a')?.counters.state === 'down', 5000, 'a DOWN');
    await allUp(bed, sup, [B]);
    sup.drain('*', 'x');
    await until(() => bed.prefixes().length === 1, 2000, 'adv withdrawn');
    sup.undrain('*');
    await until(() => bed.prefixes().includes(B), 2000, 'adv announced again');
    await applied(sup);
    expect(bed.prefixes()).toEqual([DUMMY, B]);
    expect(bed.logs.some((l) => l.includes(`stays withdrawn until the check decides UP (now DOWN)`))).toBe(true);
  });

  it('apply drains set before start-up with the first write: a drained prefix found in the file is withdrawn, never kept', async () => {
    const bed = makeBed();
    writeFileSync(bed.birdConf, `define ACAST_PS_ADVERTISE =\n    [\n        ${DUMMY},\n        ${A},\n        ${B}\n    ];\n`);
    bed.healthy('a', true);
    bed.healthy('b', true);
    const config = bed.config({ a: { ip_prefix: A, check_interval: '30' }, b: { ip_prefix: B, check_interval: '30' } });
    const sup = new Supervisor(config, bed.logger);
    supervisors.track(sup);
    expect(
      sup.restoreDrains({
        b: { reason: 'saved', since: '2026-12-01T09:00:00.000Z' },
        gone: { reason: 'x', since: '2026-12-01T09:00:00.000Z' },
      }),
    ).toEqual({
      restored: ['b'],
      ignored: ['gone: not a configured service'],
    });
    expect(sup.undrain(['b'])).toEqual(['b']);
    expect(sup.setDrainFile({ kind: 'services', names: ['a'] }, 'drain file /x')).toEqual(['a']);
    expect(sup.drain(['b'], 'before start')).toEqual(['b']);
    expect(sup.undrain(['b'])).toEqual(['b']);
    expect(sup.drains.isDrained('a')).toBe(true);
    await sup.prepare();
    expect(bed.prefixes()).toEqual([DUMMY, B]);
    sup.startChecks(new InProcessCheckHost({ logLevel: 'debug' }, sup));
    sup.setDrainFile({ kind: 'absent' }, 'drain file /x');
    await until(() => bed.prefixes().includes(A), 5000, 'a announced after its check decided UP');
  });

  it('reload: a removed service loses its drain; an added one is drained by --all', async () => {
    const bed = makeBed();
    bed.healthy('a', true);
    bed.healthy('b', true);
    const { sup } = await supervisors.start(bed, bed.config({ a: { ip_prefix: A } }));
    await allUp(bed, sup, [A]);
    sup.drain(['a'], 'r');
    sup.reload(bed.config({ b: { ip_prefix: B } }));
    expect(sup.drains.snapshot()).toEqual({});
    expect(bed.logs.some((l) => l.includes('the drain of a ends: the service is no longer configured'))).toBe(true);
    await allUp(bed, sup, [B]);
    sup.drain('*', 'all');
    sup.reload(bed.config({ b: { ip_prefix: B }, a: { ip_prefix: A } }));
    await until(() => (sup.registry.get('a')?.checks ?? 0) >= 3, 5000, 'a checked');
    await applied(sup);
    expect(bed.prefixes()).toEqual([DUMMY]);
    expect(sup.unknownServices(['a', 'b', 'zz'])).toEqual(['zz']);
  });
});
