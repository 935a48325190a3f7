// The main thread's address watch against the real `ip` and real interfaces in a network
// namespace of its own (docs/design.md, "Address checks: one kernel subscription"). The watch
// runs here, in the test's process; its `ip` is a wrapper that enters the namespace
// (`ip netns exec NS ip "$@"`, an exec: the pid the watch sees is the monitor's). What applies to
// the monitor runs twice: with the daemon's own, `ahc-spawn --watch-addresses` (the built one,
// entered into the namespace the same way), and with `ip -o monitor address`.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressWatch } from '../../packages/supervisor/src/address-watch';
import type { AddressWatchOptions } from '../../packages/supervisor/src/address-watch';
import { APP_DIR, ensureBuilt } from '../../apps/anycast-healthchecker/test/harness';
import { IpAssignments } from '../../packages/supervisor/src/ip-assignments';
import { execSync } from '../helpers/exec';
import { pollUntil } from '../helpers/poll';

const ns = `ahc-aw-${process.pid}`;
const dev = `vaw${process.pid.toString(36)}`.slice(0, 15);
const peer = `${dev}p`.slice(0, 15);

function why(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root for a network namespace';
  if (execSync(['ip', '-V']).code !== 0) return 'needs iproute2';
  return null;
}
const skip = why();

function ip(...args: string[]): void {
  const r = execSync(['ip', '-n', ns, ...args]);
  if (r.code !== 0) throw new Error(`ip -n ${ns} ${args.join(' ')}: ${r.stderr}`);
}

let dir = '';
let wrapper = '';

interface Bed {
  readonly watch: AddressWatch;
  readonly ip: IpAssignments;
  /** Every change of a service's answer, in order. */
  readonly changes: Array<{ service: string; assigned: boolean | null }>;
  readonly warnings: string[];
  readonly infos: string[];
}

const beds: Bed[] = [];

type Monitor = 'ahc-spawn' | 'ip';

/** The watch's monitor option for `kind`, entered into the test's namespace; `env` for the helper (`NAME=VALUE`). */
function monitorOf(kind: Monitor, env: readonly string[] = []): AddressWatchOptions['monitor'] {
  if (kind === 'ip') return undefined;
  const helper = join(APP_DIR, 'dist', 'ahc-spawn');
  const argv = ['ip', 'netns', 'exec', ns, helper, '--watch-addresses'] as const;
  return { argv: env.length === 0 ? [...argv] : ['env', ...env, ...argv], name: 'ahc-spawn --watch-addresses' };
}

function bed(
  services: Array<[name: string, iface: string, address: string, length: number, family: 4 | 6]>,
  ipPath = wrapper,
  monitor: Monitor = 'ip',
  monitorEnv: readonly string[] = [],
): Bed {
  const changes: Bed['changes'] = [];
  const warnings: string[] = [];
  const infos: string[] = [];
  let assignments: IpAssignments | null = null;
  const told = (names: readonly string[]): void => {
    for (const service of names) changes.push({ service, assigned: assignments?.get(service) ?? null });
  };
  const events = monitorOf(monitor, monitorEnv);
  const watch = new AddressWatch({
    ipPath,
    ...(events === undefined ? {} : { monitor: events }),
    log: { debug: () => undefined, info: (m) => infos.push(m), warning: (m) => warnings.push(m) },
    onKnown: () => told(assignments?.markKnown() ?? []),
    onChange: (diff) => told(assignments?.apply(diff) ?? []),
    restartBackoff: { baseMs: 300, capMs: 1000 },
    subscribeWaitMs: 100,
  });
  assignments = new IpAssignments(watch.table);
  for (const [name, iface, address, prefixLength, family] of services)
    assignments.track(name, iface, [{ prefix: `${address}/${prefixLength}`, address, prefixLength, family }]);
  const b = { watch, ip: assignments, changes, warnings, infos };
  beds.push(b);
  return b;
}

const answer = (b: Bed, service: string, want: boolean | null, what: string, timeoutMs = 2000): Promise<true> =>
  pollUntil(() => Promise.resolve(b.ip.get(service) === want ? true : undefined), {
    what,
    timeoutMs,
    intervalMs: 2,
    describe: () => `${service}: ${String(b.ip.get(service))}, source ${b.watch.source}`,
  });

describe.skipIf(skip !== null)(`address watch on real interfaces${skip === null ? '' : ` (skipped: ${skip})`}`, () => {
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'ahc-aw-'));
    wrapper = join(dir, 'ip');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ip "$@"\n`);
    chmodSync(wrapper, 0o755);
    execSync(['ip', 'netns', 'del', ns]);
    const add = execSync(['ip', 'netns', 'add', ns]);
    if (add.code !== 0) throw new Error(add.stderr);
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', dev, 'type', 'veth', 'peer', 'name', peer);
    ip('link', 'set', dev, 'up');
    ip('link', 'set', peer, 'up');
  });

  afterAll(() => {
    for (const b of beds.splice(0)) b.watch.stop();
    execSync(['ip', 'netns', 'del', ns]);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  describe.each(['ahc-spawn', 'ip'] as const)('with %s as the monitor', (monitor) => {
    it('follows an address added and removed, from the first dump on', async () => {
      ip('addr', 'add', '10.77.0.1/32', 'dev', dev);
      const b = bed(
        [
          ['present', dev, '10.77.0.1', 32, 4],
          ['later', dev, '10.77.0.2', 32, 4],
          ['v6', dev, '2001:db8:77::1', 128, 6],
        ],
        wrapper,
        monitor,
      );
      await b.watch.start();
      expect(b.watch.source).toBe('events');
      expect(b.watch.snapshot().monitorPid).toBeGreaterThan(0);
      expect(b.watch.snapshot().monitor).toBe(monitor === 'ip' ? 'ip -o monitor address' : 'ahc-spawn --watch-addresses');
      expect(b.ip.get('present')).toBe(true);
      expect(b.ip.get('later')).toBe(false);
      ip('addr', 'add', '10.77.0.2/32', 'dev', dev);
      ip('addr', 'add', '2001:db8:77::1/128', 'dev', dev, 'nodad');
      await answer(b, 'later', true, 'the added address');
      await answer(b, 'v6', true, 'the added IPv6 address');
      const removed = performance.now();
      ip('addr', 'del', '10.77.0.1/32', 'dev', dev);
      await answer(b, 'present', false, 'the removed address');
      expect(performance.now() - removed).toBeLessThan(500);
      ip('addr', 'del', '10.77.0.2/32', 'dev', dev);
      ip('addr', 'del', '2001:db8:77::1/128', 'dev', dev);
      await answer(b, 'later', false, 'the second removal');
      await answer(b, 'v6', false, 'the IPv6 removal');
      expect(b.changes.filter((c) => c.service === 'present').map((c) => c.assigned)).toEqual([true, false]);
      b.watch.stop();
    });

    it('counts an address on a DOWN interface as assigned, and sees it removed there', async () => {
      ip('addr', 'add', '10.77.1.1/32', 'dev', dev);
      ip('link', 'set', dev, 'down');
      try {
        const b = bed([['down-if', dev, '10.77.1.1', 32, 4]], wrapper, monitor);
        await b.watch.start();
        expect(b.ip.get('down-if')).toBe(true);
        ip('addr', 'del', '10.77.1.1/32', 'dev', dev);
        await answer(b, 'down-if', false, 'the removal on the down interface');
        ip('addr', 'add', '10.77.1.1/32', 'dev', dev);
        await answer(b, 'down-if', true, 'an address added to the down interface');
        b.watch.stop();
      } finally {
        ip('link', 'set', dev, 'up');
        execSync(['ip', '-n', ns, 'addr', 'del', '10.77.1.1/32', 'dev', dev]);
      }
    });

    it('matches labels: the label itself, and an alias label as its device', async () => {
      const b = bed(
        [
          ['by-label', 'lo:7', '10.77.2.1', 32, 4],
          ['by-device', 'lo', '10.77.2.1', 32, 4],
          ['other-label', 'lo:8', '10.77.2.1', 32, 4],
        ],
        wrapper,
        monitor,
      );
      await b.watch.start();
      ip('addr', 'add', '10.77.2.1/32', 'dev', 'lo', 'label', 'lo:7');
      await answer(b, 'by-label', true, 'the lo:7 address for lo:7');
      await answer(b, 'by-device', true, 'the lo:7 address for lo');
      expect(b.ip.get('other-label')).toBe(false);
      ip('addr', 'del', '10.77.2.1/32', 'dev', 'lo', 'label', 'lo:7');
      await answer(b, 'by-label', false, 'the lo:7 address gone');
      await answer(b, 'by-device', false, 'the lo:7 address gone for lo');
      b.watch.stop();
    });

    it('a SIGKILLed monitor: a warning, polling, no spurious change, then events again', async () => {
      ip('addr', 'add', '10.77.3.1/32', 'dev', dev);
      const b = bed(
        [
          ['stays', dev, '10.77.3.1', 32, 4],
          ['while-polling', dev, '10.77.3.2', 32, 4],
        ],
        wrapper,
        monitor,
      );
      await b.watch.start();
      const first = b.watch.snapshot().monitorPid;
      expect(first).not.toBeNull();
      const before = b.changes.length;
      process.kill(first ?? 0, 'SIGKILL');
      await pollUntil(() => Promise.resolve(b.watch.source === 'polling' ? true : undefined), {
        what: 'polling',
        timeoutMs: 2000,
        intervalMs: 2,
      });
      expect(b.warnings.filter((w) => w.includes('was killed by SIGKILL') && w.includes('polling'))).toHaveLength(1);
      // A change while polling is seen by the next dump (every second).
      ip('addr', 'add', '10.77.3.2/32', 'dev', dev);
      await answer(b, 'while-polling', true, 'the address added while polling', 3000);
      await pollUntil(() => Promise.resolve(b.watch.source === 'events' ? true : undefined), {
        what: 'the monitor back',
        timeoutMs: 5000,
        intervalMs: 5,
      });
      const second = b.watch.snapshot();
      expect(second.monitorPid).not.toBe(first);
      expect(second.restarts).toBeGreaterThanOrEqual(1);
      expect(b.infos.some((m) => m.includes('events are back'))).toBe(true);
      // The only change through it all is the real one.
      expect(b.changes.slice(before)).toEqual([{ service: 'while-polling', assigned: true }]);
      expect(b.ip.get('stays')).toBe(true);
      // And the new monitor delivers events.
      ip('addr', 'del', '10.77.3.2/32', 'dev', dev);
      await answer(b, 'while-polling', false, 'a removal after the restart', 500);
      ip('addr', 'del', '10.77.3.1/32', 'dev', dev);
      await answer(b, 'stays', false, 'a removal after the restart');
      b.watch.stop();
    });
  });

  it('ahc-spawn --watch-addresses that lost events says so and exits: polling, a dump, then events again', async () => {
    // A tiny receive buffer and a stopped monitor: the kernel drops the events that do not fit,
    // and the monitor's next read fails with ENOBUFS. Without that exit the table would miss
    // most of these addresses for good.
    const burst = Array.from({ length: 150 }, (_, k) => `10.77.9.${k + 1}`);
    const b = bed(
      burst.map((address, k) => [`burst-${k + 1}`, dev, address, 32, 4] as [string, string, string, number, 4]),
      wrapper,
      'ahc-spawn',
      ['AHC_WATCH_RCVBUF=2048'],
    );
    await b.watch.start();
    const pid = b.watch.snapshot().monitorPid ?? 0;
    expect(pid).toBeGreaterThan(0);
    const batch = (verb: string, addresses: readonly string[]): void => {
      const file = join(dir, `batch-${verb}`);
      writeFileSync(file, addresses.map((a) => `addr ${verb} ${a}/32 dev ${dev}\n`).join(''));
      const r = execSync(['ip', '-n', ns, '-batch', file]);
      if (r.code !== 0) throw new Error(`ip -batch: ${r.stderr}`);
    };
    process.kill(pid, 'SIGSTOP');
    try {
      batch('add', burst);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await pollUntil(() => Promise.resolve(b.warnings.some((w) => w.includes('dropped address events')) ? true : undefined), {
      what: 'the monitor reporting the lost events',
      timeoutMs: 3000,
      intervalMs: 5,
      describe: () => b.warnings.join(' | '),
    });
    expect(b.warnings.find((w) => w.includes('dropped address events'))).toMatch(/exited with code 3/);
    // The dump that follows has them all.
    await pollUntil(() => Promise.resolve(burst.every((_, k) => b.ip.get(`burst-${k + 1}`) === true) ? true : undefined), {
      what: 'every burst address known',
      timeoutMs: 3000,
      intervalMs: 5,
      describe: () => `${burst.filter((_, k) => b.ip.get(`burst-${k + 1}`) !== true).length} still unknown, source ${b.watch.source}`,
    });
    await pollUntil(() => Promise.resolve(b.watch.source === 'events' ? true : undefined), {
      what: 'events again',
      timeoutMs: 5000,
      intervalMs: 10,
    });
    ip('addr', 'del', '10.77.9.1/32', 'dev', dev);
    await answer(b, 'burst-1', false, 'a removal after the restart', 500);
    b.watch.stop();
    batch('del', burst.slice(1));
  });

  it('a monitor that prints garbage is not trusted: polling, and the answers stay', async () => {
    const liar = join(dir, 'ip-liar');
    writeFileSync(
      liar,
      `#!/bin/sh\nif [ "$2" = monitor ]; then echo 'this is not an address line'; exec sleep 30; fi\nexec ip netns exec ${ns} ip "$@"\n`,
    );
    chmodSync(liar, 0o755);
    ip('addr', 'add', '10.77.4.1/32', 'dev', dev);
    const b = bed([['kept', dev, '10.77.4.1', 32, 4]], liar);
    await b.watch.start();
    await pollUntil(() => Promise.resolve(b.watch.source === 'polling' ? true : undefined), {
      what: 'polling',
      timeoutMs: 2000,
      intervalMs: 2,
    });
    expect(b.warnings.some((w) => w.includes('not an address'))).toBe(true);
    // The polling's first dump comes at once.
    await answer(b, 'kept', true, 'the address from the first poll', 500);
    expect(b.changes).toEqual([{ service: 'kept', assigned: true }]);
    ip('addr', 'del', '10.77.4.1/32', 'dev', dev);
    await answer(b, 'kept', false, 'the removal seen by polling', 3000);
    b.watch.stop();
  });

  it('dumps that fail while polling change nothing; the watch recovers when ip works again', async () => {
    const broken = join(dir, 'broken');
    const flaky = join(dir, 'ip-flaky');
    writeFileSync(
      flaky,
      `#!/bin/sh\nif [ -e ${broken} ]; then echo 'ip: cannot talk to the kernel' >&2; exit 2; fi\nexec ip netns exec ${ns} ip "$@"\n`,
    );
    chmodSync(flaky, 0o755);
    ip('addr', 'add', '10.77.6.1/32', 'dev', dev);
    const b = bed([['kept', dev, '10.77.6.1', 32, 4]], flaky);
    await b.watch.start();
    expect(b.ip.get('kept')).toBe(true);
    writeFileSync(broken, '');
    process.kill(b.watch.snapshot().monitorPid ?? 0, 'SIGKILL');
    await pollUntil(() => Promise.resolve(b.warnings.some((w) => w.includes('address show` failed')) ? true : undefined), {
      what: 'the failed dump warned',
      timeoutMs: 3000,
      intervalMs: 5,
    });
    // Several failed dumps and restarts later, still one warning of each kind and no change.
    await pollUntil(() => Promise.resolve(b.watch.snapshot().restarts >= 2 ? true : undefined), {
      what: 'two failed restarts',
      timeoutMs: 5000,
      intervalMs: 10,
    });
    expect(b.watch.source).toBe('polling');
    expect(b.ip.get('kept')).toBe(true);
    expect(b.changes).toEqual([{ service: 'kept', assigned: true }]);
    expect(b.warnings.filter((w) => w.includes('address show` failed'))).toHaveLength(1);
    expect(b.warnings.filter((w) => w.includes('was killed by SIGKILL'))).toHaveLength(1);
    rmSync(broken);
    await pollUntil(() => Promise.resolve(b.watch.source === 'events' ? true : undefined), {
      what: 'events again',
      timeoutMs: 5000,
      intervalMs: 10,
    });
    ip('addr', 'del', '10.77.6.1/32', 'dev', dev);
    await answer(b, 'kept', false, 'the removal after the recovery', 500);
    b.watch.stop();
  });

  it('no ip at all: per-check, the answer stays null', async () => {
    const b = bed([['any', dev, '10.77.5.1', 32, 4]], join(dir, 'no-such-ip'));
    await b.watch.start();
    expect(b.watch.source).toBe('per-check');
    expect(b.ip.get('any')).toBeNull();
    expect(b.warnings).toHaveLength(1);
    expect(b.warnings[0]).toMatch(/getifaddrs/);
    expect(b.changes).toEqual([]);
  });
});
