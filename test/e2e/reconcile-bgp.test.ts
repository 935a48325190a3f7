// End to end: the reconciler against a real BIRD that is down or unreachable. The real daemon
// runs in the node namespace with svc1 and svc2 healthy; BIRD goes away, svc1 fails, BIRD comes
// back, and nothing else changes: the daemon's retries alone must bring BIRD, and so the peer,
// to exactly svc2's route. With `bird_verify_cmd`, the daemon also reads BIRD's live prefix set
// back (`birdc eval`) and retries until it matches the file.
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBirdPair, type BirdPair } from '../helpers/bird-pair.js';
import { BIRD_FLAVOURS, noteBird3Skip } from '../helpers/bird-flavours.js';
import { birdOf, isConverged, isSettled, reconcilerStatus, waitForBird, type BirdFamilyView } from '../helpers/bird-status.js';
import {
  DaemonProcess,
  e2eDaemonSuite,
  pairBird,
  statusLine,
  transitionsSince,
  writeDaemonConfig,
  writeServiceFiles,
  type LogLine,
} from '../helpers/daemon-process.js';
import { exec } from '../helpers/exec.js';
import { pollUntil } from '../helpers/poll.js';
import { reconfigureFailed, retryDelays, retryLine } from '../helpers/retry-lines.js';
import { DUMMY_IP4_PREFIX } from '../helpers/prefix-file.js';
import { StatusConnection } from '../helpers/status-client.js';

const { bin, skipReason } = e2eDaemonSuite('the reconcile end-to-end tests');

const SVC1 = { name: 'svc1', prefix: '10.52.16.1/32' };
const SVC2 = { name: 'svc2', prefix: '10.52.16.2/32' };
const BACKOFF_CAP_MS = 5_000;
/** Polling and process start-up slack on top of the documented bounds. */
const SLACK_MS = 1_000;

const verifyFailed = (line: LogLine): boolean =>
  line.level === 'ERROR' && (line.message ?? '').startsWith("verification of BIRD's applied configuration failed:");
const verifyMatched = (line: LogLine): boolean => /^verified: BIRD's ACAST_PS_ADVERTISE matches \(\d+ prefixes\)$/.test(line.message ?? '');
const sorted = (values: Iterable<string>): string[] => [...values].sort();

if (skipReason === null) noteBird3Skip('reconciler retries against a real BIRD over BGP');

describe.skipIf(skipReason !== null).each(BIRD_FLAVOURS)(
  `reconciler retries against a real BIRD over BGP, $label${skipReason === null ? '' : ` (skipped: ${skipReason})`}`,
  (flavour) => {
    let dir: string;
    let bed: BirdPair;
    let daemon: DaemonProcess | undefined;
    let status: StatusConnection | undefined;
    let runs = 0;
    const summary: string[] = [];

    const healthFile = (service: string): string => join(dir, `${service}.healthy`);
    const awaySocket = (): string => `${bed.nodeSocket}.away`;
    const verifyCommand = (): string => `${bed.binaries.birdc} -s ${bed.nodeSocket} eval`;

    /** svc1 and svc2 healthy, advertised, applied (status converged) and seen by the peer. */
    const startDaemon = async (
      options: { verify?: boolean; reconfigure?: string; syncBird?: boolean } = {},
    ): Promise<{ d: DaemonProcess; status: StatusConnection }> => {
      runs += 1;
      const statusSocket = join(dir, `status-${runs}.sock`);
      const verify: Record<string, string> =
        options.verify === true ? { bird_verify_cmd: verifyCommand(), bird6_verify_cmd: verifyCommand() } : {};
      const files = writeDaemonConfig({
        dir,
        ...pairBird(bed),
        reconfigureCommand: options.reconfigure ?? bed.nodeReconfigureCommand,
        extra: { status_socket: statusSocket, instance_lock: `ahc-rb-${process.pid}`, ...verify },
      });
      rmSync(files.servicesDir, { recursive: true, force: true });
      writeServiceFiles(
        files.servicesDir,
        [SVC1, SVC2].map(({ name, prefix }) => ({
          name,
          ipPrefix: prefix,
          checkCmd: `/usr/bin/test -e ${healthFile(name)}`,
          checkInterval: 0.2,
          checkTimeout: 0.15,
          checkRise: 1,
          checkFail: 1,
        })),
      );
      for (const { name } of [SVC1, SVC2]) writeFileSync(healthFile(name), '');
      const check = await exec([bin, '-c', '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true });
      expect(check.code, `anycast-healthchecker -c: ${check.stdout}${check.stderr}`).toBe(0);

      const d = new DaemonProcess(bed.execInNode([bin, '-f', files.confFile, '-d', files.servicesDir]));
      daemon = d;
      const fail = (e: Error): never => {
        throw new Error(`${e.message}\n${d.tail()}`);
      };
      const connection = await StatusConnection.waitFor(statusSocket, 10_000).catch(fail);
      status = connection;
      const both = (b: BirdFamilyView): boolean => b.prefixes.includes(SVC1.prefix) && b.prefixes.includes(SVC2.prefix);
      await waitForBird(connection, 4, both, 'both prefixes in the IPv4 file', 10_000).catch(fail);
      // A reconfigure command that does not reconfigure: the test applies the file itself.
      if (options.syncBird === true) await bed.reconfigureNode();
      // `applied` stays null when the file was already right at startup (no reconfigure was needed).
      await waitForBird(
        connection,
        4,
        (b) => both(b) && isSettled(b),
        'both prefixes in the file, nothing pending, no error',
        10_000,
      ).catch(fail);
      await pollUntil(async () => ((await reconcilerStatus(connection)).services.every((s) => s.state === 'up') ? true : undefined), {
        what: 'both services decided UP',
        timeoutMs: 10_000,
      }).catch(fail);
      for (const { prefix } of [SVC1, SVC2]) await bed.waitForPeerRoute(prefix, true, 10_000).catch(fail);
      return { d, status: connection };
    };

    /** svc1 fails while BIRD cannot be reconfigured: the file changes, BIRD does not, the daemon retries. */
    const failSvc1WhileUnreachable = async (
      d: DaemonProcess,
      connection: StatusConnection,
      failure: (line: LogLine) => boolean,
    ): Promise<{ from: number; pending: BirdFamilyView }> => {
      const from = d.lines.length;
      rmSync(healthFile(SVC1.name));
      await d.waitForLine(statusLine(SVC1.name, 'DOWN'), 5_000, from, '"status DOWN" for svc1');
      await d.waitForLine(failure, 5_000, from, 'a failed reconfigure');
      // Retried with backoff, 0.25 s then 0.5 s then 1 s: BIRD stays away long enough for three.
      await d.waitForLine(retryLine(3), 5_000, from, 'a third failed attempt (retried twice)');
      const delays = retryDelays(d.lines, from);
      expect(delays.slice(0, 3)).toEqual([0.25, 0.5, 1]);
      const pending = birdOf(await reconcilerStatus(connection), 4);
      expect(pending.pending).toBe(true);
      expect(pending.lastError).not.toBeNull();
      expect(sorted(pending.prefixes), 'the file already lists only svc2').toEqual(sorted([DUMMY_IP4_PREFIX, SVC2.prefix]));
      // Not applied: `applied` still holds svc1 (or is null: no reconfigure was needed since start).
      if (pending.applied !== null) expect(pending.applied, 'BIRD is not known to have applied the file').toContain(SVC1.prefix);
      return { from, pending };
    };

    /** BIRD reachable again at `fixedAt`: status converges and the peer has exactly svc2, no transition on the way. */
    const expectConvergedAfterFix = async (
      d: DaemonProcess,
      connection: StatusConnection,
      from: number,
      fixedAt: number,
      boundMs: number,
    ): Promise<{ peerMs: number; statusMs: number }> => {
      const peerMs = await pollUntil(
        async () => {
          const routes = await bed.peerRoutes(4);
          return routes.size === 1 && routes.has(SVC2.prefix) ? performance.now() - fixedAt : undefined;
        },
        {
          what: `the peer to have exactly ${SVC2.prefix}`,
          timeoutMs: boundMs + 5_000,
          intervalMs: 10,
          describe: async () => `peer routes: ${sorted(await bed.peerRoutes(4)).join(' ')}`,
        },
      );
      const converged = await waitForBird(
        connection,
        4,
        isConverged,
        'IPv4 converged (applied = file, no error, nothing pending)',
        boundMs + 5_000,
      );
      const statusMs = performance.now() - fixedAt;
      expect(sorted(converged.applied ?? []), 'applied = the file').toEqual(sorted([DUMMY_IP4_PREFIX, SVC2.prefix]));
      expect(converged.lastError).toBeNull();
      const transitions = transitionsSince(d.lines, from);
      expect(transitions, `only svc1 going DOWN, nothing after it:\n${transitions.join('\n')}`).toHaveLength(1);
      expect(peerMs, `peer converged ${peerMs.toFixed(0)} ms after the fix (bound ${boundMs} ms)`).toBeLessThanOrEqual(boundMs);
      expect(statusMs, `status converged ${statusMs.toFixed(0)} ms after the fix (bound ${boundMs} ms)`).toBeLessThanOrEqual(
        boundMs + SLACK_MS,
      );
      return { peerMs, statusMs };
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `ahc-rb-${process.pid}-`));
      bed = await createBirdPair({
        id: `rb${flavour.major}`,
        binaries: flavour,
        prefixFile4: join(dir, 'anycast-prefixes.conf'),
        prefixFile6: join(dir, '6', 'anycast-prefixes.conf'),
      });
      for (const { prefix } of [SVC1, SVC2]) await bed.addAddress(prefix);
    });

    afterEach(async () => {
      status?.close();
      status = undefined;
      if (daemon !== undefined && !daemon.hasExited) await daemon.stop('SIGTERM').catch(() => daemon?.child.kill('SIGKILL'));
      daemon = undefined;
      if (existsSync(awaySocket())) renameSync(awaySocket(), bed.nodeSocket);
      await bed.startNodeBird();
    });

    afterAll(async () => {
      if (summary.length > 0) console.log(`[reconcile-bgp]\n${summary.map((s) => `  ${s}`).join('\n')}`);
      await bed?.destroy();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    for (const verify of [false, true]) {
      const variant = verify ? ' (bird_verify_cmd = birdc eval)' : '';
      it(`brings the peer to exactly svc2's route after BIRD was stopped while svc1 failed, without any further transition${variant}`, async () => {
        const { d, status: connection } = await startDaemon({ verify });
        await bed.stopNodeBird();
        const { from, pending } = await failSvc1WhileUnreachable(d, connection, reconfigureFailed);
        expect(pending.lastError ?? '').toMatch(/Unable to connect|exited with code|exit code/);

        const fixedAt = performance.now();
        await bed.startNodeBird({ waitEstablished: false });
        const establishedMs = await bed.waitEstablished().then(() => performance.now() - fixedAt);
        const bound = BACKOFF_CAP_MS + establishedMs + SLACK_MS;
        const { peerMs, statusMs } = await expectConvergedAfterFix(d, connection, from, fixedAt, bound);
        if (verify) expect(d.lines.slice(from).some(verifyMatched), 'a successful verification logged after BIRD came back').toBe(true);
        const failures = birdOf(await reconcilerStatus(connection), 4).reconfigureFailures;
        summary.push(
          `BIRD stopped${variant}: ${failures} failed reconfigures; after BIRD start: sessions up in ${establishedMs.toFixed(0)} ms, ` +
            `peer = {svc2} after ${peerMs.toFixed(0)} ms, status converged after ${statusMs.toFixed(0)} ms`,
        );
      }, 60_000);
    }

    it("withdraws svc1 at the peer once BIRD's control socket is reachable again: BIRD kept routing, only the daemon's retry applies the change", async () => {
      const { d, status: connection } = await startDaemon();
      renameSync(bed.nodeSocket, awaySocket());
      const { from, pending } = await failSvc1WhileUnreachable(d, connection, reconfigureFailed);
      expect(pending.lastError ?? '').toContain('Unable to connect');
      // BIRD never heard of the change: the peer still has both routes.
      expect(sorted(await bed.peerRoutes(4))).toEqual(sorted([SVC1.prefix, SVC2.prefix]));

      const fixedAt = performance.now();
      renameSync(awaySocket(), bed.nodeSocket);
      const { peerMs, statusMs } = await expectConvergedAfterFix(d, connection, from, fixedAt, BACKOFF_CAP_MS + SLACK_MS);
      summary.push(
        `control socket away: peer lost svc1 ${peerMs.toFixed(0)} ms after the socket was back, status converged after ${statusMs.toFixed(0)} ms`,
      );
    }, 60_000);

    it('verifies with birdc eval after every reconfigure on a healthy run: no verification error, status without lastError', async () => {
      const { d, status: connection } = await startDaemon({ verify: true });
      const from = d.lines.length;
      rmSync(healthFile(SVC1.name));
      await bed.waitForPeerRoute(SVC1.prefix, false, 5_000);
      await waitForBird(connection, 4, (b) => isConverged(b) && !b.prefixes.includes(SVC1.prefix), 'svc1 withdrawn and applied', 5_000);
      writeFileSync(healthFile(SVC1.name), '');
      await bed.waitForPeerRoute(SVC1.prefix, true, 5_000);
      const back = await waitForBird(
        connection,
        4,
        (b) => isConverged(b) && b.prefixes.includes(SVC1.prefix),
        'svc1 advertised and applied',
        5_000,
      );
      expect(back.lastError).toBeNull();
      expect(back.reconfigureFailures).toBe(0);
      expect(d.lines.filter(verifyFailed).map((l) => l.raw)).toEqual([]);
      expect(d.lines.slice(from).filter(verifyMatched).length, 'one verification per reconfigure').toBeGreaterThanOrEqual(2);
    }, 60_000);

    it('catches a reconfigure command that claims success without applying, and converges once BIRD really has the file', async () => {
      // `/bin/echo Reconfigured` answers like BIRD but does nothing; birdc eval reads the truth.
      const { d, status: connection } = await startDaemon({ verify: true, reconfigure: '/bin/echo Reconfigured', syncBird: true });
      const { from, pending } = await failSvc1WhileUnreachable(d, connection, verifyFailed);
      expect(pending.lastError ?? '').toContain(`unexpected ${SVC1.prefix}`);
      expect(sorted(await bed.peerRoutes(4)), 'BIRD still routes svc1').toEqual(sorted([SVC1.prefix, SVC2.prefix]));

      const fixedAt = performance.now();
      await bed.reconfigureNode();
      const { statusMs } = await expectConvergedAfterFix(d, connection, from, fixedAt, BACKOFF_CAP_MS + SLACK_MS);
      summary.push(
        `lying reconfigure command: verification failed until BIRD was reconfigured by hand, then status converged after ${statusMs.toFixed(0)} ms`,
      );
    }, 60_000);
  },
);
