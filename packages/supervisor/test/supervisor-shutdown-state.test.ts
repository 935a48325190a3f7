import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { monotonicMs } from '@ahc/protocol';
import { InProcessCheckHost } from '../src/in-process-host';
import { Supervisor } from '../src/supervisor';
import { makeBed, supervisorsOn, until } from './fixture';
import type { Bed } from './fixture';

// withdraw_on_shutdown and the restored start (docs/operations.md), on the supervisor with its
// real check loops in the main thread, the real BIRD file and stand-ins for birdc.

const DUMMY = '10.189.200.255/32';
const supervisors = supervisorsOn((_config, events) => new InProcessCheckHost({ logLevel: 'debug' }, events));

/** A reconfigure stand-in that does `body` (a shell snippet) after logging its run. */
function birdc(bed: Bed, name: string, body: string): string {
  const path = join(bed.dir, name);
  writeFileSync(path, `#!/bin/sh\necho run >> ${bed.reconfigureLog}\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function upAndAdvertised(bed: Bed, daemon: Record<string, string> = {}) {
  bed.healthy('a', true);
  bed.healthy('b', true);
  const config = bed.config({ a: { ip_prefix: '10.52.12.1/32' }, b: { ip_prefix: '10.52.12.2/32' } }, daemon);
  const { sup } = await supervisors.start(bed, config);
  await until(() => bed.prefixes().length === 3 && sup.reconcilers.get(4)?.pending === false, 5000, 'both prefixes advertised and applied');
  return sup;
}

describe('Supervisor.stop with withdraw', () => {
  it('withdraws every advertised prefix in one write, reconfigures once and reports it applied', async () => {
    const bed = makeBed();
    const sup = await upAndAdvertised(bed);
    const before = bed.reconfigures();
    const updated = () => bed.logs.filter((l) => l.includes('Bird configuration for IPv4 is updated')).length;
    const writes = updated();
    const outcome = await sup.stop({ withdraw: { timeoutMs: 5000 } });
    expect(outcome).toMatchObject({ withdraw: 'applied', prefixes: ['10.52.12.1/32', '10.52.12.2/32'], lastError: null });
    expect(bed.prefixes()).toEqual([DUMMY]);
    expect(bed.reconfigures()).toBe(before + 1);
    expect(updated()).toBe(writes + 1);
    for (const p of ['10.52.12.1/32', '10.52.12.2/32'])
      expect(bed.logs.some((l) => l.includes(`returned an item from the queue for`) && l.includes(`${p} and action to delete from`))).toBe(
        true,
      );
    // The decided states are kept: the state file records UP.
    expect(sup.registry.get('a')?.counters.state).toBe('up');
  });

  it('leaves the BIRD file as decided without withdraw (the default)', async () => {
    const bed = makeBed();
    const sup = await upAndAdvertised(bed);
    expect(await sup.stop()).toEqual({ withdraw: 'not-asked' });
    expect(bed.prefixes()).toHaveLength(3);
  });

  it.each([
    ['a dead BIRD (the reconfigure fails at once)', 'echo "Unable to connect to server control socket" >&2; exit 1'],
    ['a reconfigure that hangs', 'sleep 30'],
  ])('gives up within its bound on %s, with the file withdrawn', async (_what, body) => {
    const bed = makeBed();
    const ok = birdc(bed, 'birdc-ok', 'echo Reconfigured');
    const sup = await upAndAdvertised(bed, { bird_reconfigure_cmd: ok, bird_reconfigure_timeout: '20' });
    writeFileSync(ok, `#!/bin/sh\n${body}\n`);
    const started = monotonicMs();
    const outcome = await sup.stop({ withdraw: { timeoutMs: 1500 } });
    const took = monotonicMs() - started;
    expect(outcome.withdraw).toBe('timed-out');
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(3000);
    expect(bed.prefixes()).toEqual([DUMMY]);
  });

  it('stops waiting at once when cut short (a second SIGTERM)', async () => {
    const bed = makeBed();
    const ok = birdc(bed, 'birdc-ok', 'echo Reconfigured');
    const sup = await upAndAdvertised(bed, { bird_reconfigure_cmd: ok, bird_reconfigure_timeout: '20' });
    writeFileSync(ok, '#!/bin/sh\nsleep 30\n');
    const started = monotonicMs();
    const stopping = sup.stop({ withdraw: { timeoutMs: 20_000 } });
    await until(() => bed.prefixes().length === 1, 5000, 'the withdraw written');
    sup.cutShort();
    expect((await stopping).withdraw).toBe('cut-short');
    expect(monotonicMs() - started).toBeLessThan(3000);
  });
});

describe('a restored start', () => {
  it('keeps a restored UP service advertised (adding it to the file) and its first success says status UP', async () => {
    const bed = makeBed();
    bed.healthy('a', true);
    const config = bed.config({ a: { ip_prefix: '10.52.12.1/32', check_rise: '2', check_fail: '2', check_interval: '0.2' } });
    const sup = new Supervisor(config, bed.logger);
    supervisors.track(sup);
    sup.registry.restore(new Map([['a', 'up']]));
    await sup.prepare();
    // Before any check: in the file, as restored (the file did not exist).
    expect(bed.prefixes()).toEqual([DUMMY, '10.52.12.1/32']);
    sup.startChecks(new InProcessCheckHost({ logLevel: 'debug' }, sup));
    await until(() => bed.logs.some((l) => l.includes(' a ') && l.includes('status UP')), 5000, 'status UP');
    expect(bed.logs.filter((l) => l.includes(' a ') && /going up|changed to UP/.test(l))).toEqual([]);
  });

  it('withdraws a restored UP service after check_fail failures, as any UP service', async () => {
    const bed = makeBed();
    bed.healthy('a', false);
    const config = bed.config({ a: { ip_prefix: '10.52.12.1/32', check_rise: '2', check_fail: '3', check_interval: '0.2' } });
    const sup = new Supervisor(config, bed.logger);
    supervisors.track(sup);
    sup.registry.restore(new Map([['a', 'up']]));
    await sup.prepare();
    sup.startChecks(new InProcessCheckHost({ logLevel: 'debug' }, sup));
    await until(() => !bed.prefixes().includes('10.52.12.1/32'), 5000, 'a withdrawn');
    const records = bed.logs
      .filter((l) => l.includes(' a ') && /going down|changed to DOWN/.test(l))
      .map((l) => l.replace(/.* a +/, '').trim());
    expect(records).toEqual(['going down 1/3', 'going down 2/3', 'changed to DOWN']);
  });
});
