// End to end: check threads that die or hang are replaced by the watchdog without the network
// noticing. The real daemon (AHC_FAULT_INJECTION=1) runs in the node namespace with two healthy
// services; a fault is injected into svc1 through the status socket while the peer's routes and
// the BIRD file are polled every 20 ms until the replacement thread runs and has checked again.
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
  logLineWallTime,
  parseThreadExit,
  threadExitLine,
  writeDaemonConfig,
  writeServiceFiles,
  type ServiceSpec,
} from '../helpers/daemon-process.js';
import { exec } from '../helpers/exec.js';
import { pollUntil } from '../helpers/poll.js';
import { RouteWatch } from '../helpers/route-watch.js';
import { StatusConnection, serviceOf, type FaultKind, type StatusView } from '../helpers/status-client.js';
import { heartbeatWallTime, waitForReplacement, type StatusSample } from '../helpers/worker-restart.js';

const { bin, skipReason } = e2eDaemonSuite('the watchdog end-to-end tests');

const CHECK_INTERVAL_S = 0.5;
const CHECK_TIMEOUT_S = 0.4;
const CHECK_RISE = 2;
/** Bound for the "keeps dying" test: the daemon gives up on a thread after fewer crashes in a row. */
const MAX_CRASHES = 10;
const SERVICES = [
  { name: 'svc1', prefix: '10.52.14.1/32' },
  { name: 'svc2', prefix: '10.52.14.2/32' },
] as const;
const [SVC1, SVC2] = SERVICES;

interface FaultCase {
  readonly kind: FaultKind;
  /** What the daemon reports as the thread's end (status `lastExit`, the ERROR log line). */
  readonly reason: RegExp;
  /** Deadline for the replacement to be running, from the injection. */
  readonly restartWithinMs: number;
}

// busy-loop: no heartbeat for 3 s, seen by a watchdog that looks every 250 ms, after up to 1 s
// since the last beat. stall-loop: 2 × (interval + timeout) + 5 s = 6.8 s without a result.
const STALL_LIMIT_MS = 2 * (CHECK_INTERVAL_S + CHECK_TIMEOUT_S) * 1000 + 5000;
const FAULTS: readonly FaultCase[] = [
  { kind: 'throw', reason: /^threw Error: injected fault/, restartWithinMs: 3_000 },
  { kind: 'exit', reason: /^exited with code 3$/, restartWithinMs: 3_000 },
  { kind: 'terminate', reason: /^exited with code \d+$/, restartWithinMs: 3_000 },
  { kind: 'busy-loop', reason: /^was terminated by the watchdog: it sent no heartbeat for \d+ ms/, restartWithinMs: 3_000 + 1_000 + 3_000 },
  {
    kind: 'stall-loop',
    reason: /^was terminated by the watchdog: it check loop of svc1 made no progress/,
    restartWithinMs: STALL_LIMIT_MS + 4_000,
  },
];

/** Checks every status reply: both services up, advertised and listed; svc1's worker states in order. */
class StatusObserver {
  readonly violations: string[] = [];
  readonly #states: string[] = [];

  observe(view: StatusView): void {
    for (const { name } of SERVICES) {
      const s = serviceOf(view, name);
      if (s.state !== 'up' || !s.advertise || !s.inBirdFile) {
        this.violations.push(`${name}: state ${s.state}, advertise ${s.advertise}, inBirdFile ${s.inBirdFile}`);
      }
    }
    const w = serviceOf(view, SVC1.name).worker;
    const seen = `${w.state}(thread ${w.threadId}, ${w.restarts} restarts)`;
    if (this.#states.at(-1) !== seen) this.#states.push(seen);
  }

  states(): string {
    return this.#states.join(' -> ');
  }
}

/** Poll the status (observing every reply) until svc1 reports a check that finished after `wallMs`. */
async function waitForCheckAfter(connection: StatusConnection, observer: StatusObserver, wallMs: number): Promise<void> {
  await pollUntil(
    async () => {
      const v = await connection.status();
      observer.observe(v);
      const last = serviceOf(v, SVC1.name).lastCheck;
      return last !== null && Date.parse(last.at) > wallMs ? true : undefined;
    },
    {
      what: `a check of ${SVC1.name} finished after ${new Date(wallMs).toISOString()}`,
      timeoutMs: (CHECK_RISE + 3) * CHECK_INTERVAL_S * 1000 + 2_000,
      intervalMs: 20,
    },
  );
}

/** Log lines after `from` that show a decision (status change, queue) or a BIRD update. */
function decisionLines(d: DaemonProcess, from: number): string[] {
  return d.lines
    .slice(from)
    .filter((l) =>
      /changed to (UP|DOWN)|status DOWN because|in the queue|reconfiguring BIRD|Bird configuration for IPv\d is updated/.test(
        l.message ?? '',
      ),
    )
    .map((l) => l.raw);
}

// per-service and 2 threads: svc1 has a thread of its own. 1 thread: svc2's loop shares it and dies with it.
const MODES: ReadonlyArray<'per-service' | number> = ['per-service', 2, 1];

// BIRD 2 only: what is under test here is the daemon's thread supervision (a restart never
// changes a route), which does not depend on the BIRD version; the BIRD 3 variant doubled the
// suite's longest file (about 90 s) for nothing the other BGP suites do not already run on BIRD 3.
const WATCHDOG_FLAVOURS = BIRD_FLAVOURS.filter((f) => f.major === 2);

describe.skipIf(skipReason !== null).each(WATCHDOG_FLAVOURS)(
  `check thread watchdog against BIRD over BGP, $label${skipReason === null ? '' : ` (skipped: ${skipReason})`}`,
  (flavour) => {
    let dir: string;
    let bed: BirdPair;
    let daemon: DaemonProcess | undefined;
    let status: StatusConnection | undefined;
    let runs = 0;
    const summary: string[] = [];

    const healthFile = (service: string): string => join(dir, `${service}.healthy`);
    const spec = (name: string, ipPrefix: string): ServiceSpec => ({
      name,
      ipPrefix,
      checkCmd: `/usr/bin/test -e ${healthFile(name)}`,
      checkInterval: CHECK_INTERVAL_S,
      checkTimeout: CHECK_TIMEOUT_S,
      checkRise: CHECK_RISE,
      checkFail: 2,
    });

    /** Polls the peer's IPv4 routes and the BIRD file for both services every 20 ms until `stop()`. */
    const watchRoutes = (): RouteWatch =>
      RouteWatch.start({
        peerRoutes: () => bed.peerRoutes(4),
        prefixFile: bed.prefixFile4,
        prefixes: SERVICES.map((s) => s.prefix),
        intervalMs: 20,
      });

    /** Both services healthy and advertised, both workers running, the peer has both routes. */
    const startDaemon = async (mode: 'per-service' | number): Promise<{ d: DaemonProcess; status: StatusConnection; view: StatusView }> => {
      runs += 1;
      const statusSocket = join(dir, `status-${runs}.sock`);
      const files = writeDaemonConfig({
        dir,
        ...pairBird(bed),
        loglevel: 'info',
        extra: { worker_threads: String(mode), status_socket: statusSocket, instance_lock: `ahc-wd-${process.pid}` },
      });
      rmSync(files.servicesDir, { recursive: true, force: true });
      writeServiceFiles(
        files.servicesDir,
        SERVICES.map((s) => spec(s.name, s.prefix)),
      );
      const check = await exec([bin, '-c', '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true });
      expect(check.code, `anycast-healthchecker -c: ${check.stdout}${check.stderr}`).toBe(0);

      const d = new DaemonProcess(
        bed.execInNode([bin, '-f', files.confFile, '-d', files.servicesDir], {
          env: { ...process.env, AHC_FAULT_INJECTION: '1' },
        }),
      );
      daemon = d;
      const fail = (e: Error): never => {
        throw new Error(`${e.message}\n${d.tail()}`);
      };
      const connection = await StatusConnection.waitFor(statusSocket, 10_000).catch(fail);
      status = connection;
      const view = await pollUntil(
        async () => {
          const v = await connection.status();
          const ready = SERVICES.every(({ name }) => {
            const s = serviceOf(v, name);
            return s.state === 'up' && s.advertise && s.inBirdFile && s.worker.state === 'running';
          });
          return ready ? v : undefined;
        },
        { what: 'both services up, in the BIRD file, workers running', timeoutMs: 10_000 },
      ).catch(fail);
      for (const { prefix } of SERVICES) await bed.waitForPeerRoute(prefix, true, 10_000).catch(fail);
      return { d, status: connection, view };
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `ahc-wd-${process.pid}-`));
      bed = await createBirdPair({
        id: `wd${flavour.major}`,
        binaries: flavour,
        prefixFile4: join(dir, 'anycast-prefixes.conf'),
        prefixFile6: join(dir, '6', 'anycast-prefixes.conf'),
      });
      for (const { name, prefix } of SERVICES) {
        await bed.addAddress(prefix);
        writeFileSync(healthFile(name), '');
      }
    });

    afterEach(async () => {
      status?.close();
      status = undefined;
      if (daemon !== undefined && !daemon.hasExited) await daemon.stop('SIGTERM').catch(() => daemon?.child.kill('SIGKILL'));
      daemon = undefined;
    });

    afterAll(async () => {
      if (summary.length > 0)
        console.log(`[watchdog-bgp] injection -> replacement running (status polled every 20 ms):\n${summary.join('\n')}`);
      await bed?.destroy();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    describe.each(MODES)('worker_threads = %s', (mode) => {
      const shared = mode === 1;

      for (const fault of FAULTS) {
        it(`replaces a check thread killed by ${fault.kind} with the last decided state, and the peer never loses a route`, async () => {
          const { d, status: connection, view } = await startDaemon(mode);
          const before1 = serviceOf(view, SVC1.name);
          const before2 = serviceOf(view, SVC2.name);
          if (shared) expect(before2.worker.threadId, 'worker_threads = 1: both loops on one thread').toBe(before1.worker.threadId);
          else expect(before2.worker.threadId).not.toBe(before1.worker.threadId);

          const watch = watchRoutes();
          const observer = new StatusObserver();
          const logFrom = d.lines.length;
          let running: StatusSample;
          let diedAt: number;
          let injectedWall: number;
          let replied: number;
          try {
            injectedWall = Date.now();
            await connection.injectFault(SVC1.name, fault.kind);
            replied = performance.now();
            running = await waitForReplacement(connection, before1, {
              timeoutMs: fault.restartWithinMs,
              intervalMs: 20,
              onSample: (s) => observer.observe(s.view),
            });
            const exitLine = await d.waitForLine(
              threadExitLine(before1.worker.threadId ?? -1),
              2_000,
              logFrom,
              `the exit line of thread ${before1.worker.threadId}`,
            );
            diedAt = logLineWallTime(exitLine.raw) ?? Number.NaN;
            // Keep watching until the replacement has run check_rise + 1 checks: a thread restarted
            // from scratch instead of the last decided state would have announced itself by then.
            await waitForCheckAfter(connection, observer, diedAt + CHECK_RISE * CHECK_INTERVAL_S * 1000);
          } catch (error) {
            await watch.stop();
            throw new Error(`${(error as Error).message}\nworker states seen: ${observer.states()}\n${d.tail()}`);
          }
          const report = await watch.stop();

          const restartMs = running.at - replied;
          const deathToHeartbeat = heartbeatWallTime(running, SVC1.name) - diedAt;
          const line =
            `  worker_threads = ${String(mode).padEnd(11)} ${fault.kind.padEnd(10)} running again ${restartMs.toFixed(0).padStart(5)} ms after the injection` +
            ` (injection -> death ${diedAt - injectedWall} ms, death -> first heartbeat ${deathToHeartbeat} ms);` +
            ` routes polled ${report.polls}x over ${(report.durationMs / 1000).toFixed(1)} s, longest gap ${report.maxIntervalMs.toFixed(0)} ms`;
          console.log(`[watchdog-bgp]${line}`);
          summary.push(line);

          // The network never noticed.
          expect(report.errors, 'peer/prefix file polls that failed').toEqual([]);
          expect(report.missing, 'polls where a route was missing from the peer or the BIRD file').toEqual([]);
          expect(report.polls).toBeGreaterThan(report.durationMs / 200);
          expect(observer.violations, 'status replies with a service not up/advertised/listed').toEqual([]);

          // The status showed the restart, with the reason.
          const after = await connection.status();
          const after1 = serviceOf(after, SVC1.name);
          expect(after1.worker.state).toBe('running');
          expect(after1.worker.restarts, `worker states seen: ${observer.states()}`).toBe(before1.worker.restarts + 1);
          expect(after1.worker.lastExit).toMatch(fault.reason);
          const after2 = serviceOf(after, SVC2.name);
          if (shared) {
            expect(after2.worker.threadId).toBe(after1.worker.threadId);
            expect(after2.worker.restarts).toBe(before2.worker.restarts + 1);
          } else {
            expect(after2.worker.threadId).toBe(before2.worker.threadId);
            expect(after2.worker.restarts).toBe(before2.worker.restarts);
          }

          // One ERROR line for the dead thread, naming its services and the reason; no decisions.
          const exits = d.lines
            .slice(logFrom)
            .map(parseThreadExit)
            .filter((e) => e !== undefined);
          expect(exits).toHaveLength(1);
          expect(exits[0]?.services).toEqual(shared ? [SVC1.name, SVC2.name] : [SVC1.name]);
          expect(exits[0]?.reason).toMatch(fault.reason);
          expect(decisionLines(d, logFrom), 'log lines of a decision or a BIRD update after the fault').toEqual([]);
          expect(d.hasExited).toBe(false);
        }, 45_000);
      }

      it('keeps the routes of a thread that keeps dying: marks it failed, then recovered once a replacement runs', async () => {
        const { d, status: connection, view } = await startDaemon(mode);
        const watch = watchRoutes();
        const observer = new StatusObserver();
        const logFrom = d.lines.length;
        let before = serviceOf(view, SVC1.name);
        let crashes = 0;
        let failedAt: number;
        let recoveredMs: number;
        try {
          // Kill each replacement as soon as it beats, until the daemon gives up on the thread.
          while (before.worker.state !== 'failed') {
            if (crashes === MAX_CRASHES) throw new Error(`still not failed after ${MAX_CRASHES} crashes in a row`);
            await connection.injectFault(SVC1.name, 'exit');
            crashes += 1;
            const replaced = await waitForReplacement(connection, before, {
              timeoutMs: 10_000,
              intervalMs: 10,
              states: ['running', 'failed'],
              onSample: (s) => observer.observe(s.view),
            });
            before = serviceOf(replaced.view, SVC1.name);
          }
          failedAt = performance.now();
          await d.waitForLine(
            (l) =>
              l.service === SVC1.name &&
              /check worker keeps failing \(exited with code 3\); service marked failed, its route stays as last decided/.test(
                l.message ?? '',
              ),
            2_000,
            logFrom,
            `"check worker keeps failing" for ${SVC1.name}`,
          );
          // Left alone, the replacement runs and checks: the service is no longer failed.
          await pollUntil(
            async () => {
              const v = await connection.status();
              observer.observe(v);
              return SERVICES.every(({ name }) => serviceOf(v, name).worker.state === 'running') ? true : undefined;
            },
            { what: 'the failed worker to recover (running)', timeoutMs: 20_000, intervalMs: 20 },
          );
          recoveredMs = performance.now() - failedAt;
          await d.waitForLine(
            (l) => l.service === SVC1.name && (l.message ?? '').includes('check worker recovered'),
            2_000,
            logFrom,
            `"check worker recovered" for ${SVC1.name}`,
          );
        } catch (error) {
          await watch.stop();
          throw new Error(`${(error as Error).message}\nworker states seen: ${observer.states()}\n${d.tail()}`);
        }
        const report = await watch.stop();
        const line =
          `  worker_threads = ${String(mode).padEnd(11)} keeps dying: failed after ${crashes} crashes in a row, recovered ${(recoveredMs / 1000).toFixed(1)} s later;` +
          ` routes polled ${report.polls}x over ${(report.durationMs / 1000).toFixed(1)} s, longest gap ${report.maxIntervalMs.toFixed(0)} ms`;
        console.log(`[watchdog-bgp]${line}`);
        summary.push(line);

        expect(crashes).toBeGreaterThan(1);
        expect(observer.states()).toContain('failed');
        expect(report.errors, 'peer/prefix file polls that failed').toEqual([]);
        expect(report.missing, 'polls where a route was missing from the peer or the BIRD file').toEqual([]);
        expect(observer.violations, 'status replies with a service not up/advertised/listed').toEqual([]);
        const failedLines = d.lines.slice(logFrom).filter((l) => (l.message ?? '').startsWith('check worker keeps failing'));
        expect(failedLines.map((l) => l.service)).toEqual(shared ? [SVC1.name, SVC2.name] : [SVC1.name]);
        expect(decisionLines(d, logFrom), 'log lines of a decision or a BIRD update while the thread kept dying').toEqual([]);
      }, 60_000);
    });
  },
);
