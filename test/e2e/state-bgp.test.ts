// End to end: withdraw_on_shutdown and state across restarts (docs/operations.md), with the
// real daemon in the node namespace and the peer's routing table as witness. A restart of a
// daemon with 20 UP services must not change the peer's routes at any point (polled every 20 ms
// across SIGTERM and the next start), also when the BIRD file is lost in between; with
// withdraw_on_shutdown, SIGTERM takes the routes away before the daemon exits 0.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBirdPair, type BirdPair } from '../helpers/bird-pair.js';
import { BIRD_FLAVOURS } from '../helpers/bird-flavours.js';
import {
  DaemonProcess,
  e2eDaemonSuite,
  pairBird,
  writeDaemonConfig,
  writeServiceFiles,
  type ServiceSpec,
} from '../helpers/daemon-process.js';
import { exec } from '../helpers/exec.js';
import { delay, pollUntil } from '../helpers/poll.js';
import { RouteWatch } from '../helpers/route-watch.js';

const { bin, skipReason } = e2eDaemonSuite('the state end-to-end tests');

// BIRD 2 only: what is under test is the daemon's start and stop, the same for every BIRD version.
const FLAVOURS = BIRD_FLAVOURS.filter((f) => f.major === 2);

const SERVICES = Array.from({ length: 20 }, (_, i) => ({ name: `svc${String(i + 1).padStart(2, '0')}`, prefix: `10.53.0.${i + 1}/32` }));

describe.skipIf(skipReason !== null).each(FLAVOURS)(
  `state across restarts and withdraw on shutdown against BIRD over BGP, $label${skipReason === null ? '' : ` (skipped: ${skipReason})`}`,
  (flavour) => {
    let dir: string;
    let bed: BirdPair;
    const daemons: DaemonProcess[] = [];

    const healthFile = (service: string): string => join(dir, `${service}.healthy`);
    const spec = (name: string, ipPrefix: string): ServiceSpec => ({
      name,
      ipPrefix,
      checkCmd: `/usr/bin/test -e ${healthFile(name)}`,
      checkInterval: 0.5,
      checkTimeout: 0.4,
      checkRise: 3,
      checkFail: 2,
    });

    const writeConfig = (extra: Record<string, string> = {}) => {
      const files = writeDaemonConfig({
        dir,
        ...pairBird(bed),
        loglevel: 'info',
        extra: { instance_lock: `ahc-st-${process.pid}`, status_socket: join(dir, 'status.sock'), ...extra },
      });
      rmSync(files.servicesDir, { recursive: true, force: true });
      writeServiceFiles(
        files.servicesDir,
        SERVICES.map((s) => spec(s.name, s.prefix)),
      );
      return files;
    };

    const start = async (files: ReturnType<typeof writeConfig>): Promise<DaemonProcess> => {
      const check = await exec([bin, '-c', '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true });
      expect(check.code, `anycast-healthchecker -c: ${check.stdout}${check.stderr}`).toBe(0);
      const d = new DaemonProcess(bed.execInNode([bin, '-f', files.confFile, '-d', files.servicesDir]));
      daemons.push(d);
      return d;
    };

    const allRoutes = async (d: DaemonProcess): Promise<void> => {
      for (const { prefix } of SERVICES)
        await bed.waitForPeerRoute(prefix, true, 20_000).catch((e: Error) => {
          throw new Error(`${e.message}\n${d.tail()}`);
        });
    };

    /** Every service has logged `status UP` from `from` on: its first check after the start confirmed it. */
    const allConfirmed = (d: DaemonProcess, from: number): Promise<void> =>
      pollUntil(
        async () =>
          SERVICES.every(({ name }) => d.lines.slice(from).some((l) => l.service === name && l.message === 'status UP')) ? true : undefined,
        { what: 'status UP from every service', timeoutMs: 20_000, describe: () => d.tail() },
      ).then(() => undefined);

    /** Polls the peer's IPv4 routes every 20 ms until stop(); records every poll whose set is not `serving`'s. */
    const watchPeer = (serving: ReadonlyArray<{ prefix: string }> = SERVICES) => {
      const expected = serving
        .map((s) => s.prefix)
        .sort()
        .join(' ');
      const changed: string[] = [];
      const errors: string[] = [];
      const started = performance.now();
      let polls = 0;
      let maxIntervalMs = 0;
      let stopped = false;
      const loop = (async () => {
        let last: number | undefined;
        while (!stopped) {
          const at = performance.now();
          try {
            const routes = [...(await bed.peerRoutes(4))].sort().join(' ');
            polls += 1;
            if (last !== undefined) maxIntervalMs = Math.max(maxIntervalMs, at - last);
            last = at;
            if (routes !== expected) changed.push(`${(at - started).toFixed(0)} ms: ${routes || '(none)'}`);
          } catch (error) {
            errors.push((error as Error).message);
          }
          // Pacing between polls, not synchronisation.
          await delay(Math.max(0, at + 20 - performance.now()));
        }
      })();
      return {
        stop: async () => {
          stopped = true;
          await loop;
          return { polls, maxIntervalMs, changed, errors, durationMs: performance.now() - started };
        },
      };
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `ahc-st-${process.pid}-`));
      bed = await createBirdPair({
        id: `st${flavour.major}`,
        binaries: flavour,
        prefixFile4: join(dir, 'anycast-prefixes.conf'),
        prefixFile6: join(dir, '6', 'anycast-prefixes.conf'),
      });
      for (const { name, prefix } of SERVICES) {
        await bed.addAddress(prefix);
        writeFileSync(healthFile(name), '');
      }
    }, 60_000);

    afterEach(async () => {
      for (const d of daemons.splice(0)) if (!d.hasExited) await d.stop('SIGTERM').catch(() => d.child.kill('SIGKILL'));
      rmSync(join(dir, 'state'), { recursive: true, force: true });
    });

    afterAll(async () => {
      await bed?.destroy();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    for (const lose of [false, true]) {
      it(`restarts a daemon with 20 UP services without the peer's routes changing${lose ? ', even with the BIRD file lost in between' : ''}`, async () => {
        const files = writeConfig();
        const first = await start(files);
        await allRoutes(first);
        await allConfirmed(first, 0);
        // The peer alone, every 20 ms (the prefix file is missing for a while in the second case,
        // and RouteWatch counts a poll only when it can read both), and the file too in the first.
        const peer = watchPeer();
        const watch = lose
          ? null
          : RouteWatch.start({
              peerRoutes: () => bed.peerRoutes(4),
              prefixFile: bed.prefixFile4,
              prefixes: SERVICES.map((s) => s.prefix),
              intervalMs: 20,
            });
        const before = await bed.peerRoutes(4);
        expect((await first.stop('SIGTERM')).code).toBe(0);
        if (lose) rmSync(bed.prefixFile4);
        const second = await start(files);
        await second.waitForLine((l) => /restored the last decided state of 20 service\(s\)/.test(l.raw), 10_000, 0, 'the restore');
        await allConfirmed(second, 0);
        // Two more check intervals after the last first check: nothing moves afterwards either.
        const confirmedAt = performance.now();
        await pollUntil(async () => (performance.now() - confirmedAt > 1_000 ? true : undefined), { what: '1 s', timeoutMs: 2_000 });
        const seen = await peer.stop();
        const report = await watch?.stop();
        const after = await bed.peerRoutes(4);
        console.log(
          `[state-bgp] restart${lose ? ' (BIRD file lost)' : ''}: peer polled ${seen.polls} times over ${(seen.durationMs / 1000).toFixed(1)} s, ` +
            `longest between polls ${seen.maxIntervalMs.toFixed(0)} ms, ${seen.changed.length} polls with other routes` +
            (report === undefined ? '' : `; prefix file: ${report.polls} polls, ${report.missing.length} gaps`),
        );
        expect(seen.changed, `the peer's routes changed:\n${second.tail()}`).toEqual([]);
        expect(seen.errors).toEqual([]);
        expect(seen.polls).toBeGreaterThan(20);
        expect(seen.maxIntervalMs).toBeLessThan(500);
        expect([...after].sort()).toEqual([...before].sort());
        // No service rose again: each went on from UP.
        expect(second.lines.filter((l) => l.message?.startsWith('going up') === true || l.message === 'changed to UP')).toEqual([]);
        if (report !== undefined) expect(report.missing).toEqual([]);
      }, 90_000);
    }

    it("restarts a daemon with 18 UP and 2 drained services without the peer's routes changing: the drains come back with their reason", async () => {
      const files = writeConfig();
      const first = await start(files);
      await allRoutes(first);
      await allConfirmed(first, 0);
      const drained = SERVICES.slice(18);
      const serving = SERVICES.slice(0, 18);
      const cli = await exec(
        [bin, 'drain', ...drained.map((s) => s.name), '--reason', 'maintenance window', '-f', files.confFile, '-d', files.servicesDir],
        { allowFailure: true },
      );
      expect(cli.code, `drain: ${cli.stdout}${cli.stderr}`).toBe(0);
      for (const { prefix } of drained) await bed.waitForPeerRoute(prefix, false, 10_000);
      const peer = watchPeer(serving);
      expect((await first.stop('SIGTERM')).code).toBe(0);
      const second = await start(files);
      await second.waitForLine(
        (l) => /restored the drains of svc19, svc20 from the state file/.test(l.raw),
        10_000,
        0,
        'the drains restored',
      );
      await allConfirmed(second, 0);
      const confirmedAt = performance.now();
      await pollUntil(async () => (performance.now() - confirmedAt > 1_000 ? true : undefined), { what: '1 s', timeoutMs: 2_000 });
      const seen = await peer.stop();
      console.log(
        `[state-bgp] restart with 2 drained: peer polled ${seen.polls} times over ${(seen.durationMs / 1000).toFixed(1)} s, ` +
          `longest between polls ${seen.maxIntervalMs.toFixed(0)} ms, ${seen.changed.length} polls with other routes`,
      );
      expect(seen.changed, `the peer's routes changed:\n${second.tail()}`).toEqual([]);
      expect(seen.errors).toEqual([]);
      expect(seen.polls).toBeGreaterThan(20);
      const status = await exec([bin, 'status', '--json', '-f', files.confFile, '-d', files.servicesDir]);
      const reply = JSON.parse(status.stdout) as { services: Array<{ name: string; drains?: Array<{ reason: string; source: string }> }> };
      for (const svc of reply.services) {
        const want = drained.some((d) => d.name === svc.name) ? [{ reason: 'maintenance window', source: 'command' }] : [];
        expect(
          (svc.drains ?? []).map((d) => ({ reason: d.reason, source: d.source })),
          svc.name,
        ).toEqual(want);
      }
    }, 90_000);

    it('withdraws every route at SIGTERM with withdraw_on_shutdown before exiting 0, and leaves them without it', async () => {
      const keep = await start(writeConfig());
      await allConfirmed(keep, 0);
      await allRoutes(keep);
      expect((await keep.stop('SIGTERM')).code).toBe(0);
      // Without the option the routes stay as last decided.
      for (const { prefix } of SERVICES) expect((await bed.peerRoutes(4)).has(prefix)).toBe(true);

      const files = writeConfig({ withdraw_on_shutdown: 'true', withdraw_on_shutdown_timeout: '5' });
      const d = await start(files);
      await allRoutes(d);
      await allConfirmed(d, 0);
      const sent = performance.now();
      const exit = await d.stop('SIGTERM', 10_000);
      const exitedAfter = performance.now() - sent;
      expect(exit.code).toBe(0);
      expect(d.lines.some((l) => /withdraw_on_shutdown: withdrew 20 prefix\(es\) .*; BIRD applied it in \d+ ms/.test(l.raw))).toBe(true);
      // BIRD applied the withdraw before the daemon exited; the peer follows within BGP's own delay.
      const gone = await Promise.all(SERVICES.map(({ prefix }) => bed.waitForPeerRoute(prefix, false, 3_000)));
      console.log(
        `[state-bgp] withdraw_on_shutdown: daemon exited ${exitedAfter.toFixed(0)} ms after SIGTERM; ` +
          `the peer had lost all 20 routes ${Math.max(...gone).toFixed(0)} ms after the exit`,
      );
      expect(exitedAfter).toBeLessThan(5_000);
      for (const { prefix } of SERVICES) expect((await bed.peerRoutes(4)).has(prefix)).toBe(false);
    }, 90_000);
  },
);
