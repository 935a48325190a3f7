import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InProcessCheckHost } from '../src/in-process-host';
import { Supervisor } from '../src/supervisor';
import { linesIn, makeBed, prefixesIn, supervisorsOn, until } from './fixture';
import type { Bed } from './fixture';

// A service whose ip_prefix lists several prefixes, IPv4 and IPv6 mixed, with the real checks,
// rise/fall and BIRD files, and a recording stand-in for each family's reconfigure command.

const DUMMY4 = '10.189.200.255/32';
const DUMMY6 = '2001:db8::1/128';
const MULTI = ['10.52.12.1/32', '10.52.12.2/32', '2001:db8:52::1/128'] as const;
const supervisors = supervisorsOn((_config, events) => new InProcessCheckHost({ logLevel: 'debug' }, events));

interface Bed6 {
  readonly bed: Bed;
  readonly bird6Conf: string;
  prefixes6(): string[];
  reconfigures6(): number;
  daemon: Record<string, string>;
}

function makeBed6(): Bed6 {
  const bed = makeBed();
  const bird6Conf = join(bed.dir, 'anycast-prefixes6.conf');
  const log6 = join(bed.dir, 'reconfigures6');
  const birdc6 = join(bed.dir, 'birdc6');
  writeFileSync(birdc6, `#!/bin/sh\necho run >> ${log6}\necho Reconfigured\n`);
  chmodSync(birdc6, 0o755);
  return {
    bed,
    bird6Conf,
    daemon: { ipv6: 'true', bird6_conf: bird6Conf, bird6_reconfigure_cmd: `${birdc6} configure` },
    prefixes6: () => prefixesIn(bird6Conf),
    reconfigures6: () => linesIn(log6),
  };
}

const mainLines = (bed: Bed, pattern: RegExp): string[] =>
  bed.logs.filter((l) => l.includes(' MainThread ') && pattern.test(l)).map((l) => l.replace(/^.* MainThread +/, '').trimEnd());
const counts = (b: Bed6) => ({
  written4: mainLines(b.bed, /Bird configuration for IPv4 is updated/).length,
  written6: mainLines(b.bed, /Bird configuration for IPv6 is updated/).length,
  reconfigured4: b.bed.reconfigures(),
  reconfigured6: b.reconfigures6(),
});

async function settled(sup: Supervisor): Promise<void> {
  await until(() => sup.reconcilers.get(4)?.pending === false && sup.reconcilers.get(6)?.pending === false, 5000, 'both families applied');
}

describe('a service with several prefixes', () => {
  it('goes up and down as one: each family written once and reconfigured once per decision', async () => {
    const b = makeBed6();
    const config = b.bed.config({ multi: { ip_prefix: MULTI.join(', ') } }, b.daemon);
    const sup = new Supervisor(config, b.bed.logger);
    supervisors.track(sup);
    await sup.prepare();
    await settled(sup);
    const start = counts(b);
    b.bed.healthy('multi', true);
    sup.startChecks(new InProcessCheckHost({ logLevel: 'debug' }, sup));
    await until(() => b.bed.prefixes().length === 3 && b.prefixes6().length === 2, 5000, 'all three advertised');
    await settled(sup);
    expect(b.bed.prefixes()).toEqual([DUMMY4, MULTI[0], MULTI[1]]);
    expect(b.prefixes6()).toEqual([DUMMY6, MULTI[2]]);
    const up = counts(b);
    expect(up).toEqual({
      written4: start.written4 + 1,
      written6: start.written6 + 1,
      reconfigured4: start.reconfigured4 + 1,
      reconfigured6: start.reconfigured6 + 1,
    });
    expect(
      b.bed.logs.filter((l) => l.includes(' multi ') && l.includes('in the queue')).map((l) => l.replace(/^.* multi +/, '').trimEnd()),
    ).toEqual(MULTI.map((p) => `adding ${p} in the queue`));
    // Each family's reconciler logs its items in order; the two families run side by side.
    const v4 = (l: string): boolean => !l.includes('2001:db8');
    const served = mainLines(b.bed, /returned an item|announcing|withdrawing/);
    expect(served.filter(v4)).toEqual([
      'returned an item from the queue for multi with IP prefix 10.52.12.1/32 and action to add to Bird configuration',
      'announcing 10.52.12.1/32 for multi',
      'returned an item from the queue for multi with IP prefix 10.52.12.2/32 and action to add to Bird configuration',
      'announcing 10.52.12.2/32 for multi',
    ]);
    expect(served.filter((l) => !v4(l))).toEqual([
      'returned an item from the queue for multi with IP prefix 2001:db8:52::1/128 and action to add to Bird configuration',
      'announcing 2001:db8:52::1/128 for multi',
    ]);
    b.bed.healthy('multi', false);
    await until(() => b.bed.prefixes().length === 1 && b.prefixes6().length === 1, 5000, 'all three withdrawn');
    await settled(sup);
    expect(counts(b)).toEqual({
      written4: up.written4 + 1,
      written6: up.written6 + 1,
      reconfigured4: up.reconfigured4 + 1,
      reconfigured6: up.reconfigured6 + 1,
    });
    expect(mainLines(b.bed, /withdrawing/).sort()).toEqual(MULTI.map((p) => `withdrawing ${p} for multi`).sort());
  });

  it('keeps each prefix as the files had it at start-up until the first decision, then moves them all', async () => {
    const b = makeBed6();
    // A daemon stopped between its two writes: the IPv4 file has one of the two, the IPv6 file has its prefix.
    writeFileSync(b.bed.birdConf, `define ACAST_PS_ADVERTISE =\n    [\n        ${DUMMY4},\n        ${MULTI[1]}\n    ];\n`);
    writeFileSync(b.bird6Conf, `define ACAST6_PS_ADVERTISE =\n    [\n        ${DUMMY6},\n        ${MULTI[2]}\n    ];\n`);
    const config = b.bed.config({ multi: { ip_prefix: MULTI.join(' '), check_interval: '30' } }, b.daemon);
    const sup = new Supervisor(config, b.bed.logger);
    supervisors.track(sup);
    await sup.prepare();
    await settled(sup);
    expect([b.bed.prefixes(), b.prefixes6()]).toEqual([
      [DUMMY4, MULTI[1]],
      [DUMMY6, MULTI[2]],
    ]);
    expect(sup.registry.get('multi')?.advertise).toBe(true);
    expect(mainLines(b.bed, /is updated/)).toEqual([]);
    b.bed.healthy('multi', true);
    sup.startChecks(new InProcessCheckHost({ logLevel: 'debug' }, sup));
    await until(() => b.bed.prefixes().length === 3, 5000, 'the missing IPv4 prefix advertised with the others');
    await settled(sup);
    expect([b.bed.prefixes(), b.prefixes6()]).toEqual([
      [DUMMY4, MULTI[1], MULTI[0]],
      [DUMMY6, MULTI[2]],
    ]);
    // The IPv6 file already had its prefix: nothing to write there.
    expect(mainLines(b.bed, /is updated/)).toEqual(['Bird configuration for IPv4 is updated']);
  });

  it('keeps its decided state across a reload that only reorders its prefixes; a shorter list withdraws the dropped one', async () => {
    const b = makeBed6();
    b.bed.healthy('multi', true);
    const { sup } = await supervisors.start(b.bed, b.bed.config({ multi: { ip_prefix: MULTI.join(', ') } }, b.daemon));
    await until(() => b.bed.prefixes().length === 3 && b.prefixes6().length === 2, 5000, 'all three advertised');
    await settled(sup);
    const reordered = sup.reload(b.bed.config({ multi: { ip_prefix: [...MULTI].reverse().join(' ') } }, b.daemon));
    expect(reordered?.changed).toEqual(['multi']);
    expect(sup.registry.get('multi')).toMatchObject({ advertise: true, counters: { state: 'up' } });
    expect([[...sup.registry.desired(4)].sort(), [...sup.registry.desired(6)]]).toEqual([[MULTI[0], MULTI[1]], [MULTI[2]]]);
    const shorter = sup.reload(b.bed.config({ multi: { ip_prefix: `${MULTI[0]} ${MULTI[2]}` } }, b.daemon));
    expect(shorter?.changed).toEqual(['multi']);
    await until(() => b.bed.prefixes().length === 2 && !b.bed.prefixes().includes(MULTI[1]), 5000, 'the dropped prefix withdrawn');
    await until(() => b.prefixes6().length === 2 && b.bed.prefixes().includes(MULTI[0]), 5000, 'the kept ones advertised');
    expect(b.bed.prefixes()).toEqual([DUMMY4, MULTI[0]]);
  });

  it('a disabled check with on_disabled = advertise queues every prefix once, between its two records', async () => {
    const b = makeBed6();
    const config = b.bed.config({ multi: { ip_prefix: MULTI.join(', '), check_disabled: 'true', on_disabled: 'advertise' } }, b.daemon);
    const { sup } = await supervisors.start(b.bed, config);
    await until(() => b.bed.prefixes().length === 3 && b.prefixes6().length === 2, 5000, 'all three advertised');
    await settled(sup);
    expect(
      b.bed.logs.filter((l) => l.includes(' multi ') && !l.includes(' MainThread ')).map((l) => l.replace(/^.* multi +/, '').trimEnd()),
    ).toEqual([
      'check is disabled, ip_prefix wont be withdrawn',
      ...MULTI.map((p) => `adding ${p} in the queue`),
      'check is now permanently disabled',
    ]);
  });

  it('on_worker_failure = withdraw takes every prefix out of both files', async () => {
    const b = makeBed6();
    b.bed.healthy('multi', true);
    const config = b.bed.config({ multi: { ip_prefix: MULTI.join(', ') } }, { ...b.daemon, on_worker_failure: 'withdraw' });
    const { sup } = await supervisors.start(b.bed, config);
    await until(() => b.bed.prefixes().length === 3 && b.prefixes6().length === 2, 5000, 'all three advertised');
    // What the check host reports when it gives up on the service's worker.
    sup.host?.stop('multi');
    sup.onThreadFailed(['multi'], 'test: the worker keeps failing');
    await until(() => b.bed.prefixes().length === 1 && b.prefixes6().length === 1, 5000, 'all three withdrawn');
    expect([b.bed.prefixes(), b.prefixes6()]).toEqual([[DUMMY4], [DUMMY6]]);
  });
});
