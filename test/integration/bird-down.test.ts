// The reconciler against a real BIRD that cannot take the change: stopped, or refusing its
// configuration. No namespaces: one BIRD with no kernel-facing protocols, only the prefix files
// and a filter per family using them, reconfigured and read back (`birdc eval`, bird_verify_cmd)
// over its control socket. svc1 fails while BIRD cannot apply it; the daemon must log the
// failure, retry with backoff (0.25 s doubling), report `pending` and `lastError`, and apply the
// file as soon as BIRD can take it, with no further health transition.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIRD, BIRDC } from '../helpers/birdc.js';
import { birdOf, isConverged, isSettled, reconcilerStatus, waitForBird } from '../helpers/bird-status.js';
import { daemonBin, daemonSkipReason, statusLine, transitionsSince, type DaemonProcess } from '../helpers/daemon-process.js';
import { LocalBird } from '../helpers/local-bird.js';
import { spawnLocalDaemon, writeHealthyServices, writeLocalDaemonConfig } from '../helpers/local-daemon.js';
import { pollUntil } from '../helpers/poll.js';
import { RETRY, reconfigureFailed, retryDelays } from '../helpers/retry-lines.js';
import { DUMMY_IP4_PREFIX, IP4_VARIABLE } from '../helpers/prefix-file.js';
import { StatusConnection } from '../helpers/status-client.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = daemonBin(repoRoot);

const skipReason =
  (existsSync(BIRD) && existsSync(BIRDC) ? null : `BIRD 2 is not installed (${BIRD}, ${BIRDC})`) ?? daemonSkipReason(repoRoot);
if (skipReason !== null) console.warn(`skipping the BIRD-down tests: ${skipReason}`);

const SVC1 = { name: 'svc1', prefix: '10.52.50.1/32' };
const SVC2 = { name: 'svc2', prefix: '10.52.50.2/32' };
const SVC6 = { name: 'svc6', prefix: '2001:db8:50::1/128' };
const SERVICES = [SVC1, SVC2, SVC6];
/** Backoff cap (5 s) plus a reconfigure, a verification and the polling. */
const CONVERGE_AFTER_FIX_MS = 5_000 + 1_500;

const sorted = (values: Iterable<string>): string[] => [...values].sort();

describe.skipIf(skipReason !== null)(
  `reconciler against a BIRD that cannot take the change${skipReason === null ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let root: string;
    let bird: LocalBird;
    let daemon: DaemonProcess | undefined;
    let status: StatusConnection | undefined;
    let runs = 0;
    const summary: string[] = [];
    const healthFile = (service: string): string => join(root, `${service}.healthy`);

    /** BIRD running, the daemon up with all three services advertised and applied. */
    const start = async (): Promise<{ d: DaemonProcess; connection: StatusConnection }> => {
      runs += 1;
      await bird.start();
      const dir = join(root, `run-${runs}`);
      mkdirSync(dir);
      const files = writeLocalDaemonConfig({
        dir,
        prefixFile4: bird.input.prefixFile4,
        prefixFile6: bird.input.prefixFile6,
        reconfigure4: bird.reconfigureCommand,
        instanceLock: `ahc-bd-${process.pid}-${runs}`,
        loglevel: 'debug',
        extra: { bird_verify_cmd: bird.verifyCommand, bird6_verify_cmd: bird.verifyCommand },
      });
      writeHealthyServices(files.servicesDir, SERVICES, healthFile);
      const { daemon: d } = spawnLocalDaemon(bin, files);
      daemon = d;
      const fail = (e: Error): never => {
        throw new Error(`${e.message}\n${d.tail()}`);
      };
      const connection = await StatusConnection.waitFor(files.statusSocket, 10_000).catch(fail);
      status = connection;
      await pollUntil(
        async () => {
          const view = await reconcilerStatus(connection);
          const ready =
            view.services.every((s) => s.state === 'up') &&
            isSettled(birdOf(view, 4)) &&
            isSettled(birdOf(view, 6)) &&
            birdOf(view, 4).prefixes.includes(SVC1.prefix) &&
            birdOf(view, 6).prefixes.includes(SVC6.prefix);
          return ready ? true : undefined;
        },
        { what: 'all services up, both files settled', timeoutMs: 10_000 },
      ).catch(fail);
      expect(await bird.liveSet(IP4_VARIABLE)).toContain(SVC1.prefix);
      return { d, connection };
    };

    /**
     * svc1 fails while `breakIt` is in force: the reconfigure fails and is retried (0.25, 0.5, 1 s),
     * status says pending with an error, BIRD keeps the old set. After `fixIt`, BIRD's live set
     * (eval) and the status converge on the file without any further transition.
     */
    const scenario = async (label: string, breakIt: () => Promise<void>, fixIt: () => Promise<void>, birdAlive: boolean): Promise<void> => {
      const { d, connection } = await start();
      await breakIt();
      const from = d.lines.length;
      rmSync(healthFile(SVC1.name));
      await d.waitForLine(statusLine(SVC1.name, 'DOWN'), 5_000, from, '"status DOWN" for svc1');
      const failure = await d.waitForLine(reconfigureFailed, 5_000, from, 'a failed reconfigure');
      await d.waitForLine((l) => RETRY.exec(l.message ?? '')?.[1] === '3', 5_000, from, 'a third failed attempt (retried twice)');
      const delays = retryDelays(d.lines, from);
      expect(delays.slice(0, 3)).toEqual([0.25, 0.5, 1]);

      const view = await reconcilerStatus(connection);
      const v4 = birdOf(view, 4);
      expect(v4.pending).toBe(true);
      expect(v4.lastError).not.toBeNull();
      expect(sorted(v4.prefixes)).toEqual(sorted([DUMMY_IP4_PREFIX, SVC2.prefix]));
      expect(isSettled(birdOf(view, 6)), 'IPv6 had nothing to change and is not pending').toBe(true);
      if (birdAlive) expect(await bird.liveSet(IP4_VARIABLE), 'BIRD kept the old set').toContain(SVC1.prefix);

      const fixedFrom = d.lines.length;
      const fixedAt = performance.now();
      await fixIt();
      const converged = await waitForBird(connection, 4, isConverged, 'IPv4 converged (applied = file, no error)', CONVERGE_AFTER_FIX_MS);
      const ms = performance.now() - fixedAt;
      expect(sorted(converged.applied ?? [])).toEqual(sorted([DUMMY_IP4_PREFIX, SVC2.prefix]));
      expect(sorted(await bird.liveSet(IP4_VARIABLE)), "BIRD's live set").toEqual(sorted([DUMMY_IP4_PREFIX, SVC2.prefix]));
      expect(transitionsSince(d.lines, fixedFrom), 'no transition after the fix').toEqual([]);
      expect(ms).toBeLessThanOrEqual(CONVERGE_AFTER_FIX_MS);
      summary.push(
        `${label}: ${converged.reconfigureFailures} failed reconfigures (first: ${failure.message}); converged ${ms.toFixed(0)} ms after the fix`,
      );
    };

    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), `ahc-bd-${process.pid}-`));
      mkdirSync(join(root, 'bird'));
      bird = new LocalBird({
        dir: join(root, 'bird'),
        prefixFile4: join(root, 'bird', 'prefixes4.conf'),
        prefixFile6: join(root, 'bird', 'prefixes6.conf'),
      });
    });

    afterEach(async () => {
      status?.close();
      status = undefined;
      if (daemon !== undefined && !daemon.hasExited) await daemon.stop('SIGTERM').catch(() => daemon?.child.kill('SIGKILL'));
      daemon = undefined;
      writeFileSync(bird.conf, LocalBird.render(bird.input));
    });

    afterAll(async () => {
      if (summary.length > 0) console.log(`[bird-down]\n${summary.map((s) => `  ${s}`).join('\n')}`);
      await bird?.stop();
      if (root !== undefined) rmSync(root, { recursive: true, force: true });
    });

    it('retries `birdc configure` with backoff while BIRD is stopped and converges once BIRD runs again, without any further transition', async () => {
      await scenario(
        'BIRD stopped',
        () => bird.stop(),
        () => bird.start(),
        false,
      );
    }, 40_000);

    it('retries while BIRD refuses its configuration and applies the file once it parses again, BIRD running throughout', async () => {
      await scenario(
        'bird.conf broken',
        async () => {
          appendFileSync(bird.conf, 'this is not a BIRD statement;\n');
        },
        async () => {
          writeFileSync(bird.conf, LocalBird.render(bird.input));
        },
        true,
      );
    }, 40_000);
  },
);
