// Crash safety of the BIRD files (docs/bird.md: atomic writes). The real daemon runs 10 services
// (IPv4 and IPv6) whose health files are toggled every few milliseconds, so both BIRD files are
// rewritten many times a second; it is killed with SIGKILL at random moments and restarted, over
// and over. After every kill both files must still be complete: `bird -p` (BIRD's parse-only
// mode) accepts a bird.conf that includes them, each lists its dummy prefix, and at most the one
// temp file of a write cut short by the kill is left beside each of them.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIRD } from '../helpers/birdc.js';
import { daemonBin, daemonSkipReason, type DaemonProcess, type LogLine } from '../helpers/daemon-process.js';
import { exec } from '../helpers/exec.js';
import { HealthFlipper } from '../helpers/health-flipper.js';
import { spawnLocalDaemon, writeLocalDaemonConfig, writeLocalServices, type LocalDaemonFiles } from '../helpers/local-daemon.js';
import { delay } from '../helpers/poll.js';
import {
  DUMMY_IP4_PREFIX,
  DUMMY_IP6_PREFIX,
  IP4_VARIABLE,
  IP6_VARIABLE,
  parsePrefixFile,
  writePrefixFile,
} from '../helpers/prefix-file.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = daemonBin(repoRoot);

const skipReason =
  (existsSync(BIRD) ? null : `BIRD is not installed (${BIRD}), needed for its parse-only mode`) ?? daemonSkipReason(repoRoot);
if (skipReason !== null) console.warn(`skipping the crash-safety test: ${skipReason}`);

const MIN_KILLS = 20;
const MIN_UPDATES = 500;
/** Keep going a bit past the minimums, but stop at this budget (the test's limit is 60 s). */
const TARGET_KILLS = 25;
const TARGET_UPDATES = 700;
const BUDGET_MS = 48_000;
/** A kill lands this long after the spawn: uniformly random, startup included. */
const KILL_AFTER_MS: readonly [number, number] = [100, 2_500];

// Stand-ins for `birdc configure`. Two different command lines give each family its own queue
// (one per distinct command), so the two files are rewritten independently and faster.
const RECONFIGURE_4 = '/bin/echo Reconfigured';
const RECONFIGURE_6 = '/usr/bin/env echo Reconfigured';

const SERVICES = [
  ...[1, 2, 3, 4, 5, 6].map((i) => ({ name: `svc4-${i}`, prefix: `10.52.30.${i}/32` })),
  ...[1, 2, 3, 4].map((i) => ({ name: `svc6-${i}`, prefix: `2001:db8:30::${i}/128` })),
];

/** mulberry32: a seeded PRNG, so a failing run can be replayed with AHC_CRASH_SEED. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEMP_FILE = /^\.anycast-prefixes\.conf\.(\d+)\.[0-9a-f]+\.tmp$/;
const updatedLine =
  (family: 4 | 6) =>
  (line: LogLine): boolean =>
    line.message === `Bird configuration for IPv${family} is updated`;

interface KillRecord {
  readonly pid: number;
  readonly afterMs: number;
  readonly updates4: number;
  readonly updates6: number;
  /** Temp files this kill left behind, per family directory. */
  readonly leftovers: readonly string[];
}

describe.skipIf(skipReason !== null)(`BIRD files under SIGKILL${skipReason === null ? '' : ` (skipped: ${skipReason})`}`, () => {
  let dir: string;
  let files: LocalDaemonFiles;
  let birdConf: string;
  let daemon: DaemonProcess | undefined;
  let flipper: HealthFlipper | undefined;
  const dir4 = (): string => join(dir, 'bird4');
  const dir6 = (): string => join(dir, 'bird6');
  const file4 = (): string => join(dir4(), 'anycast-prefixes.conf');
  const file6 = (): string => join(dir6(), 'anycast-prefixes.conf');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `ahc-crash-${process.pid}-`));
    mkdirSync(dir4());
    mkdirSync(dir6());
    // What an operator starts with: files holding only the dummy, which bird.conf includes.
    writePrefixFile(file4(), 4, []);
    writePrefixFile(file6(), 6, []);
    birdConf = join(dir, 'bird.conf');
    writeFileSync(
      birdConf,
      [
        'router id 192.0.2.1;',
        `include "${file4()}";`,
        `include "${file6()}";`,
        'protocol device { }',
        `filter advertise4 { if net ~ ${IP4_VARIABLE} then accept; reject; }`,
        `filter advertise6 { if net ~ ${IP6_VARIABLE} then accept; reject; }`,
        '',
      ].join('\n'),
    );
    files = writeLocalDaemonConfig({
      dir,
      prefixFile4: file4(),
      prefixFile6: file6(),
      reconfigure4: RECONFIGURE_4,
      reconfigure6: RECONFIGURE_6,
      instanceLock: `ahc-crash-${process.pid}`,
      extra: { worker_threads: '2' },
    });
    writeLocalServices(
      files.servicesDir,
      SERVICES.map((s) => ({
        name: s.name,
        ipPrefix: s.prefix,
        checkCmd: `/usr/bin/test -e ${join(dir, `${s.name}.healthy`)}`,
        checkInterval: 0.05,
        checkTimeout: 0.04,
        checkRise: 1,
        checkFail: 1,
        ipCheckDisabled: true,
      })),
    );
  });

  afterEach(async () => {
    flipper?.stop();
    if (daemon !== undefined && !daemon.hasExited) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
  });

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps both BIRD files parseable by \`bird -p\` with the dummy prefix through ${MIN_KILLS}+ SIGKILLs during ${MIN_UPDATES}+ rapid updates`, async () => {
    const check = await exec([bin, '-c', '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true });
    expect(check.code, `anycast-healthchecker -c: ${check.stdout}${check.stderr}`).toBe(0);
    const before = await exec([BIRD, '-p', '-c', birdConf], { allowFailure: true });
    expect(before.code, `bird -p on the initial files: ${before.stdout}${before.stderr}`).toBe(0);

    const seed = Number(process.env.AHC_CRASH_SEED ?? Date.now() % 2 ** 31);
    const random = seededRandom(seed);
    const configured = new Set(SERVICES.map((s) => s.prefix));
    flipper = new HealthFlipper(
      SERVICES.map((s) => join(dir, `${s.name}.healthy`)),
      random,
    );
    flipper.start(4);

    const kills: KillRecord[] = [];
    const seenTemp = new Set<string>();
    const started = performance.now();
    let updates = 0;
    while ((kills.length < TARGET_KILLS || updates < TARGET_UPDATES) && performance.now() - started < BUDGET_MS) {
      // `closed` comes after the last output line was read ('exit' may come before it).
      const { daemon: d, closed } = spawnLocalDaemon(bin, files);
      daemon = d;
      const pid = d.pid ?? 0;
      const afterMs = KILL_AFTER_MS[0] + random() * (KILL_AFTER_MS[1] - KILL_AFTER_MS[0]);
      // The random moment itself: a timer, raced against the daemon exiting on its own (a failure).
      const early = await Promise.race([d.exited, delay(afterMs).then(() => null)]);
      if (early !== null) {
        await closed;
        throw new Error(`run ${kills.length + 1}: the daemon exited by itself (${early.code ?? early.signal})\n${d.tail()}`);
      }
      d.child.kill('SIGKILL');
      const exit = await d.exited;
      expect(exit.signal).toBe('SIGKILL');
      await closed;

      const parsed = await exec([BIRD, '-p', '-c', birdConf], { allowFailure: true });
      const text4 = readFileSync(file4(), 'utf8');
      const text6 = readFileSync(file6(), 'utf8');
      const context = `after kill ${kills.length + 1} (pid ${pid}, ${afterMs.toFixed(0)} ms after spawn, seed ${seed})`;
      expect(
        parsed.code,
        `bird -p -c ${birdConf} ${context}: ${parsed.stdout}${parsed.stderr}\n--- IPv4 file\n${text4}--- IPv6 file\n${text6}`,
      ).toBe(0);
      const listed4 = parsePrefixFile(text4);
      const listed6 = parsePrefixFile(text6);
      expect(listed4, `IPv4 file ${context}`).toContain(DUMMY_IP4_PREFIX);
      expect(listed6, `IPv6 file ${context}`).toContain(DUMMY_IP6_PREFIX);
      for (const p of [...listed4, ...listed6]) {
        expect(p === DUMMY_IP4_PREFIX || p === DUMMY_IP6_PREFIX || configured.has(p), `${p} in a file ${context}`).toBe(true);
      }

      // Leftovers: only temp files of the daemon just killed, at most one beside each file.
      const leftovers: string[] = [];
      for (const where of [dir4(), dir6()]) {
        const others = readdirSync(where).filter((f) => f !== 'anycast-prefixes.conf' && !seenTemp.has(join(where, f)));
        expect(
          others.every((f) => TEMP_FILE.test(f)),
          `unexpected files in ${where} ${context}: ${others.join(', ')}`,
        ).toBe(true);
        expect(
          others.every((f) => TEMP_FILE.exec(f)?.[1] === String(pid)),
          `temp files of another pid in ${where} ${context}: ${others.join(', ')}`,
        ).toBe(true);
        expect(others.length, `temp files in ${where} ${context}: ${others.join(', ')}`).toBeLessThanOrEqual(1);
        for (const f of others) {
          seenTemp.add(join(where, f));
          leftovers.push(join(where === dir4() ? 'bird4' : 'bird6', f));
        }
      }
      const updates4 = d.lines.filter(updatedLine(4)).length;
      const updates6 = d.lines.filter(updatedLine(6)).length;
      updates += updates4 + updates6;
      kills.push({ pid, afterMs, updates4, updates6, leftovers });
    }
    flipper.stop();

    const elapsed = (performance.now() - started) / 1000;
    const sum = (f: (k: KillRecord) => number): number => kills.reduce((n, k) => n + f(k), 0);
    const withLeftover = kills.filter((k) => k.leftovers.length > 0);
    const stillThere = [...seenTemp].filter((f) => existsSync(f));
    console.log(
      `[crash-safety] seed ${seed}: ${kills.length} SIGKILLs in ${elapsed.toFixed(1)} s, ${flipper.flips} health flips, ` +
        `${updates} BIRD file updates logged (IPv4 ${sum((k) => k.updates4)}, IPv6 ${sum((k) => k.updates6)}; ` +
        `per run ${Math.min(...kills.map((k) => k.updates4 + k.updates6))}-${Math.max(...kills.map((k) => k.updates4 + k.updates6))}); ` +
        `bird -p accepted the files after every kill.\n` +
        `[crash-safety] ${withLeftover.length} kill(s) left a temp file: ${withLeftover.map((k) => k.leftovers.join(' + ')).join(', ') || 'none'}; ` +
        `${stillThere.length} of ${seenTemp.size} still present at the end (later daemons ${stillThere.length === seenTemp.size ? 'do not remove' : 'removed some of'} stale temp files)`,
    );
    expect(kills.length).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(updates).toBeGreaterThanOrEqual(MIN_UPDATES);
  }, 60_000);
});
