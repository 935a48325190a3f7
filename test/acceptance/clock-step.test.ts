/**
 * Wall-clock steps while the daemon runs (NTP steps, a router booting with a wrong RTC): the
 * real daemon runs under libfaketime, its wall clock is stepped back by 1 h and later forward by
 * 1 h, and after each step the checks go on at their interval (no stop, no burst), a failure is
 * still withdrawn within check_fail × check_interval + 1 s, no worker is restarted and the main
 * thread reports no blocked event loop.
 *
 * libfaketime environment, for the daemon only (the test's own clock is untouched):
 *   LD_PRELOAD=<dpkg -L libfaketime: …/faketime/libfaketime.so.1>
 *   FAKETIME_TIMESTAMP_FILE=<dir>/faketime   holds the offset: "+0", then "-3600", then "+0"
 *   FAKETIME_NO_CACHE=1                      re-read that file at every clock call
 *   FAKETIME_DONT_FAKE_MONOTONIC=1           only the wall clock (CLOCK_REALTIME) moves;
 *                                            CLOCK_MONOTONIC stays real
 * Checked by hand first: `node -e` under this environment sees Date.now() jump by -3600 s and
 * back when the file changes, while process.hrtime does not move (and worker threads and child
 * processes see the same offset). The test itself also proves the step reached the daemon: the
 * timestamps of its log records move by the hour.
 * Check times are taken from the kernel's uptime (/proc/uptime), which libfaketime leaves alone.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcceptanceBed, PREFIX, REPO_ROOT, SERVICE } from '../helpers/acceptance-bed.js';
import { daemonBin, daemonSkipReason, logLineWallTime } from '../helpers/daemon-process.js';
import { exec, execSync } from '../helpers/exec.js';
import { pollUntil } from '../helpers/poll.js';

const INTERVAL_S = 0.25;
const FAIL = 2;
const HOUR_MS = 3_600_000;

function faketimeLibrary(): string | undefined {
  const r = execSync(['dpkg', '-L', 'libfaketime']);
  return r.code === 0 ? r.stdout.split('\n').find((l) => l.endsWith('/libfaketime.so.1')) : undefined;
}

const LIB = faketimeLibrary();
const missing = LIB === undefined && process.env.CI === undefined ? 'libfaketime is not installed (apt-get install faketime)' : null;
const skip = daemonSkipReason(REPO_ROOT) ?? missing;
if (skip !== null) console.warn(`clock-step acceptance skipped: ${skip}`);

interface StepResult {
  /** Wall-clock offset of the daemon's records from the test's clock, after the step (ms). */
  readonly recordOffsetMs: number;
  /** Spacing of the checks after the step (s, from /proc/uptime). */
  readonly gaps: number[];
  /** From removing the health file to the prefix leaving the BIRD file (ms). */
  readonly withdrawMs: number;
}

describe.skipIf(skip !== null)('wall-clock steps under libfaketime', () => {
  let bed: AcceptanceBed;
  let clockFile: string;
  const results = new Map<string, StepResult | Error>();
  let restarts: unknown;

  const inBird = (present: boolean, timeoutMs: number, what: string) =>
    pollUntil(async () => (bed.readBirdPrefixes().includes(PREFIX) === present ? performance.now() : undefined), {
      what,
      timeoutMs,
      intervalMs: 5,
      describe: () => bed.tail(8),
    });

  /** Step the daemon's clock to `offset` and measure what the brief promises. */
  async function step(name: string, offset: string, expectedOffsetMs: number): Promise<void> {
    try {
      const from = bed.entries.length;
      writeFileSync(clockFile, `${offset}\n`);
      // The step reached the daemon: a record stamped with the new wall clock.
      const stamped = await pollUntil(
        async () => {
          const e = bed.entries.slice(from).find((x) => {
            const t = logLineWallTime(x.line.raw);
            return t !== undefined && Math.abs(t - x.wall - expectedOffsetMs) < 60_000;
          });
          return e === undefined ? undefined : (logLineWallTime(e.line.raw) ?? 0) - e.wall;
        },
        { what: `a record stamped ${expectedOffsetMs / HOUR_MS} h off the real clock`, timeoutMs: 3_000, describe: () => bed.tail(3) },
      );
      // Checks go on at their interval: the next 8 checks take 8 intervals.
      const before = bed.startCount();
      await pollUntil(async () => (bed.startCount() >= before + 9 ? true : undefined), {
        what: '9 checks after the step',
        timeoutMs: 9 * INTERVAL_S * 1000 * 2,
        intervalMs: 10,
        describe: () => `${bed.startCount() - before} checks started`,
      });
      const stamps = bed.checkStamps().slice(before, before + 9);
      const gaps = stamps.slice(1).map((t, i) => Number((t - (stamps[i] ?? 0)).toFixed(2)));
      // A failure is still withdrawn in time.
      bed.setHealthy(false);
      const t0 = performance.now();
      const gone = await inBird(false, FAIL * INTERVAL_S * 1000 + 1_000, `${PREFIX} withdrawn within ${FAIL} × ${INTERVAL_S} s + 1 s`);
      bed.setHealthy(true);
      await inBird(true, 3_000, `${PREFIX} back after recovery`);
      results.set(name, { recordOffsetMs: stamped, gaps, withdrawMs: Math.round(gone - t0) });
    } catch (error) {
      results.set(name, error as Error);
      bed.setHealthy(true);
    }
  }

  beforeAll(async () => {
    bed = await AcceptanceBed.create({
      id: 'acck',
      netns: false,
      service: { check_interval: String(INTERVAL_S), check_timeout: '0.2', check_rise: '2', check_fail: String(FAIL) },
      env: {
        LD_PRELOAD: LIB ?? '/nonexistent/libfaketime.so.1',
        FAKETIME_TIMESTAMP_FILE: '{dir}/faketime',
        FAKETIME_NO_CACHE: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      },
    });
    clockFile = join(bed.dir, 'faketime');
    writeFileSync(clockFile, '+0\n');
    bed.start();
    await inBird(true, 8_000, `${PREFIX} announced at start`);
    await step('back by 1 h', '-3600', -HOUR_MS);
    await step('forward by 1 h', '+0', 0);
    const status = await exec([daemonBin(REPO_ROOT), 'status', '--json', '-f', bed.confFile, '-d', bed.servicesDir], {
      allowFailure: true,
    });
    try {
      const view = JSON.parse(status.stdout) as { services?: Array<{ name: string; worker?: { restarts?: unknown } }> };
      restarts = view.services?.find((s) => s.name === SERVICE)?.worker?.restarts;
    } catch {
      restarts = `no JSON from status --json (exit ${status.code}): ${status.stdout}${status.stderr}`;
    }
    await bed.stop();
  }, 60_000);

  afterAll(async () => {
    await bed?.destroy();
  });

  for (const name of ['back by 1 h', 'forward by 1 h']) {
    it(`after a step ${name}: checks keep their interval and a failure is withdrawn in time`, () => {
      const r = results.get(name);
      if (r === undefined || r instanceof Error) throw r ?? new Error('not measured');
      console.log(
        `${name}: record offset ${Math.round(r.recordOffsetMs / 1000)} s, check gaps ${r.gaps.join(' ')} s, withdrawn after ${r.withdrawMs} ms`,
      );
      // No stop and no burst: every gap within 60 % of the interval (uptime has 10 ms steps; a
      // loaded machine may start one check late, and the next one on time).
      expect(
        r.gaps.filter((g) => g < INTERVAL_S * 0.4 || g > INTERVAL_S * 1.6),
        `gaps (s): ${r.gaps.join(' ')}`,
      ).toEqual([]);
      expect(r.withdrawMs).toBeLessThanOrEqual(FAIL * INTERVAL_S * 1000 + 1_000);
    });
  }

  it('restarts no worker and reports no blocked event loop', () => {
    const raw = bed.entries.map((e) => e.line.raw);
    expect
      .soft(
        raw.filter((l) => /check thread .* restarting/i.test(l)),
        'worker restarts',
      )
      .toEqual([]);
    expect
      .soft(
        raw.filter((l) => /main thread event loop was blocked/i.test(l)),
        'blocked event loop warnings',
      )
      .toEqual([]);
    expect(restarts, 'status --json: worker.restarts of svc-a').toBe(0);
  });

  it('the daemon left its BIRD file with the service announced', () => {
    expect(readFileSync(bed.birdConf, 'utf8')).toContain(PREFIX);
  });
});
