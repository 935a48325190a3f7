// End to end: the real anycast-healthchecker CLI inside the node namespace drives the node's
// BIRD, and the peer's routing table shows what the network sees.
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBirdPair, type BirdPair } from '../helpers/bird-pair.js';
import { BIRD_FLAVOURS, noteBird3Skip } from '../helpers/bird-flavours.js';
import {
  DaemonProcess,
  e2eDaemonSuite,
  pairBird,
  statusLine,
  writeDaemonConfig,
  writeServiceFiles,
  type DaemonFiles,
  type ServiceSpec,
} from '../helpers/daemon-process.js';
import { exec } from '../helpers/exec.js';
import { median, pollUntil } from '../helpers/poll.js';
import { parsePrefixFile } from '../helpers/prefix-file.js';

const { bin, skipReason } = e2eDaemonSuite('the daemon end-to-end tests');

if (skipReason === null) noteBird3Skip('anycast-healthchecker daemon against BIRD over BGP');

describe.skipIf(skipReason !== null).each(BIRD_FLAVOURS)(
  `anycast-healthchecker daemon against BIRD over BGP, $label${skipReason === null ? '' : ` (skipped: ${skipReason})`}`,
  (flavour) => {
    let dir: string;
    let bed: BirdPair;
    let files: DaemonFiles;
    let daemon: DaemonProcess | undefined;
    const addresses = new Set<string>();

    const healthFile = (service: string): string => join(dir, `${service}.healthy`);
    const markHealthy = (service: string): void => writeFileSync(healthFile(service), '');
    const markBroken = (service: string): void => rmSync(healthFile(service), { force: true });
    const service = (name: string, ipPrefix: string, extra: Partial<ServiceSpec> = {}): ServiceSpec => ({
      name,
      ipPrefix,
      checkCmd: `/usr/bin/test -e ${healthFile(name)}`,
      ...extra,
    });
    const addAddress = async (prefix: string): Promise<void> => {
      await bed.addAddress(prefix);
      addresses.add(prefix);
    };

    /** Fresh services dir with `specs`, then the daemon started in the node namespace. */
    const startDaemon = async (specs: readonly ServiceSpec[]): Promise<DaemonProcess> => {
      rmSync(files.servicesDir, { recursive: true, force: true });
      writeServiceFiles(files.servicesDir, specs);
      const check = await exec([bin, '-c', '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true });
      expect(check.code, `anycast-healthchecker -c: ${check.stdout}${check.stderr}`).toBe(0);
      const child = bed.execInNode([bin, '-f', files.confFile, '-d', files.servicesDir]);
      daemon = new DaemonProcess(child);
      return daemon;
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `ahc-dg-${process.pid}-daemon-`));
      bed = await createBirdPair({
        id: `dg${flavour.major}`,
        binaries: flavour,
        prefixFile4: join(dir, 'anycast-prefixes.conf'),
        prefixFile6: join(dir, '6', 'anycast-prefixes.conf'),
      });
      files = writeDaemonConfig({
        dir,
        ...pairBird(bed),
      });
    });

    afterEach(async () => {
      if (daemon !== undefined && !daemon.hasExited) await daemon.stop('SIGTERM').catch(() => daemon?.child.kill('SIGKILL'));
      daemon = undefined;
      for (const prefix of addresses) await bed.delAddress(prefix).catch(() => undefined);
      addresses.clear();
    });

    afterAll(async () => {
      await bed?.destroy();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    const families = [
      { family: 4, name: 'svc1', prefix: '10.52.12.1/32' },
      { family: 6, name: 'svc6', prefix: '2001:db8:52::1/128' },
    ] as const;

    for (const { family, name, prefix } of families) {
      it(`advertises IPv${family} ${prefix} once healthy and withdraws it within check_fail × check_interval + 1 s of failing`, async () => {
        const interval = 0.5;
        const fail = 2;
        await addAddress(prefix);
        markHealthy(name);
        const d = await startDaemon([service(name, prefix, { checkInterval: interval, checkFail: fail })]);
        await bed.waitForPeerRoute(prefix, true, 10_000).catch((e: Error) => {
          throw new Error(`${e.message}\n${d.tail()}`);
        });

        const broken = performance.now();
        markBroken(name);
        const ms = performance.now() - broken + (await bed.waitForPeerRoute(prefix, false, 10_000));
        console.log(`[daemon-bgp] IPv${family} ${prefix}: peer lost the route ${ms.toFixed(0)} ms after the health file was removed`);
        expect(ms).toBeLessThan((fail * interval + 1) * 1000);
        await d.waitForLine(statusLine(name, 'DOWN'), 2_000, 0, `"status DOWN" for ${name}`);
      }, 40_000);
    }

    it('declares a service DOWN at its next check when its address leaves lo, without counting check_fail failures', async () => {
      const prefix = '10.52.12.3/32';
      await addAddress(prefix);
      markHealthy('svc3');
      const d = await startDaemon([service('svc3', prefix, { checkInterval: 0.5, checkFail: 10 })]);
      await bed.waitForPeerRoute(prefix, true, 10_000);
      await d.waitForLine(statusLine('svc3', 'UP'), 5_000, 0, '"status UP" for svc3');

      const from = d.lines.length;
      const started = performance.now();
      await bed.delAddress(prefix);
      addresses.delete(prefix);
      // The peer loses the route at once anyway: BIRD's direct protocol drops the lo route.
      const peerMs = performance.now() - started + (await bed.waitForPeerRoute(prefix, false, 10_000));
      // What the daemon adds: DOWN at the next check (10 failures would take 5 s), prefix unlisted.
      const down = await d.waitForLine(statusLine('svc3', 'DOWN'), 10_000, from, '"status DOWN" for svc3');
      const downMs = down.at - started;
      const unlistedMs = await pollUntil(
        async () => (parsePrefixFile(readFileSync(bed.prefixFile4, 'utf8')).includes(prefix) ? undefined : performance.now() - started),
        { what: `${prefix} to leave ${bed.prefixFile4}`, timeoutMs: 5_000 },
      );
      console.log(
        `[daemon-bgp] ${prefix} removed from lo (check_fail = 10): peer lost the route after ${peerMs.toFixed(0)} ms, ` +
          `daemon logged status DOWN after ${downMs.toFixed(0)} ms, prefix unlisted after ${unlistedMs.toFixed(0)} ms`,
      );
      expect(peerMs).toBeLessThan(1_500);
      expect(downMs).toBeLessThan(1_500);
      expect(unlistedMs).toBeLessThan(1_500);

      // Putting the address back does not re-advertise before the service has risen again.
      await addAddress(prefix);
      expect(parsePrefixFile(readFileSync(bed.prefixFile4, 'utf8'))).not.toContain(prefix);
      await d.waitForLine(statusLine('svc3', 'UP'), 10_000, from, '"status UP" for svc3 after the address is back');
      await bed.waitForPeerRoute(prefix, true, 5_000);
    }, 40_000);

    it('exits 0 on SIGTERM, removes its pidfile and leaves the routes as last decided', async () => {
      const up = '10.52.12.4/32';
      const down = '10.52.12.6/32';
      await addAddress(up);
      await addAddress(down);
      markHealthy('svc4');
      markBroken('svc5');
      const d = await startDaemon([service('svc4', up), service('svc5', down)]);
      await bed.waitForPeerRoute(up, true, 10_000);
      await d.waitForLine(statusLine('svc5', 'DOWN'), 10_000, 0, '"status DOWN" for svc5');
      expect(existsSync(files.pidfile)).toBe(true);

      const exit = await d.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      expect(existsSync(files.pidfile)).toBe(false);
      const listed = parsePrefixFile(readFileSync(bed.prefixFile4, 'utf8'));
      expect(listed).toContain(up);
      expect(listed).not.toContain(down);
      const routes = await bed.peerRoutes(4);
      expect(routes.has(up)).toBe(true);
      expect(routes.has(down)).toBe(false);
    }, 40_000);

    it('takes the route off the peer shortly after it logs status DOWN (10 fail/recover rounds)', async () => {
      const name = 'svcl';
      const prefix = '10.52.12.5/32';
      await addAddress(prefix);
      markHealthy(name);
      const d = await startDaemon([service(name, prefix)]);
      await bed.waitForPeerRoute(prefix, true, 10_000);

      const latencies: number[] = [];
      for (let round = 0; round < 10; round++) {
        const from = d.lines.length;
        const pollStart = performance.now();
        // Poll the peer from before the failure, so a withdraw that beats the log line is seen too.
        const gone = bed.waitForPeerRoute(prefix, false, 10_000).then(
          (ms) => ({ ms }),
          (error: Error) => ({ error }),
        );
        markBroken(name);
        const down = await d.waitForLine(statusLine(name, 'DOWN'), 10_000, from, `"status DOWN" for ${name}`);
        const outcome = await gone;
        if ('error' in outcome) throw outcome.error;
        const goneAt = pollStart + outcome.ms;
        latencies.push(goneAt - down.at);

        const back = d.lines.length;
        markHealthy(name);
        await d.waitForLine(statusLine(name, 'UP'), 10_000, back, `"status UP" for ${name}`);
        await bed.waitForPeerRoute(prefix, true, 10_000);
      }
      const text = latencies.map((ms) => ms.toFixed(0)).join(', ');
      console.log(`[daemon-bgp] status DOWN logged -> peer lost route: median ${median(latencies).toFixed(0)} ms (rounds: ${text})`);
      expect(median(latencies)).toBeLessThan(1_000);
    }, 120_000);
  },
);
