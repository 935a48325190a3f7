// The built daemon with services whose ip_prefix lists several prefixes, IPv4 and IPv6 mixed
// (docs/configuration.md, "Several prefixes per service"): a recording stand-in per family's reconfigure
// command, the real files, the address watch on the host's lo, the status socket and the
// Prometheus textfile. And `-c` refusing bad lists with a message that names the item.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonBin, daemonSkipReason, type DaemonProcess } from '../helpers/daemon-process.js';
import { exec } from '../helpers/exec.js';
import { spawnLocalDaemon, writeLocalDaemonConfig, writeLocalServices, type LocalDaemonFiles } from '../helpers/local-daemon.js';
import { pollUntil } from '../helpers/poll.js';
import { parsePrefixFile } from '../helpers/prefix-file.js';
import { parsePromText } from '../helpers/prom-text.js';
import { StatusConnection } from '../helpers/status-client.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = daemonBin(repoRoot);
const skipReason = daemonSkipReason(repoRoot);
if (skipReason !== null) console.warn(`skipping the several-prefixes integration tests: ${skipReason}`);

const MULTI = ['10.52.16.1/32', '10.52.16.2/32', '2001:db8:16::1/128'];
const LONE = '10.52.16.9/32';
/** Both on the host's lo: a service with the IP check on is UP only while both are there. */
const ON_LO = ['127.0.0.1/32', '::1/128'];
/** 127.0.0.0/8 holds lo's 127.0.0.1; 10.52.16.77 is on no interface. */
const HALF = ['127.0.0.0/8', '10.52.16.77/32'];

interface ServiceStatus {
  readonly name: string;
  readonly prefix: string;
  readonly family: number;
  readonly prefixes?: readonly { prefix: string; family: number; inBirdFile: boolean }[];
  readonly state: string;
  readonly inBirdFile: boolean;
}

function recorder(dir: string, name: string): { command: string; runs: () => number } {
  const log = join(dir, `${name}.runs`);
  const script = join(dir, `${name}.sh`);
  writeFileSync(script, `#!/bin/sh\necho run >> ${log}\necho Reconfigured\n`);
  chmodSync(script, 0o755);
  return {
    command: script,
    runs: () => {
      try {
        return readFileSync(log, 'utf8').trim().split('\n').length;
      } catch {
        return 0;
      }
    },
  };
}

describe.skipIf(skipReason !== null)(
  `several prefixes per service in the built daemon${skipReason === null ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let dir: string;
    let files: LocalDaemonFiles;
    let daemon: DaemonProcess | undefined;
    let status: StatusConnection | undefined;
    let prefixFile4: string;
    let prefixFile6: string;
    let rec4: ReturnType<typeof recorder>;
    let rec6: ReturnType<typeof recorder>;
    const health = (name: string): string => join(dir, `${name}.healthy`);
    const inFile = (path: string): string[] => {
      try {
        return [...parsePrefixFile(readFileSync(path, 'utf8'))];
      } catch {
        return [];
      }
    };
    const services = async (): Promise<Map<string, ServiceStatus>> => {
      const view = (await (status as StatusConnection).status()) as unknown as { services: ServiceStatus[] };
      return new Map(view.services.map((s) => [s.name, s]));
    };
    const settled = async (what: string): Promise<void> => {
      await pollUntil(
        async () => {
          const view = (await (status as StatusConnection).status()) as unknown as { daemon: { bird: { pending: boolean }[] } };
          return view.daemon.bird.every((b) => !b.pending) ? true : undefined;
        },
        { what, timeoutMs: 10_000, describe: () => daemon?.tail() ?? '' },
      );
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), `ahc-mp-${process.pid}-`));
      prefixFile4 = join(dir, 'bird', 'anycast-prefixes.conf');
      prefixFile6 = join(dir, 'bird6', 'anycast-prefixes.conf');
      mkdirSync(join(dir, 'bird'));
      mkdirSync(join(dir, 'bird6'));
      mkdirSync(join(dir, 'prom'));
      rec4 = recorder(dir, 'birdc4');
      rec6 = recorder(dir, 'birdc6');
      files = writeLocalDaemonConfig({
        dir,
        prefixFile4,
        prefixFile6,
        reconfigure4: rec4.command,
        reconfigure6: rec6.command,
        instanceLock: `ahc-mp-${process.pid}`,
        loglevel: 'info',
        extra: { prometheus_exporter: 'true', prometheus_collector_textfile_dir: join(dir, 'prom'), prometheus_exporter_interval: '0.2' },
      });
      const check = (name: string, ipPrefix: string, ipCheckDisabled: boolean) => ({
        name,
        ipPrefix,
        checkCmd: `/usr/bin/test -e ${health(name)}`,
        checkInterval: 0.2,
        checkTimeout: 0.15,
        checkRise: 1,
        checkFail: 1,
        ipCheckDisabled,
      });
      writeLocalServices(files.servicesDir, [
        check('multi', `${MULTI[0]}, ${MULTI[1]} ${MULTI[2]}`, true),
        check('lone', LONE, true),
        check('onlo', ON_LO.join(', '), false),
        check('half', HALF.join(' '), false),
      ]);
      for (const name of ['multi', 'lone', 'onlo', 'half']) writeFileSync(health(name), '');
      const c = await exec([bin, '-c', '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true });
      expect(c.code, `-c: ${c.stdout}${c.stderr}`).toBe(0);
      daemon = spawnLocalDaemon(bin, files).daemon;
      status = await StatusConnection.waitFor(files.statusSocket, 10_000);
    }, 30_000);

    afterAll(async () => {
      await status?.close?.();
      if (daemon !== undefined && !daemon.hasExited) await daemon.stop('SIGTERM').catch(() => daemon?.child.kill('SIGKILL'));
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('advertises all the prefixes of a healthy service, each in its family file; status shows them all', async () => {
      await pollUntil(
        async () => {
          const s = await services();
          return s.get('multi')?.inBirdFile === true && s.get('onlo')?.state === 'up' && s.get('half')?.state === 'down' ? true : undefined;
        },
        { what: 'multi advertised, onlo up, half down', timeoutMs: 10_000, describe: () => daemon?.tail() ?? '' },
      );
      await settled('both files applied');
      expect(inFile(prefixFile4)).toEqual(expect.arrayContaining([MULTI[0], MULTI[1], LONE, ON_LO[0]]));
      expect(inFile(prefixFile6)).toEqual(expect.arrayContaining([MULTI[2], ON_LO[1]]));
      for (const p of HALF) expect([...inFile(prefixFile4), ...inFile(prefixFile6)]).not.toContain(p);
      const s = await services();
      expect(s.get('multi')).toMatchObject({
        prefix: MULTI.join(', '),
        family: 4,
        prefixes: [
          { prefix: MULTI[0], family: 4, inBirdFile: true },
          { prefix: MULTI[1], family: 4, inBirdFile: true },
          { prefix: MULTI[2], family: 6, inBirdFile: true },
        ],
      });
      // A lone prefix: the reply as before, no `prefixes`.
      expect(s.get('lone')?.prefix).toBe(LONE);
      expect(s.get('lone')).not.toHaveProperty('prefixes');
      const text = await exec([bin, 'status', '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true });
      expect(text.stdout).toContain(MULTI.join(', '));
    });

    it('a service with one prefix missing from lo is DOWN, and the log names that prefix only', async () => {
      const d = daemon as DaemonProcess;
      await d.waitForLine((l) => l.service === 'half' && l.message === "10.52.16.77/32 isn't assigned to lo interface", 5_000);
      await d.waitForLine(
        (l) => l.service === 'half' && l.message === "status DOWN because 10.52.16.77/32 isn't assigned to lo interface.",
        5_000,
      );
      expect(d.lines.filter((l) => l.service === 'half' && (l.message ?? '').startsWith('127.0.0.0/8 isn'))).toEqual([]);
      expect(d.lines.filter((l) => l.service === 'onlo' && (l.message ?? '').includes("isn't assigned"))).toEqual([]);
    });

    it('exports one series per (service, prefix); a lone prefix has its one sample as before', async () => {
      const prom = join(dir, 'prom', 'anycast_healthchecker.prom');
      const parsed = await pollUntil(
        () => {
          try {
            const t = parsePromText(readFileSync(prom, 'utf8'));
            const multi = t.samples.filter((x) => x.name === 'anycast_healthchecker_service_state' && x.labels.service_name === 'multi');
            return Promise.resolve(multi.length === 3 ? t : undefined);
          } catch {
            return Promise.resolve(undefined);
          }
        },
        { what: 'service_state samples of multi in the textfile', timeoutMs: 10_000 },
      );
      for (const name of [
        'anycast_healthchecker_service',
        'anycast_healthchecker_service_state',
        'anycast_healthchecker_service_check_duration_milliseconds',
      ]) {
        const of = (service: string) => parsed.samples.filter((x) => x.name === name && x.labels.service_name === service);
        expect(
          of('multi').map((x) => x.labels.ip_prefix),
          name,
        ).toEqual(MULTI);
        expect(
          of('lone').map((x) => [x.labels.ip_prefix, Object.keys(x.labels).sort()]),
          name,
        ).toEqual([[LONE, ['ip_prefix', 'service_name']]]);
      }
      const assignment = parsed.samples.filter((x) => x.name === 'anycast_healthchecker_service_check_ip_assignment');
      expect(assignment.filter((x) => x.labels.service_name === 'half').map((x) => [x.labels.ip_prefix, x.value])).toEqual([
        [HALF[0], 0],
        [HALF[1], 0],
      ]);
      expect(assignment.filter((x) => x.labels.service_name === 'onlo').map((x) => x.value)).toEqual([1, 1]);
    });

    it('withdraws all of them together: each family written once and reconfigured once', async () => {
      const d = daemon as DaemonProcess;
      await settled('nothing pending before the withdrawal');
      const before = { runs4: rec4.runs(), runs6: rec6.runs(), from: d.lines.length };
      rmSync(health('multi'));
      await pollUntil(
        () => Promise.resolve(MULTI.every((p) => !inFile(prefixFile4).includes(p) && !inFile(prefixFile6).includes(p)) ? true : undefined),
        { what: 'all three out of the files', timeoutMs: 10_000, describe: () => d.tail() },
      );
      await settled('the withdrawal applied');
      const since = d.lines.slice(before.from);
      expect(since.filter((l) => l.service === 'multi' && l.message === 'changed to DOWN')).toHaveLength(1);
      expect(since.filter((l) => l.service === 'multi' && (l.message ?? '').endsWith('in the queue')).map((l) => l.message)).toEqual(
        MULTI.map((p) => `adding ${p} in the queue`),
      );
      expect(
        since
          .filter((l) => (l.message ?? '').startsWith('withdrawing '))
          .map((l) => l.message)
          .sort(),
      ).toEqual(MULTI.map((p) => `withdrawing ${p} for multi`).sort());
      expect(
        since
          .filter((l) => /^Bird configuration for IPv[46] is updated$/.test(l.message ?? ''))
          .map((l) => l.message)
          .sort(),
      ).toEqual(['Bird configuration for IPv4 is updated', 'Bird configuration for IPv6 is updated']);
      expect([rec4.runs() - before.runs4, rec6.runs() - before.runs6]).toEqual([1, 1]);
      expect(inFile(prefixFile4)).toContain(LONE);
      writeFileSync(health('multi'), '');
      await pollUntil(
        () => Promise.resolve(MULTI.every((p) => [...inFile(prefixFile4), ...inFile(prefixFile6)].includes(p)) ? true : undefined),
        { what: 'all three back', timeoutMs: 10_000, describe: () => d.tail() },
      );
    });
  },
);

describe.skipIf(skipReason !== null)('-c refuses a bad list, naming the item', () => {
  const root = mkdtempSync(join(tmpdir(), `ahc-mp-c-${process.pid}-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const refuse = async (name: string, ipPrefix: string, ipv6 = 'true'): Promise<string> => {
    const dir = join(root, name);
    mkdirSync(join(dir, 'bird'), { recursive: true });
    const files = writeLocalDaemonConfig({
      dir,
      prefixFile4: join(dir, 'bird', 'a.conf'),
      prefixFile6: join(dir, 'bird', 'b.conf'),
      reconfigure4: '/bin/true',
      instanceLock: `ahc-mp-c-${process.pid}`,
      extra: { ipv6 },
    });
    // writeLocalDaemonConfig sets ipv6 = true; a later line of the same section would be a duplicate option.
    writeFileSync(
      files.confFile,
      readFileSync(files.confFile, 'utf8').replace('ipv6 = true\n', '').replace(`ipv6 = ${ipv6}\n`, '') + `ipv6 = ${ipv6}\n`,
    );
    writeLocalServices(files.servicesDir, [{ name: 'web', ipPrefix, checkCmd: '/bin/true', ipCheckDisabled: true }]);
    const r = await exec([bin, '-c', '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true });
    expect(r.code, r.stdout).toBe(1);
    return r.stderr.trim();
  };

  it('an empty item, a repeated prefix, an invalid item, a family that is off', async () => {
    expect(await refuse('empty', '10.52.16.1/32,, 10.52.16.2/32')).toMatch(
      /\[web\] ip_prefix = '10\.52\.16\.1\/32,, 10\.52\.16\.2\/32': has an empty item: write the prefixes separated by commas or spaces/,
    );
    expect(await refuse('twice', '10.52.16.1 10.52.16.1/32')).toContain('lists 10.52.16.1/32 more than once (compared normalised)');
    expect(await refuse('invalid', '10.52.16.1/32, 10.52.16.2/24')).toContain(
      'not a valid IP prefix (item 2 of 2): "10.52.16.2/24" has host bits set',
    );
    expect(await refuse('family', '10.52.16.1/32 2001:db8:16::1/128', 'false')).toContain(
      'lists 2001:db8:16::1/128, an IPv6 prefix but IPv6 is disabled in [daemon] (set ipv6 = true)',
    );
  }, 30_000);
});
