/**
 * A service with check_disabled = true (docs/logging.md, docs/metrics.md), once per on_disabled
 * value: only the listed records, once; MainThread's handling of the one queued change; no check
 * ever runs; the textfile holds only the `service` sample for it.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AcceptanceBed, daemonVersion, DUMMY, PREFIX, REPO_ROOT, SERVICE } from '../helpers/acceptance-bed.js';
import { daemonSkipReason } from '../helpers/daemon-process.js';
import { ADDING, announced, returned, starting, stopped } from '../helpers/expected-records.js';
import { checkedSequence, normaliseFreeText } from '../helpers/log-records.js';
import { textfileProblems } from '../helpers/textfile-expect.js';

const skip = daemonSkipReason(REPO_ROOT);
if (skip !== null) console.warn(`check-disabled acceptance skipped: ${skip}`);

const beds: AcceptanceBed[] = [];
afterEach(async () => {
  for (const bed of beds.splice(0)) await bed.destroy();
});

/** Run the daemon for three textfile periods, then stop it. */
async function runDisabled(id: string, onDisabled: 'withdraw' | 'advertise') {
  const bed = await AcceptanceBed.create({
    id,
    netns: false,
    service: { check_disabled: 'true', on_disabled: onDisabled, check_interval: '0.2', check_timeout: '0.2' },
  });
  beds.push(bed);
  bed.start();
  const textfile = await bed.textfileWrites(undefined, 3, 8_000);
  await bed.stop();
  return { bed, textfile, reconfigures: readFileSync(bed.reconfigureLog, { flag: 'a+', encoding: 'utf8' }) };
}

describe.skipIf(skip !== null)('check_disabled = true', () => {
  it('on_disabled = withdraw: the three withdraw records once, no BIRD update, only the service sample', async () => {
    const { bed, textfile, reconfigures } = await runDisabled('acdw', 'withdraw');
    const records = bed.records();
    expect
      .soft(checkedSequence(records, SERVICE))
      .toEqual(['INFO Check is disabled and ip_prefix will be withdrawn', ADDING, 'INFO Check is now permanently disabled']);
    expect
      .soft(checkedSequence(records, 'MainThread').map(normaliseFreeText))
      .toEqual([starting(daemonVersion()), returned('delete from'), 'INFO no updates for bird configuration', ...stopped(bed.pidfile)]);
    expect.soft(bed.startCount(), 'checks run').toBe(0);
    expect.soft(bed.readBirdPrefixes()).toEqual([DUMMY]);
    expect.soft(reconfigures, 'reconfigure runs').toBe('');
    expect(textfileProblems(textfile.parsed, SERVICE, PREFIX, {}), textfile.text).toEqual([]);
  }, 20_000);

  it('on_disabled = advertise: the three advertise records once, one announce, only the service sample', async () => {
    const { bed, textfile, reconfigures } = await runDisabled('acda', 'advertise');
    const records = bed.records();
    expect
      .soft(checkedSequence(records, SERVICE))
      .toEqual(['INFO check is disabled, ip_prefix wont be withdrawn', ADDING, 'INFO check is now permanently disabled']);
    expect
      .soft(checkedSequence(records, 'MainThread').map(normaliseFreeText))
      .toEqual([starting(daemonVersion()), ...announced(bed.reconfigureCmd), ...stopped(bed.pidfile)]);
    expect.soft(bed.startCount(), 'checks run').toBe(0);
    expect.soft(bed.readBirdPrefixes()).toEqual([DUMMY, PREFIX]);
    expect
      .soft(
        reconfigures.split('\n').filter((l) => l !== ''),
        'reconfigure runs',
      )
      .toEqual(['configure']);
    expect(textfileProblems(textfile.parsed, SERVICE, PREFIX, {}), textfile.text).toEqual([]);
  }, 20_000);
});
