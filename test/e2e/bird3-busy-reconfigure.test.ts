// End to end, BIRD 3 only: the daemon's reconfigures while BIRD is still applying an earlier
// configuration. An operator's `birdc configure` that removes a protocol with many routes makes
// BIRD answer `Reconfiguration in progress` while it flushes them; a `configure` meanwhile is
// answered `Reconfiguration already in progress, queueing new config`. BIRD 3.3.2 aborts
// (`Assertion '!obstacle_target_count(&c->obstacles)' failed at conf/conf.c`) when a second
// configuration is queued over the first one before the first is applied: the node's BIRD is
// gone and the peer loses every route. The daemon must therefore not run another reconfigure
// while BIRD still has one queued (docs/bird.md); this test fails while it does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIRD3_SKIP_NOTE, BIRD_FLAVOURS } from '../helpers/bird-flavours.js';
import { createBirdPair, type BirdPair } from '../helpers/bird-pair.js';
import { DaemonProcess, e2eDaemonSuite, pairBird, writeDaemonConfig, writeServiceFiles, type LogLine } from '../helpers/daemon-process.js';
import { exec } from '../helpers/exec.js';
import { delay } from '../helpers/poll.js';

const bird3 = BIRD_FLAVOURS.find((f) => f.major === 3);
const { bin, skipReason } = e2eDaemonSuite('the BIRD 3 busy-reconfigure test', () =>
  bird3 === undefined ? (BIRD3_SKIP_NOTE ?? 'no BIRD 3') : null,
);

/** Enough routes that removing their protocol keeps BIRD 3 busy for ~100-200 ms. */
const STATIC_ROUTES = 300_000;
const SERVICES = [
  { name: 'svc1', prefix: '10.52.40.1/32' },
  { name: 'svc2', prefix: '10.52.40.2/32' },
  { name: 'svc3', prefix: '10.52.40.3/32' },
] as const;

function writeStaticRoutes(file: string, count: number): void {
  const lines = ['protocol static bulk4 {', '    ipv4;'];
  for (let i = 0; i < count; i += 1) lines.push(`    route 100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32 blackhole;`);
  lines.push('}', '');
  writeFileSync(file, lines.join('\n'));
}

const inBackground = (line: LogLine): boolean =>
  (line.message ?? '').startsWith('BIRD accepted the configuration and applies it in the background');

describe.skipIf(skipReason !== null)(
  `daemon reconfigures while BIRD 3 is still applying a configuration${skipReason === null ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let dir: string;
    let bed: BirdPair;
    let staticFile: string;
    let daemon: DaemonProcess | undefined;
    const healthFile = (name: string): string => join(dir, `${name}.healthy`);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `ahc-b3b-${process.pid}-`));
      staticFile = join(dir, 'static-routes.conf');
      writeStaticRoutes(staticFile, STATIC_ROUTES);
      bed = await createBirdPair({
        id: 'b3busy',
        binaries: bird3,
        prefixFile4: join(dir, 'anycast-prefixes.conf'),
        prefixFile6: join(dir, '6', 'anycast-prefixes.conf'),
        nodeExtraConfig: `include "${staticFile}";`,
        establishTimeoutMs: 60_000,
      });
      for (const { prefix } of SERVICES) await bed.addAddress(prefix);
    }, 120_000);

    afterEach(async () => {
      if (daemon !== undefined && !daemon.hasExited) await daemon.stop('SIGTERM').catch(() => daemon?.child.kill('SIGKILL'));
      daemon = undefined;
    });

    afterAll(async () => {
      await bed?.destroy();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('keeps BIRD alive and the healthy route at the peer when two services fail while BIRD flushes a removed protocol', async () => {
      const files = writeDaemonConfig({
        dir,
        ...pairBird(bed),
        loglevel: 'info',
        extra: { worker_threads: '2' },
      });
      writeServiceFiles(
        files.servicesDir,
        SERVICES.map(({ name, prefix }) => ({
          name,
          ipPrefix: prefix,
          checkCmd: `/usr/bin/test -e ${healthFile(name)}`,
          checkInterval: 5,
          checkTimeout: 1,
          checkRise: 1,
          checkFail: 1,
        })),
      );
      for (const { name } of SERVICES) writeFileSync(healthFile(name), '');
      const d = new DaemonProcess(bed.execInNode([bin, '-f', files.confFile, '-d', files.servicesDir]));
      daemon = d;
      for (const { prefix } of SERVICES) await bed.waitForPeerRoute(prefix, true, 20_000);
      const from = d.lines.length;

      // The operator drops the big protocol; BIRD 3 flushes its routes in the background.
      writeFileSync(staticFile, '');
      const operator = await exec([bed.binaries.birdc, '-s', bed.nodeSocket, 'configure'], { allowFailure: true });
      expect(operator.stdout).toMatch(/Reconfiguration in progress/);
      // svc1 fails: the daemon's reconfigure is queued ...
      rmSync(healthFile('svc1'));
      process.kill(d.pid ?? 0, 'SIGURG');
      await d.waitForLine(inBackground, 5_000, from, 'the first reconfigure accepted in the background');
      // ... and svc2 fails before BIRD is done: a second reconfigure must not be queued over it.
      rmSync(healthFile('svc2'));
      process.kill(d.pid ?? 0, 'SIGURG');

      await bed.waitForPeerRoute(SERVICES[0].prefix, false, 10_000);
      await bed.waitForPeerRoute(SERVICES[1].prefix, false, 10_000);
      await delay(1_000);
      const status = await bed.nodeBirdc(['show', 'status']).catch((e: Error) => ({ stdout: e.message }));
      expect(status.stdout, `node BIRD log:\n${bed.birdLog('node').split('\n').slice(-12).join('\n')}`).toMatch(/Daemon is up and running/);
      expect([...(await bed.peerRoutes(4))]).toContain(SERVICES[2].prefix);
    }, 90_000);
  },
);
