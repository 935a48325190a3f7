import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Supervisor } from '../src/supervisor';
import { WorkerThreadHost } from '../src/worker-thread-host';
import { WORKER_FILE, makeBed, supervisorsOn, until } from './fixture';
import type { Bed } from './fixture';

const DUMMY = '10.189.200.255/32';
const supervisors = supervisorsOn(
  (config, events) => new WorkerThreadHost({ workerFile: WORKER_FILE, mode: config.daemon.workerThreads, logLevel: 'debug' }, events),
);
const startDaemon = (bed: Bed, config: ReturnType<Bed['config']>) => supervisors.start(bed, config);

describe.each([['per-service'], ['2']])('supervisor with real worker threads (worker_threads = %s)', (mode) => {
  it('advertises healthy services and withdraws failed ones, one file, real threads', async () => {
    const bed = makeBed();
    bed.healthy('a', true);
    bed.healthy('b', true);
    const config = bed.config({ a: { ip_prefix: '10.52.12.1' }, b: { ip_prefix: '10.52.12.2' } }, { worker_threads: mode });
    const { host } = await startDaemon(bed, config);
    expect(host.threadCount).toBe(mode === 'per-service' ? 2 : 2);
    await until(() => bed.prefixes().length === 3, 5000, 'both prefixes advertised');
    expect(bed.prefixes()[0]).toBe(DUMMY);
    bed.healthy('a', false);
    await until(() => !bed.prefixes().includes('10.52.12.1/32'), 5000, 'a withdrawn');
    expect(bed.prefixes()).toEqual([DUMMY, '10.52.12.2/32']);
    bed.healthy('a', true);
    await until(() => bed.prefixes().includes('10.52.12.1/32'), 5000, 'a re-advertised');
  });

  it('coalesces many simultaneous failures into few reconfigures', async () => {
    const bed = makeBed();
    const services: Record<string, Record<string, string>> = {};
    for (let i = 1; i <= 20; i += 1) {
      services[`s${i}`] = { ip_prefix: `10.53.0.${i}/32`, check_interval: '0.3' };
      bed.healthy(`s${i}`, true);
    }
    const config = bed.config(services, { worker_threads: mode });
    await startDaemon(bed, config);
    await until(() => bed.prefixes().length === 21, 8000, 'all advertised');
    await new Promise((r) => setTimeout(r, 400));
    const before = bed.reconfigures();
    for (let i = 1; i <= 20; i += 1) bed.healthy(`s${i}`, false);
    await until(() => bed.prefixes().length === 1, 8000, 'all withdrawn');
    // All 20 fail within one check interval of each other; the stand-in birdc takes ~2 ms,
    // so merging is bounded by how the checks fall in time, but it must be far below 20.
    expect(bed.reconfigures() - before).toBeLessThan(20);
  });
});

describe('supervisor startup and BIRD file handling', () => {
  it('creates a missing file with the dummy and reconfigures once', async () => {
    const bed = makeBed();
    const config = bed.config({});
    await startDaemon(bed, config);
    expect(bed.prefixes()).toEqual([DUMMY]);
    expect(bed.reconfigures()).toBe(1);
    expect(readFileSync(bed.birdConf, 'utf8')).toMatch(/^define ACAST_PS_ADVERTISE =$/m);
  });

  it('keeps prefixes of configured services that are in the file until their checks decide', async () => {
    const bed = makeBed();
    writeFileSync(bed.birdConf, `define ACAST_PS_ADVERTISE =\n    [\n        ${DUMMY},\n        10.52.12.1/32\n    ];\n`);
    const config = bed.config({ a: { ip_prefix: '10.52.12.1/32', check_interval: '30', check_fail: '1' } });
    bed.healthy('a', false);
    await startDaemon(bed, config);
    // the startup repair leaves it; the first (failing) check withdraws it
    await until(() => !bed.prefixes().includes('10.52.12.1/32'), 5000, 'withdrawn after the first check');
    expect(bed.logs.some((l) => l.includes('changed to DOWN'))).toBe(true);
  });

  it('reports unknown prefixes at startup without purge and removes them with purge', async () => {
    const file = `define ACAST_PS_ADVERTISE =\n    [\n        ${DUMMY},\n        10.99.0.1/32\n    ];\n`;
    const keep = makeBed();
    writeFileSync(keep.birdConf, file);
    await startDaemon(keep, keep.config({}));
    expect(keep.prefixes()).toContain('10.99.0.1/32');
    expect(keep.logs.some((l) => l.includes('10.99.0.1/32'))).toBe(true);

    const purge = makeBed();
    writeFileSync(purge.birdConf, file);
    await startDaemon(purge, purge.config({}, { purge_ip_prefixes: 'true' }));
    expect(purge.prefixes()).toEqual([DUMMY]);
  });

  it('corrects a wrong variable name at startup', async () => {
    const bed = makeBed();
    writeFileSync(bed.birdConf, `define WRONG_NAME =\n    [\n        ${DUMMY}\n    ];\n`);
    await startDaemon(bed, bed.config({}));
    expect(readFileSync(bed.birdConf, 'utf8')).toMatch(/define ACAST_PS_ADVERTISE =/);
  });

  it('applies on_disabled for disabled checks without running them', async () => {
    const bed = makeBed();
    const config = bed.config({
      adv: { ip_prefix: '10.52.12.7', check_disabled: 'true', on_disabled: 'advertise', check_cmd: '/bin/false' },
      wd: { ip_prefix: '10.52.12.8', check_disabled: 'true', on_disabled: 'withdraw', check_cmd: '/bin/true' },
    });
    const { host } = await startDaemon(bed, config);
    await until(() => bed.prefixes().includes('10.52.12.7/32'), 3000, 'advertised');
    expect(bed.prefixes()).not.toContain('10.52.12.8/32');
    expect(host.threadCount).toBe(0);
  });

  it('runs custom_bird_reconfigure_cmd with up and down instead of the global command', async () => {
    const bed = makeBed();
    bed.healthy('c', true);
    const config = bed.config({ c: { ip_prefix: '10.52.12.9', custom_bird_reconfigure_cmd: bed.customCmd } });
    await startDaemon(bed, config);
    const afterStart = bed.reconfigures();
    await until(
      () => {
        try {
          return readFileSync(bed.customLog, 'utf8').includes('up');
        } catch {
          return false;
        }
      },
      5000,
      'custom up',
    );
    bed.healthy('c', false);
    await until(() => readFileSync(bed.customLog, 'utf8').trim().split('\n').includes('down'), 5000, 'custom down');
    expect(bed.reconfigures()).toBe(afterStart);
  });

  it('repairs a file deleted while running on the next update', async () => {
    const bed = makeBed();
    bed.healthy('a', true);
    await startDaemon(bed, bed.config({ a: { ip_prefix: '10.52.12.1' } }));
    await until(() => bed.prefixes().includes('10.52.12.1/32'), 5000, 'advertised');
    writeFileSync(bed.birdConf, 'garbage written by hand\n');
    bed.healthy('a', false);
    await until(() => bed.prefixes().length === 1, 5000, 'file rewritten');
    expect(readFileSync(bed.birdConf, 'utf8')).toMatch(/define ACAST_PS_ADVERTISE/);
  });
});

describe('reload (SIGHUP)', () => {
  it('adds, removes and changes services without touching unchanged ones', async () => {
    const bed = makeBed();
    for (const n of ['keep', 'gone', 'edit']) bed.healthy(n, true);
    const first = bed.config({ keep: { ip_prefix: '10.52.12.1' }, gone: { ip_prefix: '10.52.12.2' }, edit: { ip_prefix: '10.52.12.3' } });
    const { sup, host } = await startDaemon(bed, first);
    await until(() => bed.prefixes().length === 4, 5000, 'all advertised');
    const keepThread = host.threads().find((t) => t.services.includes('keep'))?.threadId;
    bed.healthy('new', true);
    const second = bed.config({
      keep: { ip_prefix: '10.52.12.1' },
      edit: { ip_prefix: '10.52.12.3', check_interval: '0.2' },
      new: { ip_prefix: '10.52.12.4' },
    });
    const summary = sup.reload(second);
    expect(summary).toMatchObject({ added: ['new'], removed: ['gone'], changed: ['edit'], unchanged: 1, daemonChanges: [] });
    await until(
      () => bed.prefixes().includes('10.52.12.4/32') && !bed.prefixes().includes('10.52.12.2/32'),
      5000,
      'new advertised, gone withdrawn',
    );
    // the changed service kept its decided state: its prefix never left the file
    expect(bed.prefixes()).toContain('10.52.12.3/32');
    expect(host.threads().find((t) => t.services.includes('keep'))?.threadId).toBe(keepThread);
    // per-service: one slot per service; the removed service's slot went with its thread
    expect(host.slotCount).toBe(3);
    await until(() => host.threadCount === 3, 5000, "the removed service's thread gone");
  });

  it('refuses (returns null, changes nothing) while the checks are not running yet', async () => {
    const bed = makeBed();
    const first = bed.config({ a: { ip_prefix: '10.52.12.1' } });
    const sup = new Supervisor(first, bed.logger);
    supervisors.track(sup);
    expect(sup.reload(bed.config({ b: { ip_prefix: '10.52.12.2' } }))).toBeNull();
    expect(sup.registry.all().map((r) => r.config.name)).toEqual(['a']);
  });
});

describe('malformed messages from a check thread', () => {
  it('are logged with AHC_PROTOCOL (first one, then at most once a minute) and dropped', () => {
    const bed = makeBed();
    const sup = new Supervisor(bed.config({ a: { ip_prefix: '10.52.12.1' } }), bed.logger);
    sup.onProtocolError(7, 'AHC_PROTOCOL', 'malformed log message from a check worker: {"type":"log"}', 1);
    expect(bed.logs.join('')).toMatch(/ERROR +MainThread +AHC_PROTOCOL: check thread 7 sent a message that is not in the protocol/);
  });
});

describe('BIRD down at startup', () => {
  it('starts the checks anyway and retries the reconfigure in the background', async () => {
    const bed = makeBed();
    bed.healthy('a', true);
    const config = bed.config({ a: { ip_prefix: '10.52.12.1' } }, { bird_reconfigure_cmd: '/bin/false' });
    const { host, sup } = await startDaemon(bed, config);
    expect(host.threadCount).toBe(1);
    await until(() => bed.prefixes().includes('10.52.12.1/32'), 5000, 'the check decided UP and the file was written');
    expect(sup.reconcilers.get(4)?.pending).toBe(true);
    expect(sup.reconcilers.get(4)?.lastError).toMatch(/exit(ed)? (with )?(code )?1|code 1/);
  });
});
