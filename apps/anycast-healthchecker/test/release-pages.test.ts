// The addon ahc-release-pages.node and its scheduler (docs/design.md, "Memory: the node binary's
// start-up pages"): in a real node process with worker threads, it unmaps the executable's
// read-only pages, leaves the relocated (copied-on-write) segment alone, and the process goes on
// working; the scheduler waits for the checks, and a missing addon is one warning.
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parsePrefixFile } from '@ahc/bird';
import { captureLogger } from '../../../test/helpers/capture-logger';
import { PageRelease, describeRelease } from '../src/release-pages';
import {
  APP_DIR,
  DaemonProcess,
  ensureBuilt,
  killDaemons,
  makeTempDir,
  pollUntil,
  readIfExists,
  removeTempDirs,
  serviceText,
  writeDaemonSetup,
} from './harness';
import type { DaemonSetup } from './harness';

const ADDON = join(APP_DIR, 'dist', 'ahc-release-pages.node');

beforeAll(ensureBuilt);
afterEach(async () => {
  await killDaemons();
  removeTempDirs();
});

interface Probe {
  readonly before: Segments;
  readonly after: Segments;
  readonly outcome: { releasedKiB: number; mappings: number; skipped: number; skippedKiB: number };
  readonly workers: number[];
  readonly spawned: number | null;
}

/** Per mapping of the executable: "perms offset" -> { rss, anon } KiB. */
type Segments = Record<string, { rss: number; anon: number }>;

// Runs in the child: its own smaps before and after, then work that needs the released pages.
const CHILD = `
const { readFileSync, readlinkSync } = require('node:fs');
const { Worker } = require('node:worker_threads');
const { spawnSync } = require('node:child_process');
const exe = readlinkSync('/proc/self/exe');
function segments() {
  const out = {}; let key = null;
  for (const line of readFileSync('/proc/self/smaps', 'latin1').split('\\n')) {
    const h = /^[0-9a-f]+-[0-9a-f]+ (\\S+) (\\S+) \\S+ \\S+ +(.*)$/.exec(line);
    if (h) { key = h[3] === exe ? h[1] + ' ' + h[2] : null; if (key) out[key] = { rss: 0, anon: 0 }; continue; }
    const f = /^(Rss|Anonymous): +(\\d+) kB/.exec(line);
    if (key && f) out[key][f[1] === 'Rss' ? 'rss' : 'anon'] = Number(f[2]);
  }
  return out;
}
const workers = [1, 2].map(() => new Worker("require('node:worker_threads').parentPort.on('message', (n) => require('node:worker_threads').parentPort.postMessage(n * 2))", { eval: true }));
Promise.all(workers.map((w, i) => new Promise((r) => { w.once('message', r); w.postMessage(i + 1); }))).then(() => {
  const m = { exports: {} };
  process.dlopen(m, process.argv[1]);
  const before = segments();
  const outcome = m.exports.releaseStartupPages();
  const after = segments();
  return Promise.all(workers.map((w, i) => new Promise((r) => { w.once('message', r); w.postMessage(i + 10); }))).then((answers) => {
    const spawned = spawnSync('/bin/true').status;
    process.stdout.write(JSON.stringify({ before, after, outcome, workers: answers, spawned }));
    process.exit(0);
  });
});
`;

function probe(): Probe {
  const out = execFileSync(process.execPath, ['--jitless', '-e', CHILD, ADDON], { encoding: 'utf8', timeout: 20_000 });
  return JSON.parse(out) as Probe;
}

const total = (s: Segments, pick: (perms: string) => boolean): number =>
  Object.entries(s)
    .filter(([k]) => pick(k.split(' ')[0] ?? ''))
    .reduce((sum, [, v]) => sum + v.rss, 0);

describe('ahc-release-pages.node', () => {
  it("unmaps the executable's read-only pages and skips the copied-on-write segment; the process works on", () => {
    const p = probe();
    const readOnly = (perms: string): boolean => perms[1] !== 'w';
    // Node with two worker threads holds tens of MiB of its executable; well over 10 are released.
    expect(p.outcome.releasedKiB).toBeGreaterThan(10 * 1024);
    expect(p.outcome.mappings).toBeGreaterThanOrEqual(2);
    expect(total(p.after, readOnly)).toBeLessThan(total(p.before, readOnly) - 10 * 1024);
    // The relocated read-only segment (RELRO) holds private copies: skipped, its pages intact.
    const relro = Object.entries(p.before).filter(([k, v]) => readOnly(k.split(' ')[0] ?? '') && v.anon > 0);
    expect(relro.length).toBeGreaterThan(0);
    for (const [k, v] of relro) expect(p.after[k]).toEqual(v);
    expect(p.outcome.skipped).toBeGreaterThanOrEqual(relro.length);
    // Writable segments are never touched.
    for (const [k, v] of Object.entries(p.before)) if (!readOnly(k.split(' ')[0] ?? '')) expect(p.after[k]?.anon).toBe(v.anon);
    expect(p.workers).toEqual([20, 22]);
    expect(p.spawned).toBe(0);
  });
});

describe('PageRelease', () => {
  it('waits until the checks have settled, then releases once and logs it', async () => {
    const { log, lines } = captureLogger({ level: 'info' });
    let settled = false;
    let polls = 0;
    const release = new PageRelease({ log, settled: () => (polls++, settled), pollMs: 10, maxWaitMs: 60_000, addonPath: ADDON });
    release.arm();
    await pollUntil('five polls', () => (polls >= 5 ? true : undefined), 5000);
    expect(lines).toEqual([]);
    settled = true;
    const line = await pollUntil('the release line', () => lines.find((l) => l.includes('released the start-up pages')), 5000);
    expect(line).toMatch(
      /INFO .*released the start-up pages of \S+node: unmapped its \d+\.\d MiB resident, the process \d+\.\d -> \d+\.\d MiB;/,
    );
    const after = polls;
    release.close();
    expect(lines).toHaveLength(1);
    expect(polls).toBe(after);
  });

  it('releases at its deadline when a check has not run yet', async () => {
    const { log, lines } = captureLogger({ level: 'info' });
    const release = new PageRelease({ log, settled: () => false, pollMs: 10, maxWaitMs: 50, addonPath: ADDON });
    release.arm();
    await pollUntil('the release line', () => lines.find((l) => l.includes('released the start-up pages')), 5000);
    release.close();
  });

  it('warns once when the addon cannot be loaded, and does not try again', async () => {
    const { log, lines } = captureLogger({ level: 'info' });
    const missing = join(APP_DIR, 'dist', 'no-such-addon.node');
    let polls = 0;
    const release = new PageRelease({ log, settled: () => (polls++, true), pollMs: 10, addonPath: missing });
    release.arm();
    const line = await pollUntil('the warning', () => lines.find((l) => l.includes('cannot release')), 5000);
    expect(line).toContain('WARNING');
    expect(line).toContain(missing);
    expect(line).toContain('set release_startup_pages = false to skip this');
    // Armed again (a reload): nothing is scheduled, so no poll and no second warning.
    release.arm();
    expect(polls).toBe(1);
    expect(lines.filter((l) => l.includes('cannot release'))).toHaveLength(1);
  });

  it('describes a release in MiB', () => {
    expect(
      describeRelease({ releasedKiB: 40_960, mappings: 4, skipped: 2, skippedKiB: 8, rssBeforeKiB: 81_920, rssAfterKiB: 51_200 }),
    ).toBe(
      `released the start-up pages of ${process.execPath}: unmapped its 40.0 MiB resident, the process 80.0 -> 50.0 MiB; ` +
        'the pages still in use come back from the page cache, the ones only start-up used stay out',
    );
  });
});

/** Resident KiB of a process's read-only mappings of its executable. */
function executableResidentKiB(pid: number): number {
  const exe = readlinkSync(`/proc/${pid}/exe`);
  let ours = false;
  let kib = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'latin1').split('\n')) {
    const h = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+ +(.*)$/.exec(line);
    if (h !== null) ours = h[2] === exe && h[1]?.[1] !== 'w';
    const rss = /^Rss: +(\d+) kB/.exec(line);
    if (ours && rss !== null) kib += Number(rss[1]);
  }
  return kib;
}

describe('the daemon with release_startup_pages', () => {
  const PREFIXES = ['10.52.31.1/32', '10.52.31.2/32', '10.52.31.3/32'];
  function setup(release: boolean): DaemonSetup & { ok: string } {
    // svc0 passes while `ok` exists; the others always.
    const ok = join(makeTempDir('health'), 'ok');
    writeFileSync(ok, '');
    const s = writeDaemonSetup(
      PREFIXES.map((prefix, i) => ({ name: `svc${i}`, prefix, ...(i === 0 ? { checkCmd: `/usr/bin/test -e ${ok}` } : {}) })),
      { loglevel: 'info', worker_threads: '2', ...(release ? {} : { release_startup_pages: 'false' }) },
    );
    return { ...s, ok };
  }
  const listed = (s: DaemonSetup): readonly string[] => parsePrefixFile(readIfExists(s.birdConf) ?? '').prefixes;
  const pidOf = (s: DaemonSetup): number => Number(readFileSync(s.pidfile, 'utf8').trim());

  it('releases once the checks ran, holds far less of node than a daemon that keeps them, and goes on deciding', async () => {
    const a = setup(true);
    const b = setup(false);
    const released = DaemonProcess.start(a.args);
    const kept = DaemonProcess.start(b.args);
    for (const [d, s] of [
      [released, a],
      [kept, b],
    ] as const) {
      await pollUntil(
        'every prefix advertised',
        () => (PREFIXES.every((p) => listed(s).includes(p)) ? true : undefined),
        15_000,
        () => d.tail(),
      );
    }
    const at = await released.waitForLine(
      /INFO +MainThread +released the start-up pages of \S+: unmapped its \d+\.\d MiB resident/,
      35_000,
    );
    // The line comes after every service's first check.
    for (const n of [0, 1, 2]) expect(released.lines.slice(0, at).some((l) => l.includes(`svc${n}`))).toBe(true);
    // Both have run their checks for as long: the one that released holds 10 MiB less of node at least.
    await kept.waitForLine(/svc2 /);
    expect(executableResidentKiB(pidOf(a)) + 10 * 1024).toBeLessThan(executableResidentKiB(pidOf(b)));
    // Decisions go on after the release: a failing check withdraws, a passing one advertises again.
    rmSync(a.ok);
    await pollUntil(
      'svc0 withdrawn',
      () => (listed(a).includes(PREFIXES[0] ?? '') ? undefined : true),
      10_000,
      () => released.tail(),
    );
    writeFileSync(a.ok, '');
    await pollUntil(
      'svc0 advertised again',
      () => (listed(a).includes(PREFIXES[0] ?? '') ? true : undefined),
      10_000,
      () => released.tail(),
    );
    // A reload that adds a service releases again once its check ran.
    writeFileSync(join(a.dir, 'svc3.conf'), serviceText({ name: 'svc3', prefix: '10.52.31.4/32' }));
    process.kill(pidOf(a), 'SIGHUP');
    const reloaded = await released.waitForLine(/configuration reloaded: /, 10_000, at + 1);
    await released.waitForLine(/released the start-up pages of /, 35_000, reloaded + 1);
    expect(kept.lines.some((l) => l.includes('start-up pages'))).toBe(false);
    expect(await released.stop()).toEqual({ code: 0, signal: null });
    expect(await kept.stop()).toEqual({ code: 0, signal: null });
  });
});
