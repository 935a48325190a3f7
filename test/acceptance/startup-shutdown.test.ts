/**
 * Start-up repair of the BIRD file and SIGTERM (docs/logging.md, docs/metrics.md): stale
 * prefixes (no service check covers them) found at start, removed at once with
 * purge_ip_prefixes = true, only reported without it and then removed by the first update; the
 * `starting …` record with nothing appended; the textfile after UP. On SIGTERM: the three stop
 * records, exit 0, the pidfile gone, the BIRD file left as decided, the textfile left as last
 * written or rewritten once with `anycast_healthchecker_state 0`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AcceptanceBed,
  birdFileText,
  daemonVersion,
  DUMMY,
  netnsUnavailableReason,
  PREFIX,
  REPO_ROOT,
  SERVICE,
} from '../helpers/acceptance-bed.js';
import { daemonSkipReason } from '../helpers/daemon-process.js';
import { ADDING, announced, reconfigured, starting, stopped } from '../helpers/expected-records.js';
import { checkedSequence, normaliseFreeText } from '../helpers/log-records.js';
import { pollUntil } from '../helpers/poll.js';
import { ANY, textfileProblems } from '../helpers/textfile-expect.js';

const skip = daemonSkipReason(REPO_ROOT) ?? netnsUnavailableReason();
if (skip !== null) console.warn(`startup-shutdown acceptance skipped: ${skip}`);

const STALE = ['10.52.9.1/32', '10.52.9.2/32'];
const FAST = { check_interval: '0.3', check_timeout: '0.25' };

const beds: AcceptanceBed[] = [];
afterEach(async () => {
  for (const bed of beds.splice(0)) await bed.destroy();
});

/** The order of a comma-separated prefix list in a record is free: sort it. */
function sortPrefixLists(entry: string): string {
  return entry.replace(/\b((?:[0-9a-fA-F.:]+\/\d+)(?:,[0-9a-fA-F.:]+\/\d+)+)\b/g, (list) => list.split(',').sort().join(','));
}

/** Wait until the service is UP in the BIRD file, then for a textfile written after it. */
async function untilUp(bed: AcceptanceBed) {
  await pollUntil(async () => (bed.readBirdPrefixes().includes(PREFIX) ? true : undefined), {
    what: `${PREFIX} in the BIRD file`,
    timeoutMs: 8_000,
    describe: () => bed.tail(15),
  });
  return bed.textfileWrites(undefined, 1, 3_000);
}

/** The service column must start with the rise and then say `status UP` only. */
function expectRiseThenStatusUp(seq: readonly string[]): void {
  expect.soft(seq.slice(0, 3)).toEqual(['INFO going up 1/2', 'INFO changed to UP', ADDING]);
  expect
    .soft(
      seq.slice(3).filter((e) => e !== 'INFO status UP'),
      'after UP: only status UP',
    )
    .toEqual([]);
}

describe.skipIf(skip !== null)('start-up repair of stale prefixes', () => {
  it('purge_ip_prefixes = true: removes them at once, reconfigures, then starts; UP is announced', async () => {
    const bed = await AcceptanceBed.create({
      id: 'acsp',
      birdFile: birdFileText(STALE),
      daemon: { purge_ip_prefixes: 'true' },
      service: FAST,
    });
    beds.push(bed);
    bed.start();
    const textfile = await untilUp(bed);
    await bed.stop();
    const records = bed.records();
    expect
      .soft(checkedSequence(records, 'MainThread').map(normaliseFreeText).map(sortPrefixLists))
      .toEqual([
        `WARNING removing IP prefix(es) ${STALE.join(',')} from ${bed.birdConf} because they don't have a service check configured`,
        ...reconfigured(bed.reconfigureCmd),
        starting(daemonVersion()),
        ...announced(bed.reconfigureCmd),
        ...stopped(bed.pidfile),
      ]);
    expectRiseThenStatusUp(checkedSequence(records, SERVICE));
    expect.soft(bed.readBirdPrefixes()).toEqual([DUMMY, PREFIX]);
    expect(textfileProblems(textfile.parsed, SERVICE, PREFIX, { serviceState: 0, duration: ANY, ipAssignment: 1 }), textfile.text).toEqual(
      [],
    );
  }, 20_000);

  it('purge_ip_prefixes = false: reports them, leaves the file, and the first update removes them', async () => {
    const initial = birdFileText(STALE);
    const bed = await AcceptanceBed.create({ id: 'acsn', birdFile: initial, daemon: { purge_ip_prefixes: 'false' }, service: FAST });
    beds.push(bed);
    bed.start();
    await pollUntil(async () => (bed.doneCount() >= 1 ? true : undefined), {
      what: 'the first check',
      timeoutMs: 8_000,
      describe: () => bed.tail(15),
    });
    expect.soft(readFileSync(bed.birdConf, 'utf8'), 'the BIRD file before the first update').toBe(initial);
    const textfile = await untilUp(bed).catch((error: unknown) => error as Error);
    await bed.stop();
    const records = bed.records();
    expect
      .soft(checkedSequence(records, 'MainThread').map(normaliseFreeText).map(sortPrefixLists))
      .toEqual([
        `WARNING found IP prefixes ${STALE.join(',')} in ${bed.birdConf} without a service check configured`,
        starting(daemonVersion()),
        announced(bed.reconfigureCmd)[0],
        `WARNING found ${STALE.join(',')} IP prefixes in Bird configuration but we aren't configured to run health checks on them. Either someone modified the configuration manually or something went horrible wrong. We remove them from Bird configuration`,
        ...announced(bed.reconfigureCmd).slice(1),
        ...stopped(bed.pidfile),
      ]);
    expectRiseThenStatusUp(checkedSequence(records, SERVICE));
    expect.soft(bed.readBirdPrefixes()).toEqual([DUMMY, PREFIX]);
    if (textfile instanceof Error) throw textfile;
    expect(textfileProblems(textfile.parsed, SERVICE, PREFIX, { serviceState: 0, duration: ANY, ipAssignment: 1 }), textfile.text).toEqual(
      [],
    );
  }, 20_000);
});

describe.skipIf(skip !== null)('SIGTERM', () => {
  it('logs received 15 / remove pidfile / shutdown is complete, exits 0, removes the pidfile, keeps BIRD and textfile', async () => {
    const bed = await AcceptanceBed.create({ id: 'acst', service: FAST });
    beds.push(bed);
    bed.start();
    await untilUp(bed);
    const pid = readFileSync(bed.pidfile, 'utf8').trim();
    expect.soft(pid).toBe(String(bed.records().find((r) => r.pid !== undefined)?.pid));
    const birdBefore = readFileSync(bed.birdConf, 'utf8');
    const exit = await bed.stop();
    expect.soft(exit).toEqual({ code: 0, signal: null });
    expect.soft(existsSync(bed.pidfile), 'pidfile after exit').toBe(false);
    expect.soft(readFileSync(bed.birdConf, 'utf8'), 'BIRD file after exit').toBe(birdBefore);
    const main = checkedSequence(bed.records(), 'MainThread').map(normaliseFreeText);
    expect.soft(main.slice(-3)).toEqual(stopped(bed.pidfile));
    const last = bed.readTextfile();
    expect(last, 'textfile after exit').toBeDefined();
    if (last === undefined) return;
    expect(
      textfileProblems(last.parsed, SERVICE, PREFIX, { serviceState: 0, duration: ANY, ipAssignment: 1, daemonState: [0, 1] }),
      last.text,
    ).toEqual([]);
  }, 20_000);
});
