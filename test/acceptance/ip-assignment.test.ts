/**
 * The service's prefix missing from its interface (docs/logging.md, docs/metrics.md): the daemon
 * runs in its own network namespace whose lo starts without 10.52.0.1/32; the test assigns it
 * (the service goes UP) and removes it again. Compared: the `isn't assigned` / `status DOWN
 * because` records (with `adding` only when the state was not DOWN yet), MainThread's handling
 * of each queued change, and the textfile (service_state 1 and ip_assignment 0 while unassigned,
 * the duration left as the last completed check set it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcceptanceBed,
  daemonVersion,
  isOutcome,
  PREFIX,
  scheduleProblems,
  SERVICE,
  type DriveResult,
  type Textfile,
  acceptanceSkip,
  runDrivenScenario,
} from '../helpers/acceptance-bed.js';
import { ADDING, announced, NOT_ASSIGNED, returned, starting, stopped, withdrawn } from '../helpers/expected-records.js';
import { checkedSequence, normaliseFreeText, type LogRecord } from '../helpers/log-records.js';
import { pollUntil } from '../helpers/poll.js';
import { ANY, serviceValue, textfileProblems, type Moment } from '../helpers/textfile-expect.js';

const skip = acceptanceSkip('ip-assignment');

describe.skipIf(skip !== null)('svc-a with its prefix unassigned, assigned, removed', () => {
  let bed: AcceptanceBed;
  let drive: DriveResult;
  let records: LogRecord[];
  let version: string;

  beforeAll(async () => {
    version = daemonVersion();
    ({ bed, drive, records } = await runDrivenScenario(
      { id: 'acip', assignAddress: false },
      [
        { kind: 'unassigned', moment: 'with the IP unassigned from the start' },
        { kind: 'unassigned', then: (b) => b.addAddress() },
        { kind: 'run' },
        // The removal comes after the textfile was read: the daemon checks at once when an address
        // goes (docs/design.md, "Address checks: one kernel subscription").
        { kind: 'run', moment: 'after it was assigned and UP decided', afterMoment: (b) => b.delAddress() },
        // The check the removal triggered can be close to the next scheduled one: the textfile
        // (written every second) is read after the scheduled one.
        { kind: 'unassigned' },
        { kind: 'unassigned', moment: 'after it was removed' },
      ],
      5_000,
    ));
  }, 60_000);

  afterAll(async () => {
    await bed?.destroy();
  });

  it("logs isn't assigned / status DOWN because at every such check, adding only when not DOWN yet", () => {
    expect(checkedSequence(records, SERVICE)).toEqual([
      ...NOT_ASSIGNED,
      ADDING,
      ...NOT_ASSIGNED,
      'INFO going up 1/2',
      'INFO changed to UP',
      ADDING,
      ...NOT_ASSIGNED,
      ADDING,
      ...NOT_ASSIGNED,
    ]);
  });

  it('runs one check per check_interval: no two checks closer than a quarter of an interval, but the one the removal triggers', () => {
    // The check run at once because the address went is outside the schedule; the rest keeps it.
    const up = records.findIndex((r) => r.thread === SERVICE && r.message === 'changed to UP');
    const triggered = records.findIndex((r, i) => i > up && r.thread === SERVICE && r.message.startsWith('status DOWN because'));
    expect(up).toBeGreaterThan(0);
    expect(triggered).toBeGreaterThan(up);
    expect(
      scheduleProblems(
        records.filter((_, i) => i !== triggered),
        1.5,
      ),
    ).toEqual([]);
  });

  it('handles each queued change under MainThread: no update for the first withdraw, then announce and withdraw', () => {
    expect(checkedSequence(records, 'MainThread').map(normaliseFreeText)).toEqual([
      starting(version),
      returned('delete from'),
      'INFO no updates for bird configuration',
      ...announced(bed.reconfigureCmd),
      ...withdrawn(bed.reconfigureCmd),
      ...stopped(bed.pidfile),
    ]);
  });

  const moment = (name: string): Textfile => {
    const got = drive.moments.get(name);
    if (got instanceof Error || got === undefined) throw got ?? new Error(`no textfile for ${name}`);
    return got;
  };

  it.each<[string, Moment]>([
    ['with the IP unassigned from the start', { serviceState: 1, ipAssignment: 0 }],
    ['after it was assigned and UP decided', { serviceState: 0, duration: ANY, ipAssignment: 1 }],
    ['after it was removed', { serviceState: 1, duration: ANY, ipAssignment: 0 }],
  ])('textfile %s: exactly the expected samples and values', (name, expected) => {
    const got = moment(name);
    expect(textfileProblems(got.parsed, SERVICE, PREFIX, expected), got.text).toEqual([]);
  });

  it("keeps the last completed check's duration while the IP is unassigned", () => {
    const before = serviceValue(moment('after it was assigned and UP decided').parsed, 'service_check_duration_milliseconds', SERVICE);
    const after = serviceValue(moment('after it was removed').parsed, 'service_check_duration_milliseconds', SERVICE);
    expect(before).toBeDefined();
    expect(after).toBe(before);
  });
});

describe.skipIf(skip !== null)('svc-a with its prefix unassigned: the schedule', () => {
  let bed: AcceptanceBed | undefined;
  afterAll(async () => {
    await bed?.destroy();
  });

  it('runs one unassigned-IP check per check_interval (a check that ends at once does not run its slot twice)', async () => {
    bed = await AcceptanceBed.create({ id: 'acis', assignAddress: false, service: { check_interval: '0.2', check_timeout: '0.2' } });
    const b = bed;
    b.start();
    await pollUntil(async () => (b.records(SERVICE).filter(isOutcome).length >= 20 ? true : undefined), {
      what: '20 checks',
      timeoutMs: 10_000,
      describe: () => b.tail(5),
    });
    await b.stop();
    expect(scheduleProblems(b.records(SERVICE), 0.2)).toEqual([]);
  }, 20_000);
});
