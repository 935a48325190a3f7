import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InProcessCheckHost } from '../src/in-process-host';
import { Supervisor } from '../src/supervisor';
import { makeBed, supervisorsOn, until } from './fixture';
import type { Bed } from './fixture';

// The supervisor with its check loops in the main thread (InProcessCheckHost): the real checks,
// rise/fall and BIRD file, with the fixture's recording stand-in for birdc; no threads, no bundle.

const DUMMY = '10.189.200.255/32';
const supervisors = supervisorsOn((_config, events) => new InProcessCheckHost({ logLevel: 'debug' }, events));
const startDaemon = (bed: Bed, config: ReturnType<Bed['config']>) => supervisors.start(bed, config);

const serviceLines = (bed: Bed, service: string, text: string): number =>
  bed.logs.filter((l) => l.includes(` ${service} `) && l.includes(text)).length;

describe('supervisor with the in-process check host', () => {
  it('advertises after check_rise successes, withdraws after check_fail failures, and reconfigures each time', async () => {
    const bed = makeBed();
    bed.healthy('a', true);
    bed.healthy('b', true);
    const config = bed.config({ a: { ip_prefix: '10.52.12.1', check_rise: '2', check_fail: '2' }, b: { ip_prefix: '10.52.12.2' } });
    const { host, sup } = await startDaemon(bed, config);
    expect(host.services()).toEqual(['a', 'b']);
    await until(() => bed.prefixes().length === 3, 5000, 'both prefixes advertised');
    // the file is written before BIRD is told: wait for the reconfigure that follows it
    await until(() => sup.reconcilers.get(4)?.pending === false, 5000, 'the advertisement applied');
    expect(bed.prefixes()[0]).toBe(DUMMY);
    expect(bed.prefixes().slice(1).sort()).toEqual(['10.52.12.1/32', '10.52.12.2/32']);
    expect(serviceLines(bed, 'a', 'going up 1/2')).toBeGreaterThanOrEqual(1);
    const reconfigures = bed.reconfigures();
    bed.healthy('a', false);
    await until(() => !bed.prefixes().includes('10.52.12.1/32'), 5000, 'a withdrawn');
    expect(bed.prefixes()).toEqual([DUMMY, '10.52.12.2/32']);
    expect(serviceLines(bed, 'a', 'going down 1/2')).toBeGreaterThanOrEqual(1);
    expect(serviceLines(bed, 'a', 'changed to DOWN')).toBe(1);
    await until(() => bed.reconfigures() > reconfigures, 5000, 'a reconfigure for the withdrawal');
    bed.healthy('a', true);
    await until(() => bed.prefixes().includes('10.52.12.1/32'), 5000, 'a re-advertised');
  });

  it('keeps a prefix found in the file until the first check decides', async () => {
    const bed = makeBed();
    writeFileSync(bed.birdConf, `define ACAST_PS_ADVERTISE =\n    [\n        ${DUMMY},\n        10.52.12.1/32\n    ];\n`);
    bed.healthy('a', false);
    const config = bed.config({ a: { ip_prefix: '10.52.12.1/32', check_interval: '30' } });
    const sup = new Supervisor(config, bed.logger);
    supervisors.track(sup);
    await sup.prepare();
    expect(bed.prefixes()).toEqual([DUMMY, '10.52.12.1/32']);
    sup.startChecks(new InProcessCheckHost({ logLevel: 'debug' }, sup));
    await until(() => !bed.prefixes().includes('10.52.12.1/32'), 5000, 'withdrawn after the first check');
    expect(serviceLines(bed, 'a', 'changed to DOWN')).toBe(1);
    expect(bed.prefixes()).toEqual([DUMMY]);
  });

  it('applies on_disabled for disabled checks and never runs their commands', async () => {
    const bed = makeBed();
    const ranAdv = join(bed.dir, 'ran-adv');
    const ranWd = join(bed.dir, 'ran-wd');
    bed.healthy('on', true);
    const config = bed.config({
      adv: { ip_prefix: '10.52.12.7', check_disabled: 'true', on_disabled: 'advertise', check_cmd: `/usr/bin/touch ${ranAdv}` },
      wd: { ip_prefix: '10.52.12.8', check_disabled: 'true', on_disabled: 'withdraw', check_cmd: `/usr/bin/touch ${ranWd}` },
      on: { ip_prefix: '10.52.12.9' },
    });
    const { host, sup } = await startDaemon(bed, config);
    expect(host.services()).toEqual(['on']);
    await until(() => bed.prefixes().includes('10.52.12.7/32') && bed.prefixes().includes('10.52.12.9/32'), 5000, 'advertised');
    const checks = sup.registry.get('on')?.checks ?? 0;
    await until(() => (sup.registry.get('on')?.checks ?? 0) >= checks + 3, 5000, 'more checks of the enabled service');
    expect(bed.prefixes()).not.toContain('10.52.12.8/32');
    expect(existsSync(ranAdv)).toBe(false);
    expect(existsSync(ranWd)).toBe(false);
    expect(sup.registry.get('adv')?.checks).toBe(0);
  });

  it('reload: starts added services, stops removed ones, restarts changed ones keeping their decided state', async () => {
    const bed = makeBed();
    for (const n of ['keep', 'gone', 'edit']) bed.healthy(n, true);
    const first = bed.config({ keep: { ip_prefix: '10.52.12.1' }, gone: { ip_prefix: '10.52.12.2' }, edit: { ip_prefix: '10.52.12.3' } });
    const { sup, host } = await startDaemon(bed, first);
    await until(() => bed.prefixes().length === 4, 5000, 'all advertised');
    bed.healthy('new', true);
    const transitionsOfEdit = serviceLines(bed, 'edit', 'changed to UP');
    const summary = sup.reload(
      bed.config({
        keep: { ip_prefix: '10.52.12.1' },
        edit: { ip_prefix: '10.52.12.3', check_interval: '0.2' },
        new: { ip_prefix: '10.52.12.4' },
      }),
    );
    expect(summary).toMatchObject({ added: ['new'], removed: ['gone'], changed: ['edit'], unchanged: 1, daemonChanges: [] });
    expect(host.services().sort()).toEqual(['edit', 'keep', 'new']);
    await until(
      () => bed.prefixes().includes('10.52.12.4/32') && !bed.prefixes().includes('10.52.12.2/32'),
      5000,
      'new advertised, gone withdrawn',
    );
    const edits = sup.registry.get('edit')?.checks ?? 0;
    await until(() => (sup.registry.get('edit')?.checks ?? 0) > edits + 1, 5000, 'the changed service checks again');
    // It went on from UP: no new decision, and its prefix never left the file.
    expect(serviceLines(bed, 'edit', 'changed to UP')).toBe(transitionsOfEdit);
    expect(bed.prefixes()).toContain('10.52.12.3/32');
  });

  it('runs custom_bird_reconfigure_cmd with up and down instead of the global command', async () => {
    const bed = makeBed();
    bed.healthy('c', true);
    const { sup } = await startDaemon(bed, bed.config({ c: { ip_prefix: '10.52.12.9', custom_bird_reconfigure_cmd: bed.customCmd } }));
    const afterStart = bed.reconfigures();
    const custom = (): string[] => (existsSync(bed.customLog) ? readFileSync(bed.customLog, 'utf8').trim().split('\n') : []);
    await until(() => custom().includes('up'), 5000, 'custom up');
    bed.healthy('c', false);
    await until(() => custom().includes('down'), 5000, 'custom down');
    expect(bed.reconfigures()).toBe(afterStart);
    expect(sup.registry.get('c')?.advertise).toBe(false);
  });

  it('SIGURG (runAllNow) runs every check at once', async () => {
    const bed = makeBed();
    bed.healthy('a', true);
    const { sup } = await startDaemon(bed, bed.config({ a: { ip_prefix: '10.52.12.1', check_interval: '60' } }));
    await until(() => sup.registry.get('a')?.checks === 1, 5000, 'the first check');
    sup.runAllNow();
    await until(() => sup.registry.get('a')?.checks === 2, 5000, 'the check run now');
  });

  it('stop() ends the checks and leaves the BIRD file as last decided', async () => {
    const bed = makeBed();
    bed.healthy('a', true);
    const { sup, host } = await startDaemon(bed, bed.config({ a: { ip_prefix: '10.52.12.1' } }));
    await until(() => bed.prefixes().includes('10.52.12.1/32'), 5000, 'advertised');
    await sup.stop();
    expect(host.services()).toEqual([]);
    expect(bed.prefixes()).toEqual([DUMMY, '10.52.12.1/32']);
  });
});
