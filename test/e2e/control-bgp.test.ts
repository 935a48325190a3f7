// End to end: drain, undrain, the drain file and reload through the control socket, with the
// real daemon in the node namespace driving the node's BIRD; the peer's routing table is the
// witness (docs/operations.md, "Control: drain, undrain, reload").
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBirdPair, type BirdPair } from '../helpers/bird-pair.js';
import { BIRD_FLAVOURS } from '../helpers/bird-flavours.js';
import {
  DaemonProcess,
  e2eDaemonSuite,
  pairBird,
  renderService,
  writeDaemonConfig,
  writeServiceFiles,
  type DaemonFiles,
  type ServiceSpec,
} from '../helpers/daemon-process.js';
import { exec, type ExecResult } from '../helpers/exec.js';
import { pollUntil } from '../helpers/poll.js';
import { RouteWatch } from '../helpers/route-watch.js';

const { bin, skipReason } = e2eDaemonSuite('the control end-to-end tests');

// BIRD 2 only: drains and reloads are the daemon's; what BIRD does with the file is covered on
// every version by the other BGP suites.
const FLAVOURS = BIRD_FLAVOURS.filter((f) => f.major === 2);

/** 20 services in all: svc01 … svc18 at start; the reload adds svc19 and svc20, removes 2 and changes 5, so 11 stay unchanged. */
const NAMES = Array.from({ length: 20 }, (_, i) => `svc${String(i + 1).padStart(2, '0')}`);
const prefixOf = (name: string): string => `10.52.15.${Number(name.slice(3))}/32`;
const INITIAL = NAMES.slice(0, 18);

describe.skipIf(skipReason !== null).each(FLAVOURS)(
  `drain, undrain and reload against BIRD over BGP, $label${skipReason === null ? '' : ` (skipped: ${skipReason})`}`,
  (flavour) => {
    let dir: string;
    let bed: BirdPair;
    let files: DaemonFiles;
    let daemon: DaemonProcess | undefined;
    let drainFile: string;

    const spec = (name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec => ({
      name,
      ipPrefix: prefixOf(name),
      checkCmd: '/bin/true',
      checkInterval: 0.5,
      checkRise: 1,
      checkFail: 1,
      ...extra,
    });
    const control = (...args: string[]): Promise<ExecResult> =>
      exec([bin, ...args, '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true, timeoutMs: 40_000 });
    const peer = (): Promise<Set<string>> => bed.peerRoutes(4);
    const waitPeer = async (want: (routes: Set<string>) => boolean, what: string, timeoutMs = 5_000): Promise<Set<string>> =>
      pollUntil(
        async () => {
          const r = await peer();
          return want(r) ? r : undefined;
        },
        { what, timeoutMs, describe: async () => `peer has ${[...(await peer())].sort().join(', ')}; daemon:\n${daemon?.tail() ?? ''}` },
      );
    const hasAll = (routes: Set<string>, names: readonly string[]): boolean => names.every((n) => routes.has(prefixOf(n)));
    const hasNone = (routes: Set<string>, names: readonly string[]): boolean => names.every((n) => !routes.has(prefixOf(n)));

    const startDaemon = async (names: readonly string[]): Promise<DaemonProcess> => {
      rmSync(files.servicesDir, { recursive: true, force: true });
      writeServiceFiles(
        files.servicesDir,
        names.map((n) => spec(n)),
      );
      const d = new DaemonProcess(bed.execInNode([bin, '-f', files.confFile, '-d', files.servicesDir]));
      daemon = d;
      await waitPeer((r) => hasAll(r, names), `all ${names.length} services at the peer`, 20_000);
      return d;
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `ahc-ctl-${process.pid}-`));
      drainFile = join(dir, 'run', 'drain');
      bed = await createBirdPair({
        id: `ctl${flavour.major}`,
        binaries: flavour,
        prefixFile4: join(dir, 'anycast-prefixes.conf'),
        prefixFile6: join(dir, '6', 'anycast-prefixes.conf'),
      });
      for (const n of NAMES) await bed.addAddress(prefixOf(n));
      files = writeDaemonConfig({
        dir,
        ...pairBird(bed),
        loglevel: 'info',
        extra: { worker_threads: '2', instance_lock: `ahc-ctl-${process.pid}`, drain_file: drainFile },
      });
    }, 60_000);

    afterEach(async () => {
      if (daemon !== undefined && !daemon.hasExited) await daemon.stop('SIGTERM').catch(() => daemon?.child.kill('SIGKILL'));
      daemon = undefined;
      rmSync(join(dir, 'run'), { recursive: true, force: true });
    });

    afterAll(async () => {
      for (const n of NAMES) await bed?.delAddress(prefixOf(n)).catch(() => undefined);
      await bed?.destroy();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('drain and undrain one service, then --all: the peer loses and regains exactly those routes', async () => {
      const three = INITIAL.slice(0, 3);
      await startDaemon(three);
      const watch = RouteWatch.start({ peerRoutes: peer, prefixFile: bed.prefixFile4, prefixes: [prefixOf('svc02'), prefixOf('svc03')] });
      const d = await control('drain', 'svc01', '--reason', 'e2e');
      expect(d.code, d.stderr).toBe(0);
      await waitPeer((r) => !r.has(prefixOf('svc01')), 'svc01 withdrawn at the peer');
      const report = await watch.stop();
      expect(report.missing, 'svc02 and svc03 never left while svc01 was drained').toEqual([]);
      // Stays withdrawn while its check keeps succeeding.
      await new Promise((r) => setTimeout(r, 1200));
      expect((await peer()).has(prefixOf('svc01'))).toBe(false);
      expect((await control('undrain', 'svc01')).code).toBe(0);
      await waitPeer((r) => hasAll(r, three), 'svc01 back at the peer');
      expect((await control('drain', '--all', '--reason', 'maintenance window')).code).toBe(0);
      await waitPeer((r) => hasNone(r, three), 'every route withdrawn');
      expect((await control('undrain', '--all')).code).toBe(0);
      await waitPeer((r) => hasAll(r, three), 'every route back');
    }, 60_000);

    it('the drain file: created, it withdraws what it names (or all when empty); removed, the routes come back', async () => {
      const three = INITIAL.slice(0, 3);
      // The directory exists from the start, as /run/anycast-healthchecker does under systemd.
      mkdirSync(join(dir, 'run'), { recursive: true });
      await startDaemon(three);
      writeFileSync(drainFile, 'svc02\n');
      await waitPeer((r) => !r.has(prefixOf('svc02')) && r.has(prefixOf('svc01')) && r.has(prefixOf('svc03')), 'svc02 withdrawn', 2_000);
      writeFileSync(drainFile, '');
      await waitPeer((r) => hasNone(r, three), 'all withdrawn by the empty drain file', 2_000);
      rmSync(drainFile);
      await waitPeer((r) => hasAll(r, three), 'all back after the drain file was removed', 2_000);
    }, 60_000);

    it('reload of 20 services (5 changed, 2 added, 2 removed): the 11 unchanged (and the 5 changed) never leave the peer; an invalid reload changes nothing and exits 1', async () => {
      await startDaemon(INITIAL);
      const changed = INITIAL.slice(0, 5);
      const removed = INITIAL.slice(5, 7);
      const added = NAMES.slice(18, 20);
      const unchanged = INITIAL.slice(7);
      expect(unchanged).toHaveLength(11);
      // The changed ones keep their decided state across the restart of their checks, so they never leave either.
      const watch = RouteWatch.start({
        peerRoutes: peer,
        prefixFile: bed.prefixFile4,
        prefixes: [...unchanged, ...changed].map(prefixOf),
        intervalMs: 20,
      });
      for (const n of changed) writeFileSync(join(files.servicesDir, `${n}.conf`), renderService(spec(n, { checkInterval: 0.4 })));
      for (const n of removed) rmSync(join(files.servicesDir, `${n}.conf`));
      for (const n of added) writeFileSync(join(files.servicesDir, `${n}.conf`), renderService(spec(n)));
      const r = await control('reload');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(
        `configuration reloaded: 2 added (${added.join(', ')}), 2 removed (${removed.join(', ')}), 5 changed (${changed.join(', ')}), 11 unchanged\n`,
      );
      await waitPeer(
        (routes) => hasAll(routes, [...added, ...changed, ...unchanged]) && hasNone(routes, removed),
        'the reloaded set at the peer',
      );
      // Watched on while the changed checks run again on their new schedule (observation, not synchronisation).
      await new Promise((res) => setTimeout(res, 1500));
      const report = await watch.stop();
      console.log(`[control-bgp] reload: ${report.polls} polls, longest gap between polls ${report.maxIntervalMs.toFixed(0)} ms`);
      expect(report.errors).toEqual([]);
      expect(report.missing, 'an unchanged or changed service left the peer or the file').toEqual([]);
      expect(report.polls).toBeGreaterThan(10);

      const before = [...(await peer())].sort();
      const invalidWatch = RouteWatch.start({
        peerRoutes: peer,
        prefixFile: bed.prefixFile4,
        prefixes: before.filter((p) => p.startsWith('10.52.15.')),
      });
      writeFileSync(join(files.servicesDir, 'broken.conf'), '[broken]\nip_prefix = 10.52.15.200/32\n');
      writeFileSync(join(files.servicesDir, 'svc01.conf'), renderService(spec('svc01', { checkInterval: 0 })));
      const bad = await control('reload');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(
        /^anycast-healthchecker reload: AHC_CONTROL_RELOAD_INVALID: the new configuration is invalid; the running configuration is kept\n/,
      );
      expect(bad.stderr).toMatch(/broken\.conf.*check_cmd is required but missing/);
      expect(bad.stderr).toMatch(/svc01\.conf.*check_interval/);
      await new Promise((res) => setTimeout(res, 1000));
      const after = await invalidWatch.stop();
      expect(after.missing).toEqual([]);
      expect([...(await peer())].sort()).toEqual(before);
    }, 90_000);
  },
);
