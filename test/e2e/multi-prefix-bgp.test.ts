// End to end, with the peer's routing table as the witness: a service whose ip_prefix lists three
// prefixes (two IPv4, one IPv6) leaves and returns at the peer as one, whether its check fails
// or one of its addresses leaves lo; a lone-prefix service beside it never moves
// (docs/configuration.md, "Several prefixes per service").
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBirdPair, type BirdPair } from '../helpers/bird-pair.js';
import {
  DaemonProcess,
  e2eDaemonSuite,
  pairBird,
  writeDaemonConfig,
  writeServiceFiles,
  type DaemonFiles,
  type LogLine,
} from '../helpers/daemon-process.js';
import { exec } from '../helpers/exec.js';
import { delay, pollUntil } from '../helpers/poll.js';
import { RouteWatch } from '../helpers/route-watch.js';

const { bin, skipReason } = e2eDaemonSuite('the several-prefixes end-to-end tests');

const MULTI = ['10.52.17.1/32', '10.52.17.2/32', '2001:db8:17::1/128'] as const;
const V4 = [MULTI[0], MULTI[1]];
const LONE = '10.52.17.9/32';
const NAME = 'svcmp';
/** The most the three may be apart at the peer: one decision, two files, two reconfigures, two BGP sessions. */
const APART_MS = 1_000;

interface Sample {
  readonly at: number;
  readonly present: readonly string[];
}

/** The peer's view of the three prefixes, sampled until stopped (one `birdc show route` per family per sample). */
class PeerSampler {
  readonly samples: Sample[] = [];
  #stopped = false;
  readonly #loop: Promise<void>;
  constructor(private readonly bed: BirdPair) {
    this.#loop = this.#run();
  }
  async #run(): Promise<void> {
    while (!this.#stopped) {
      const at = performance.now();
      const [r4, r6] = await Promise.all([this.bed.peerRoutes(4), this.bed.peerRoutes(6)]);
      this.samples.push({ at, present: MULTI.filter((p) => r4.has(p) || r6.has(p)) });
      await delay(Math.max(0, at + 10 - performance.now()));
    }
  }
  async stop(): Promise<Sample[]> {
    this.#stopped = true;
    await this.#loop;
    return this.samples;
  }
}

/** When each prefix was first seen `present` (or absent) for good, from the samples. */
function settledAt(samples: readonly Sample[], present: boolean): number[] {
  return MULTI.map((p) => {
    let at = Number.NaN;
    for (const s of samples) {
      const has = s.present.includes(p);
      if (has === present && Number.isNaN(at)) at = s.at;
      if (has !== present) at = Number.NaN;
    }
    return at;
  });
}

describe.skipIf(skipReason !== null)(
  `several prefixes of one service at the BGP peer${skipReason === null ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let dir: string;
    let bed: BirdPair;
    let files: DaemonFiles;
    let daemon: DaemonProcess | undefined;
    const health = (name: string): string => join(dir, `${name}.healthy`);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `ahc-mp-${process.pid}-e2e-`));
      bed = await createBirdPair({
        id: 'mpx',
        prefixFile4: join(dir, 'anycast-prefixes.conf'),
        prefixFile6: join(dir, '6', 'anycast-prefixes.conf'),
      });
      files = writeDaemonConfig({
        dir,
        ...pairBird(bed),
        loglevel: 'info',
        extra: { instance_lock: `ahc-mpx-${process.pid}`, status_socket: join(dir, 'status.sock') },
      });
      for (const p of [...MULTI, LONE]) await bed.addAddress(p);
      writeFileSync(health(NAME), '');
      writeFileSync(health('svclone'), '');
      writeServiceFiles(files.servicesDir, [
        {
          name: NAME,
          ipPrefix: `${MULTI[0]}, ${MULTI[1]} ${MULTI[2]}`,
          checkCmd: `/usr/bin/test -e ${health(NAME)}`,
          checkInterval: 0.3,
          checkRise: 1,
          checkFail: 1,
        },
        {
          name: 'svclone',
          ipPrefix: LONE,
          checkCmd: `/usr/bin/test -e ${health('svclone')}`,
          checkInterval: 0.3,
          checkRise: 1,
          checkFail: 1,
        },
      ]);
      const check = await exec([bin, '-c', '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true });
      expect(check.code, `anycast-healthchecker -c: ${check.stdout}${check.stderr}`).toBe(0);
      daemon = new DaemonProcess(bed.execInNode([bin, '-f', files.confFile, '-d', files.servicesDir]));
    }, 60_000);

    afterEach(async () => {
      // Each test leaves the service healthy with every address on lo.
      writeFileSync(health(NAME), '');
      for (const p of MULTI) await bed.addAddress(p).catch(() => undefined);
    });

    afterAll(async () => {
      if (daemon !== undefined && !daemon.hasExited) await daemon.stop('SIGTERM').catch(() => daemon?.child.kill('SIGKILL'));
      for (const p of [...MULTI, LONE]) await bed?.delAddress(p).catch(() => undefined);
      await bed?.destroy();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    const allAtPeer = async (present: boolean, what: string): Promise<void> => {
      const d = daemon as DaemonProcess;
      await pollUntil(
        async () => {
          const [r4, r6] = await Promise.all([bed.peerRoutes(4), bed.peerRoutes(6)]);
          return MULTI.every((p) => (r4.has(p) || r6.has(p)) === present) ? true : undefined;
        },
        { what, timeoutMs: 15_000, intervalMs: 20, describe: () => d.tail() },
      );
    };

    /** Apply `change` and follow the peer until all three are `present` again; the samples and the daemon's lines since. */
    const follow = async (change: () => Promise<void> | void, present: boolean, what: string) => {
      const d = daemon as DaemonProcess;
      const from = d.lines.length;
      const sampler = new PeerSampler(bed);
      await change();
      await allAtPeer(present, what);
      // A few samples more: nothing comes back or goes again.
      await delay(300);
      const samples = await sampler.stop();
      return { samples, lines: d.lines.slice(from) };
    };

    /** `pairTogether`: the two IPv4 prefixes share a file, a reconfigure and a BGP session, so the peer never has one without the other. */
    const expectTogether = (samples: readonly Sample[], present: boolean, pairTogether = true): void => {
      const last = samples.at(-1);
      expect(last?.present, 'the end state').toEqual(present ? [...MULTI] : []);
      const split = samples.filter((s) => V4.filter((p) => s.present.includes(p)).length === 1);
      if (pairTogether) expect(split, 'samples with one IPv4 prefix of the two').toEqual([]);
      const at = settledAt(samples, present);
      expect(at.every((t) => Number.isFinite(t))).toBe(true);
      const spread = Math.max(...at) - Math.min(...at);
      console.log(`[multi-prefix-bgp] ${present ? 'returned' : 'left'}: the three settled within ${spread.toFixed(0)} ms of each other`);
      expect(spread).toBeLessThan(APART_MS);
    };

    const decisions = (lines: readonly LogLine[]): string[] =>
      lines.filter((l) => l.service === NAME && /^changed to (UP|DOWN)$/.test(l.message ?? '')).map((l) => l.message ?? '');
    const updates = (lines: readonly LogLine[]): string[] =>
      lines
        .filter((l) => /^Bird configuration for IPv[46] is updated$/.test(l.message ?? ''))
        .map((l) => l.message ?? '')
        .sort();

    it('a failing check takes all three away from the peer together, and a passing one brings them back together', async () => {
      await allAtPeer(true, 'all three at the peer');
      await bed.waitForPeerRoute(LONE, true, 10_000);
      const lone = RouteWatch.start({ peerRoutes: () => bed.peerRoutes(4), prefixFile: bed.prefixFile4, prefixes: [LONE], intervalMs: 20 });

      const down = await follow(() => rmSync(health(NAME)), false, 'all three gone from the peer');
      expectTogether(down.samples, false);
      expect(decisions(down.lines)).toEqual(['changed to DOWN']);
      expect(updates(down.lines)).toEqual(['Bird configuration for IPv4 is updated', 'Bird configuration for IPv6 is updated']);

      const up = await follow(() => writeFileSync(health(NAME), ''), true, 'all three back at the peer');
      expectTogether(up.samples, true);
      expect(decisions(up.lines)).toEqual(['changed to UP']);
      expect(updates(up.lines)).toEqual(['Bird configuration for IPv4 is updated', 'Bird configuration for IPv6 is updated']);

      const report = await lone.stop();
      expect(report.missing, 'the lone-prefix service beside it').toEqual([]);
    }, 60_000);

    it('one address leaving lo takes all three away, naming that address; its return brings them back', async () => {
      await allAtPeer(true, 'all three at the peer');
      const down = await follow(() => bed.delAddress(MULTI[1]), false, 'all three gone after 10.52.17.2 left lo');
      // The node's BIRD exports only what is on its lo: 10.52.17.2 leaves by BIRD itself at once,
      // the other two by the daemon's decision, which must follow within the same bound.
      expectTogether(down.samples, false, false);
      const warnings = down.lines.filter((l) => l.service === NAME && l.level === 'WARNING').map((l) => l.message);
      expect(warnings).toContain(`${MULTI[1]} isn't assigned to lo interface`);
      expect(warnings).toContain(`status DOWN because ${MULTI[1]} isn't assigned to lo interface.`);
      for (const p of [MULTI[0], MULTI[2]]) expect(warnings.filter((m) => (m ?? '').includes(p))).toEqual([]);

      const up = await follow(() => bed.addAddress(MULTI[1]), true, 'all three back after 10.52.17.2 returned');
      expectTogether(up.samples, true);
    }, 60_000);
  },
);
