/**
 * Check commands killed at check_timeout (docs/logging.md, docs/metrics.md): UP, then two checks
 * that outlive check_timeout (DOWN), then recovery. Compared: ERROR `check timed out` before the
 * failure records, and the textfile: service_state 126, the timeout counter 2 with its
 * `…_timeout_created` gauge (neither before the first timeout), the duration left as the last
 * completed check set it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcceptanceBed,
  daemonVersion,
  PREFIX,
  scheduleProblems,
  SERVICE,
  type DriveResult,
  type Textfile,
  acceptanceSkip,
  runDrivenScenario,
} from '../helpers/acceptance-bed.js';
import { ADDING, announced, starting, stopped, withdrawn } from '../helpers/expected-records.js';
import { checkedSequence, normaliseFreeText, type LogRecord } from '../helpers/log-records.js';
import { ANY, serviceValue, textfileProblems, type Moment } from '../helpers/textfile-expect.js';

const skip = acceptanceSkip('check-timeout');

describe.skipIf(skip !== null)('svc-a whose check outlives check_timeout', () => {
  let bed: AcceptanceBed;
  let drive: DriveResult;
  let records: LogRecord[];
  let version: string;

  beforeAll(async () => {
    version = daemonVersion();
    // The slow check sleeps 5 s; check_timeout is 0.3 s of a 2 s interval, so that the moment
    // after a timed-out check still outlasts the textfile's 1 s period.
    ({ bed, drive, records } = await runDrivenScenario(
      { id: 'acto', service: { check_interval: '2', check_timeout: '0.3' } },
      [
        { kind: 'run' },
        { kind: 'run', then: (b) => b.setSlow(true), moment: 'after UP' },
        { kind: 'timeout' },
        { kind: 'timeout', then: (b) => b.setSlow(false), moment: 'after two timeouts (DOWN)' },
        { kind: 'run' },
        { kind: 'run', moment: 'after recovery' },
      ],
      6_000,
    ));
  }, 60_000);

  afterAll(async () => {
    await bed?.destroy();
  });

  it('logs ERROR check timed out and counts it as a failure', () => {
    expect(checkedSequence(records, SERVICE)).toEqual([
      'INFO going up 1/2',
      'INFO changed to UP',
      ADDING,
      'ERROR check timed out',
      'INFO going down 1/2',
      'ERROR check timed out',
      'INFO changed to DOWN',
      ADDING,
      'INFO going up 1/2',
      'INFO changed to UP',
      ADDING,
    ]);
  });

  it('runs one check per check_interval: no two checks closer than a quarter of an interval', () => {
    expect(scheduleProblems(records, 2)).toEqual([]);
  });

  it('withdraws after the second timeout and announces again after recovery (MainThread)', () => {
    expect(checkedSequence(records, 'MainThread').map(normaliseFreeText)).toEqual([
      starting(version),
      ...announced(bed.reconfigureCmd),
      ...withdrawn(bed.reconfigureCmd),
      ...announced(bed.reconfigureCmd),
      ...stopped(bed.pidfile),
    ]);
  });

  const moment = (name: string): Textfile => {
    const got = drive.moments.get(name);
    if (got instanceof Error || got === undefined) throw got ?? new Error(`no textfile for ${name}`);
    return got;
  };

  it.each<[string, Moment]>([
    ['after UP', { serviceState: 0, duration: ANY, ipAssignment: 1 }],
    ['after two timeouts (DOWN)', { serviceState: 126, duration: ANY, ipAssignment: 1, timeouts: 2 }],
    ['after recovery', { serviceState: 0, duration: ANY, ipAssignment: 1, timeouts: 2 }],
  ])('textfile %s: exactly the expected samples and values', (name, expected) => {
    const got = moment(name);
    expect(textfileProblems(got.parsed, SERVICE, PREFIX, expected), got.text).toEqual([]);
  });

  it("keeps the last completed check's duration through timed-out checks", () => {
    const before = serviceValue(moment('after UP').parsed, 'service_check_duration_milliseconds', SERVICE);
    const after = serviceValue(moment('after two timeouts (DOWN)').parsed, 'service_check_duration_milliseconds', SERVICE);
    expect(before).toBeDefined();
    expect(after).toBe(before);
  });
});
