// End to end: the built daemon in the node namespace follows the kernel's addresses through its
// one `ip -o monitor address` (docs/design.md, "Address checks: one kernel subscription"). An
// address removed from lo leaves the BIRD file within milliseconds, not at the next check; the
// monitor killed costs no flap and comes back.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBirdPair, type BirdPair } from '../helpers/bird-pair.js';
import { DaemonProcess, e2eDaemonSuite, pairBird, writeDaemonConfig, writeServiceFiles } from '../helpers/daemon-process.js';
import { exec } from '../helpers/exec.js';
import { median, pollUntil } from '../helpers/poll.js';
import { parsePrefixFile } from '../helpers/prefix-file.js';
import { RouteWatch } from '../helpers/route-watch.js';
import { StatusConnection, serviceOf } from '../helpers/status-client.js';

const { bin, skipReason } = e2eDaemonSuite('the address watch end-to-end tests');

const PREFIX = '10.52.14.1/32';
const NAME = 'svcaw';
const ROUNDS = 5;

interface Addresses {
  readonly source: string;
  readonly monitorPid: number | null;
  readonly restarts: number;
}

describe.skipIf(skipReason !== null)(`address watch of the daemon${skipReason === null ? '' : ` (skipped: ${skipReason})`}`, () => {
  let dir: string;
  let bed: BirdPair;
  let daemon: DaemonProcess | undefined;
  let status: StatusConnection | undefined;
  let statusSocket: string;

  const inFile = (): boolean => parsePrefixFile(readFileSync(bed.prefixFile4, 'utf8')).includes(PREFIX);
  const addresses = async (): Promise<Addresses> => {
    const view = (await status?.status()) as unknown as { daemon: { addresses: Addresses } };
    return view.daemon.addresses;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `ahc-aw-${process.pid}-`));
    bed = await createBirdPair({
      id: 'aw',
      prefixFile4: join(dir, 'anycast-prefixes.conf'),
      prefixFile6: join(dir, '6', 'anycast-prefixes.conf'),
    });
    statusSocket = join(dir, 'status.sock');
    const files = writeDaemonConfig({
      dir,
      ...pairBird(bed),
      loglevel: 'info',
      extra: { status_socket: statusSocket, instance_lock: `ahc-aw-${process.pid}`, worker_threads: '1' },
    });
    const health = join(dir, 'healthy');
    writeFileSync(health, '');
    writeServiceFiles(files.servicesDir, [
      { name: NAME, ipPrefix: PREFIX, checkCmd: `/usr/bin/test -e ${health}`, checkInterval: 0.5, checkRise: 1, checkFail: 1 },
    ]);
    const check = await exec([bin, '-c', '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true });
    expect(check.code, `anycast-healthchecker -c: ${check.stdout}${check.stderr}`).toBe(0);
    await bed.addAddress(PREFIX);
    daemon = new DaemonProcess(bed.execInNode([bin, '-f', files.confFile, '-d', files.servicesDir]));
    status = await StatusConnection.waitFor(statusSocket, 10_000);
  }, 60_000);

  afterAll(async () => {
    await status?.close?.();
    if (daemon !== undefined && !daemon.hasExited) await daemon.stop('SIGTERM').catch(() => daemon?.child.kill('SIGKILL'));
    await bed?.delAddress(PREFIX).catch(() => undefined);
    await bed?.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const upAndListed = async (what: string): Promise<void> => {
    const d = daemon as DaemonProcess;
    await pollUntil(
      async () => {
        const v = await (status as StatusConnection).status();
        return serviceOf(v, NAME).state === 'up' && inFile() ? true : undefined;
      },
      { what, timeoutMs: 10_000, describe: () => d.tail() },
    );
  };

  it(`takes the prefix out of the BIRD file within 100 ms (median of ${ROUNDS}) of the address leaving lo`, async () => {
    const d = daemon as DaemonProcess;
    await upAndListed('the service up and in the BIRD file');
    expect((await addresses()).source).toBe('events');
    const latencies: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // One more check first: the removal is then a lone transition (the last one is > 250 ms old),
      // applied at once rather than gathered with the UP before it (docs/design.md, "BIRD file and reconfiguration").
      await d.waitForLine((l) => l.service === NAME && l.message === 'status UP', 3_000, d.lines.length, 'a steady check');
      const from = d.lines.length;
      await bed.delAddress(PREFIX);
      const removed = performance.now();
      const ms = await pollUntil(() => Promise.resolve(inFile() ? undefined : performance.now() - removed), {
        what: `${PREFIX} to leave ${bed.prefixFile4}`,
        timeoutMs: 5_000,
        intervalMs: 2,
      });
      latencies.push(ms);
      // The Python daemon's records, unchanged.
      await d.waitForLine(
        (l) => l.raw.includes(`status DOWN because ${PREFIX} isn't assigned to lo interface.`),
        2_000,
        from,
        'status DOWN because … interface.',
      );
      await bed.addAddress(PREFIX);
      await upAndListed(`round ${round}: up again`);
    }
    const m = median(latencies);
    console.log(
      `[address-watch] address deleted -> prefix out of the BIRD file: median ${m.toFixed(1)} ms, each ${latencies.map((x) => x.toFixed(1)).join(', ')} ms (check_interval 0.5 s)`,
    );
    expect(m).toBeLessThan(100);
  }, 60_000);

  it('a SIGKILLed address monitor: no flap, polling, then events again with a new monitor', async () => {
    const d = daemon as DaemonProcess;
    await upAndListed('the service up and in the BIRD file');
    const before = await addresses();
    expect(before.source).toBe('events');
    expect(before.monitorPid).not.toBeNull();
    // The previous test put the address back last: the peer must have the route again before the watch starts.
    await bed.waitForPeerRoute(PREFIX, true, 10_000);
    const from = d.lines.length;
    const watch = RouteWatch.start({
      peerRoutes: () => bed.peerRoutes(4),
      prefixFile: bed.prefixFile4,
      prefixes: [PREFIX],
      intervalMs: 10,
    });
    process.kill(before.monitorPid ?? 0, 'SIGKILL');
    await d.waitForLine((l) => l.raw.includes('was killed by SIGKILL') && l.raw.includes('polling'), 3_000, from, 'the watch warning');
    const back = await pollUntil(
      async () => {
        const a = await addresses();
        return a.source === 'events' && a.monitorPid !== before.monitorPid ? a : undefined;
      },
      { what: 'the monitor back', timeoutMs: 10_000, intervalMs: 20, describe: () => d.tail() },
    );
    await d.waitForLine((l) => l.raw.includes('events are back'), 2_000, from, 'events are back');
    // A check with the new monitor, the route there all along.
    await d.waitForLine((l) => l.service === NAME && l.message === 'status UP', 3_000, d.lines.length, 'a check after the restart');
    const report = await watch.stop();
    expect(report.missing).toEqual([]);
    expect(back.restarts).toBe(before.restarts + 1);
    expect(d.lines.slice(from).filter((l) => /changed to (UP|DOWN)|isn't assigned/.test(l.raw))).toEqual([]);
    expect(d.lines.slice(from).filter((l) => l.raw.includes('was killed by SIGKILL'))).toHaveLength(1);
    // The new monitor delivers: a removal is seen at once again.
    await bed.delAddress(PREFIX);
    const removed = performance.now();
    const ms = await pollUntil(() => Promise.resolve(inFile() ? undefined : performance.now() - removed), {
      what: `${PREFIX} to leave the file after the restart`,
      timeoutMs: 5_000,
      intervalMs: 2,
    });
    console.log(`[address-watch] after the monitor's restart: prefix out of the BIRD file ${ms.toFixed(1)} ms after the removal`);
    expect(ms).toBeLessThan(250);
    await bed.addAddress(PREFIX);
  }, 60_000);
});
