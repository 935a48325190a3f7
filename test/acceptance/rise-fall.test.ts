/**
 * Rise and fall of one service as operators' log parsers and alerting see it (docs/logging.md,
 * docs/metrics.md): up, one failure while UP (a flap below the threshold), down, one success
 * while DOWN, up again, then SIGTERM. Compared: the checked records of the service column and
 * of MainThread, exactly and in order, and the textfile's sample set at each of those moments.
 *
 * check_interval is 1.5 s so that each moment lasts longer than the textfile's 1 s period:
 * every moment's textfile is the first one written after that check and must be read before
 * the next check begins.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcceptanceBed,
  daemonVersion,
  PREFIX,
  scheduleProblems,
  SERVICE,
  type DriveResult,
  acceptanceSkip,
  runDrivenScenario,
} from '../helpers/acceptance-bed.js';
import { checkedSequence, normaliseFreeText, type LogRecord } from '../helpers/log-records.js';
import { ANY, textfileProblems, type Moment } from '../helpers/textfile-expect.js';

const skip = acceptanceSkip('rise-fall');

describe.skipIf(skip !== null)('rise and fall of svc-a: records and textfile', () => {
  let bed: AcceptanceBed;
  let drive: DriveResult;
  let records: LogRecord[];
  let version: string;

  beforeAll(async () => {
    version = daemonVersion();
    const healthy = (h: boolean) => (b: AcceptanceBed) => b.setHealthy(h);
    // Check results: S S | F | S S | F F | S | S
    ({ bed, drive, records } = await runDrivenScenario(
      { id: 'acrf' },
      [
        { moment: 'after the first success (no decision yet)' },
        { then: healthy(false), moment: 'after UP is decided' },
        { then: healthy(true), moment: 'after one failure while UP' },
        {},
        { then: healthy(false) },
        {},
        { then: healthy(true), moment: 'after DOWN is decided' },
        { moment: 'after one success while DOWN' },
        { moment: 'after UP again' },
      ],
      5_000,
    ));
  }, 60_000);

  afterAll(async () => {
    await bed?.destroy();
  });

  it('logs going up/down, changed to, status and adding in the service column, exactly and in order', () => {
    const adding = `INFO adding ${PREFIX} in the queue`;
    expect(checkedSequence(records, SERVICE)).toEqual([
      'INFO going up 1/2',
      'INFO changed to UP',
      adding,
      'INFO going down 1/2',
      'INFO going up 1/2',
      'INFO status UP',
      'INFO going down 1/2',
      'INFO changed to DOWN',
      adding,
      'INFO going up 1/2',
      'INFO changed to UP',
      adding,
    ]);
  });

  it('runs one check per check_interval: no two checks closer than a quarter of an interval', () => {
    expect(scheduleProblems(records, 1.5)).toEqual([]);
  });

  it('logs each queued change, the BIRD update and reconfigure, start and stop under MainThread, exactly and in order', () => {
    const returned = (action: string) =>
      `INFO returned an item from the queue for ${SERVICE} with IP prefix ${PREFIX} and action to ${action} Bird configuration`;
    const update = ['INFO Bird configuration for IPv4 is updated'];
    const reconfigure = [`INFO reconfiguring BIRD by running ${bed.reconfigureCmd}`, 'INFO reconfigured BIRD daemon'];
    expect(checkedSequence(records, 'MainThread').map(normaliseFreeText)).toEqual([
      `INFO starting anycast-healthchecker version ${version}`,
      returned('add to'),
      `INFO announcing ${PREFIX} for ${SERVICE}`,
      ...update,
      ...reconfigure,
      returned('delete from'),
      `INFO withdrawing ${PREFIX} for ${SERVICE}`,
      ...update,
      "WARNING Bird configuration doesn't have IP prefixes for any of the services we monitor! It means local node doesn't receive any traffic",
      ...reconfigure,
      returned('add to'),
      `INFO announcing ${PREFIX} for ${SERVICE}`,
      ...update,
      ...reconfigure,
      'INFO received 15 at …',
      `INFO going to remove pidfile ${bed.pidfile}`,
      'INFO shutdown is complete',
    ]);
  });

  it('exits 0 on SIGTERM and removes the pidfile', async () => {
    expect(await bed.daemon.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(bed.pidfile)).toBe(false);
  });

  const moments: Array<[string, Moment]> = [
    ['after the first success (no decision yet)', { duration: ANY, ipAssignment: 1 }],
    ['after UP is decided', { serviceState: 0, duration: ANY, ipAssignment: 1 }],
    ['after one failure while UP', { serviceState: 0, duration: ANY, ipAssignment: 1 }],
    ['after DOWN is decided', { serviceState: 1, duration: ANY, ipAssignment: 1 }],
    ['after one success while DOWN', { serviceState: 1, duration: ANY, ipAssignment: 1 }],
    ['after UP again', { serviceState: 0, duration: ANY, ipAssignment: 1 }],
  ];
  it.each(moments)('textfile %s: exactly the expected samples and values', (name, moment) => {
    const got = drive.moments.get(name);
    if (got instanceof Error || got === undefined) throw got ?? new Error(`no textfile for ${name}`);
    expect(textfileProblems(got.parsed, SERVICE, PREFIX, moment), got.text).toEqual([]);
  });
});
