import { appendFileSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InProcessCheckHost } from '../src/in-process-host';
import { Supervisor } from '../src/supervisor';
import { makeBed, supervisorsOn, until } from './fixture';

// The supervisor with its address watch on a stand-in `ip`: the dump is a file, the monitor
// `tail -F` of another, so the test writes the kernel's lines itself (the real `ip` is in
// test/integration/address-watch.test.ts). The checks' own getifaddrs is replaced by a counter:
// every answer must come from the watch.
const line = (verb: '' | 'Deleted ', address: string) =>
  `${verb}1: lo    inet ${address}/32 scope global lo\\       valid_lft forever preferred_lft forever\n`;

const supervisors = supervisorsOn(() => {
  throw new Error('unused');
});

describe('Supervisor with the address watch', () => {
  it('starts the checks with the dump, withdraws at once on a Deleted event, follows reloads, shows the source', async () => {
    const bed = makeBed();
    const dump = join(bed.dir, 'dump');
    const events = join(bed.dir, 'events');
    writeFileSync(dump, line('', '10.52.12.1'));
    writeFileSync(events, '');
    const ip = join(bed.dir, 'ip');
    writeFileSync(ip, `#!/bin/sh\ncase "$2" in\n  monitor) exec tail -n 0 -F ${events} ;;\n  *) exec cat ${dump} ;;\nesac\n`);
    chmodSync(ip, 0o755);
    bed.healthy('web', true);
    bed.healthy('api', true);
    const services = { web: { ip_prefix: '10.52.12.1/32', ip_check_disabled: 'false', check_interval: '30' } };
    const sup = new Supervisor(bed.config(services), bed.logger, { addressWatch: { ipPath: ip, subscribeWaitMs: 200 } });
    supervisors.track(sup);
    let asked = 0;
    const host = new InProcessCheckHost(
      {
        logLevel: 'debug',
        isAssigned: () => {
          asked += 1;
          return false;
        },
      },
      sup,
    );
    await sup.start(host);
    expect(sup.snapshot().addresses?.source).toBe('events');
    expect(sup.snapshot().addresses?.monitorPid).toBeGreaterThan(0);
    await until(() => sup.registry.get('web')?.counters.state === 'up', 3000, 'web up from the dump');
    await until(() => bed.prefixes().includes('10.52.12.1/32'), 3000, 'web in the file');

    const removed = Date.now();
    appendFileSync(events, line('Deleted ', '10.52.12.1'));
    // check_interval is 30 s: only the event can withdraw it now.
    await until(() => !bed.prefixes().includes('10.52.12.1/32'), 3000, 'web out of the file');
    expect(Date.now() - removed).toBeLessThan(2000);
    expect(bed.logs.some((l) => l.includes("10.52.12.1/32 isn't assigned to lo interface"))).toBe(true);

    // A service added by a reload starts with the table's answer: 10.52.12.3 is not there.
    const next = bed.config({ ...services, api: { ip_prefix: '10.52.12.3/32', ip_check_disabled: 'false', check_interval: '30' } });
    sup.reload(next);
    await until(() => sup.registry.get('api')?.counters.state === 'down', 3000, 'api down: not in the table');
    appendFileSync(events, line('', '10.52.12.3'));
    appendFileSync(events, line('', '10.52.12.1'));
    // Rise waits for the next tick: run it now.
    await until(() => sup.ipAssigned('api') === true && sup.ipAssigned('web') === true, 3000, 'both assigned again');
    sup.runAllNow();
    await until(
      () => sup.registry.get('api')?.counters.state === 'up' && sup.registry.get('web')?.counters.state === 'up',
      3000,
      'both up',
    );
    expect(asked).toBe(0);
    await sup.stop();
    expect(sup.snapshot().addresses?.monitorPid).toBeNull();
  });

  it('without an ip, checks read the addresses themselves (per-check)', async () => {
    const bed = makeBed();
    bed.healthy('web', true);
    const sup = new Supervisor(bed.config({ web: { ip_prefix: '10.52.12.1/32', ip_check_disabled: 'false' } }), bed.logger, {
      addressWatch: { ipPath: join(bed.dir, 'no-ip') },
    });
    supervisors.track(sup);
    let asked = 0;
    const host = new InProcessCheckHost(
      {
        logLevel: 'debug',
        isAssigned: () => {
          asked += 1;
          return true;
        },
      },
      sup,
    );
    await sup.start(host);
    expect(sup.snapshot().addresses?.source).toBe('per-check');
    expect(sup.ipAssigned('web')).toBeNull();
    await until(() => sup.registry.get('web')?.counters.state === 'up', 3000, 'web up');
    expect(asked).toBeGreaterThan(0);
    expect(bed.logs.filter((l) => l.includes('address watch:'))).toHaveLength(1);
  });
});
