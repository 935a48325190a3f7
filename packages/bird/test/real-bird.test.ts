/**
 * Integration against a real BIRD 2: the generated files parse, a running BIRD applies them via
 * `birdc configure`, rejects a broken one, and a stopped BIRD is reported as such.
 * Skipped (with the reason in the suite name) when BIRD is not installed.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { runCommand } from '@ahc/command';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '@ahc/fs';
import { configureStatusArgv, normalizePrefix, renderPrefixFile, runReconfigure, waitForConfigureIdle } from '../src/index';
import { isProcessAlive, makeTempDir, removeTempDir, waitFor } from './fixture';

const BIRD = process.env.AHC_TEST_BIRD ?? '/usr/sbin/bird';
const BIRDC = process.env.AHC_TEST_BIRDC ?? '/usr/sbin/birdc';
const missing = [BIRD, BIRDC].filter((path) => !existsSync(path));
const suite = missing.length === 0 ? 'real BIRD 2' : `real BIRD 2 (skipped: ${missing.join(', ')} not installed)`;

const DUMMY4 = '10.189.200.255/32';
const DUMMY6 = '2001:db8::1/128';

function render(variable: string, dummy: string, prefixes: string[]): string {
  return renderPrefixFile({ variable, dummy, prefixes, generatedAt: new Date(), pid: process.pid });
}

function birdConf(dir: string, extra = ''): string {
  return `router id 192.0.2.1;
log "${dir}/bird.log" all;
include "${dir}/anycast-prefixes.conf";
include "${dir}/6/anycast-prefixes.conf";

function match_route() {
  if net.type = NET_IP4 then return net ~ ACAST_PS_ADVERTISE;
  if net.type = NET_IP6 then return net ~ ACAST6_PS_ADVERTISE;
  return false;
}

protocol device {}
${extra}`;
}

/** Routing tables and pipes that show what `export where match_route()` lets through. */
const PIPES = `
ipv4 table out4;
ipv6 table out6;
protocol static services4 { ipv4; route 10.52.12.1/32 blackhole; route 10.52.12.2/32 blackhole; }
protocol static services6 { ipv6; route 2001:db8:52::1/128 blackhole; route 2001:db8:52::2/128 blackhole; }
protocol pipe advertise4 { table master4; peer table out4; import none; export where match_route(); }
protocol pipe advertise6 { table master6; peer table out6; import none; export where match_route(); }
`;

async function parseOnly(conf: string): Promise<{ code: number | null; output: string }> {
  const result = await runCommand([BIRD, '-p', '-c', conf], { timeoutMs: 10_000 });
  return { code: result.code, output: `${result.stdout}${result.stderr}`.trim() };
}

describe.skipIf(missing.length > 0)(suite, () => {
  describe('bird -p (parse only)', () => {
    let dir: string;

    beforeAll(async () => {
      dir = await makeTempDir('parse');
      await mkdir(join(dir, '6'));
      await writeFile(join(dir, 'bird.conf'), birdConf(dir));
    });

    afterAll(async () => {
      await removeTempDir(dir);
    });

    async function parseWith(v4: string[], v6: string[]): Promise<{ code: number | null; output: string }> {
      await writeFileAtomic(join(dir, 'anycast-prefixes.conf'), render('ACAST_PS_ADVERTISE', DUMMY4, v4));
      await writeFileAtomic(join(dir, '6', 'anycast-prefixes.conf'), render('ACAST6_PS_ADVERTISE', DUMMY6, v6));
      return parseOnly(join(dir, 'bird.conf'));
    }

    it('accepts files holding only the dummies', async () => {
      expect(await parseWith([], [])).toMatchObject({ code: 0 });
    });

    it('accepts edge-case prefixes in canonical form', async () => {
      const v4 = ['0.0.0.0/0', '10.52.12.1/32', '192.0.2.0/24', '255.255.255.255/32'];
      const v6 = ['::/0', '::1/128', '::ffff:192.0.2.1/128', '64:ff9b::c000:201/128', '1:2:3:4:5:6:7:0/128', 'fe80::/10'];
      expect(await parseWith(v4, v6)).toMatchObject({ code: 0 });
    });

    it('accepts every file renderPrefixFile produces (random IPv4 and IPv6 prefixes)', async () => {
      const v4 = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })).map(([a, len]) => {
        const m = len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
        return `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}/${len}`;
      });
      const v6 = fc
        .tuple(
          fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }),
          fc.integer({ min: 0, max: 128 }),
        )
        .map(([groups, length]) => {
          const masked = groups.map((g, i) => {
            const keep = Math.min(16, Math.max(0, length - i * 16));
            return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
          });
          const result = normalizePrefix(`${masked.map((g) => g.toString(16)).join(':')}/${length}`);
          if (!result.ok) throw new Error(result.reason);
          return result.prefix;
        });
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(v4, { maxLength: 30 }), fc.uniqueArray(v6, { maxLength: 30 }), async (a, b) => {
          const parsed = await parseWith(a, b);
          expect(parsed.output).toBe('');
          expect(parsed.code).toBe(0);
        }),
        { numRuns: 25 },
      );
    });

    it('rejects a broken file, so the parse test above is meaningful', async () => {
      await writeFile(join(dir, 'anycast-prefixes.conf'), 'define ACAST_PS_ADVERTISE =\n    [\n        10.0.0.1/32,\n    ];\n');
      const parsed = await parseOnly(join(dir, 'bird.conf'));
      expect(parsed.code).not.toBe(0);
      expect(parsed.output).toMatch(/anycast-prefixes\.conf:4:\d+ syntax error/);
    });
  });

  describe('birdc configure against a running BIRD', () => {
    let dir: string;
    let sock: string;
    let pid = 0;
    let command: string;

    async function showRoutes(table: string): Promise<string[]> {
      const result = await runCommand([BIRDC, '-s', sock, 'show', 'route', 'table', table], { timeoutMs: 5000 });
      return result.stdout
        .split('\n')
        .map((line) => /^(\S+\/\d+)\s/.exec(line)?.[1])
        .filter((prefix): prefix is string => prefix !== undefined)
        .sort();
    }

    async function writePrefixes(v4: string[], v6: string[]): Promise<void> {
      await writeFileAtomic(join(dir, 'anycast-prefixes.conf'), render('ACAST_PS_ADVERTISE', DUMMY4, v4));
      await writeFileAtomic(join(dir, '6', 'anycast-prefixes.conf'), render('ACAST6_PS_ADVERTISE', DUMMY6, v6));
    }

    beforeAll(async () => {
      dir = await makeTempDir('running');
      sock = join(dir, 'bird.ctl');
      command = `${BIRDC} -s ${sock} configure`;
      await mkdir(join(dir, '6'));
      await writeFile(join(dir, 'bird.conf'), birdConf(dir, PIPES));
      await writePrefixes(['10.52.12.1/32'], []);
      const started = await runCommand([BIRD, '-c', join(dir, 'bird.conf'), '-s', sock, '-P', join(dir, 'bird.pid')], {
        timeoutMs: 10_000,
      });
      expect(started.code, `${started.stdout}${started.stderr}`).toBe(0);
      await waitFor('the BIRD pidfile', async () => {
        pid = Number((await readFile(join(dir, 'bird.pid'), 'utf8').catch(() => '')).trim());
        return pid > 0;
      });
      await waitFor('BIRD to answer on its socket', async () => {
        const status = await runCommand([BIRDC, '-s', sock, 'show', 'status'], { timeoutMs: 2000 });
        return status.stdout.includes('Daemon is up and running');
      });
    });

    afterAll(async () => {
      if (pid > 0 && isProcessAlive(pid)) {
        process.kill(pid, 'SIGKILL');
        await waitFor(`BIRD ${pid} to exit`, () => !isProcessAlive(pid));
      }
      await removeTempDir(dir);
    });

    it('exports what the initial file lists', async () => {
      expect(await showRoutes('out4')).toEqual(['10.52.12.1/32']);
      expect(await showRoutes('out6')).toEqual([]);
    });

    it('applies a valid generated file: BIRD answers "Reconfigured" and exports the new prefixes', async () => {
      await writePrefixes(['10.52.12.1/32', '10.52.12.2/32'], ['2001:db8:52::2/128']);
      const outcome = await runReconfigure(command, { timeoutMs: 10_000 });
      expect(outcome.output).toMatch(/^BIRD 2\.\d+\.\d+ ready\.\nReading configuration from \S+bird\.conf\nReconfigured$/);
      expect(outcome).toMatchObject({ status: 'applied', reason: 'BIRD answered "Reconfigured"' });
      await waitFor('the new routes to be exported', async () => (await showRoutes('out4')).length === 2);
      expect(await showRoutes('out4')).toEqual(['10.52.12.1/32', '10.52.12.2/32']);
      expect(await showRoutes('out6')).toEqual(['2001:db8:52::2/128']);
    });

    it('answers configure status, asked as the daemon builds it from the reconfigure command, with idle', async () => {
      const argv = configureStatusArgv(command.split(' '));
      expect(argv).toEqual([BIRDC, '-s', sock, 'configure', 'status']);
      expect(await waitForConfigureIdle(argv ?? [], { deadlineMs: 5000, timeoutMs: 5000 })).toEqual({ ended: 'idle', polls: 1 });
    });

    it('withdraws a prefix that leaves the file', async () => {
      await writePrefixes(['10.52.12.2/32'], []);
      expect((await runReconfigure(command, { timeoutMs: 10_000 })).status).toBe('applied');
      await waitFor('the withdrawal', async () => (await showRoutes('out4')).length === 1);
      expect(await showRoutes('out4')).toEqual(['10.52.12.2/32']);
      expect(await showRoutes('out6')).toEqual([]);
    });

    it('fails on a broken file, quoting the syntax error, and BIRD keeps the old configuration', async () => {
      const path = join(dir, 'anycast-prefixes.conf');
      await writeFileAtomic(path, 'define ACAST_PS_ADVERTISE =\n    [\n        10.189.200.255/32,,\n    ];\n');
      const outcome = await runReconfigure(command, { timeoutMs: 10_000 });
      expect(outcome.status).toBe('failed');
      expect(outcome.result.code).toBe(1);
      expect(outcome.reason).toMatch(
        /^BIRD rejected the configuration: the generated prefix file or the BIRD configuration around it is invalid \(exit code 1\): .*anycast-prefixes\.conf:3:\d+ syntax error/,
      );
      expect(await showRoutes('out4')).toEqual(['10.52.12.2/32']);
    });

    it('fails when the file defines another variable, naming where BIRD stumbled', async () => {
      await writeFileAtomic(join(dir, 'anycast-prefixes.conf'), render('SOMETHING_ELSE', DUMMY4, []));
      const outcome = await runReconfigure(command, { timeoutMs: 10_000 });
      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toMatch(/invalid \(exit code 1\): .*bird\.conf:\d+:\d+ /);
    });

    it('fails when the file is missing, quoting BIRD', async () => {
      const outcome = await runReconfigure(`${BIRDC} -s ${sock} configure '"${join(dir, 'missing.conf')}"'`, { timeoutMs: 10_000 });
      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toBe(
        `BIRD could not load its configuration (exit code 1): ${join(dir, 'missing.conf')}: No such file or directory`,
      );
    });

    it('fails with "cannot reach BIRD" once BIRD is stopped', async () => {
      await writePrefixes([], []);
      expect((await runReconfigure(command, { timeoutMs: 10_000 })).status).toBe('applied');
      process.kill(pid, 'SIGTERM');
      await waitFor(`BIRD ${pid} to exit`, () => !isProcessAlive(pid));
      const outcome = await runReconfigure(command, { timeoutMs: 10_000 });
      expect(outcome).toMatchObject({ status: 'failed', result: { code: 1 } });
      expect(outcome.reason).toBe(
        `cannot reach BIRD; is it running? (exit code 1): Unable to connect to server control socket (${sock}): No such file or directory`,
      );
    });
  });
});
