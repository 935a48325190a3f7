/**
 * The daemon's log destinations with real receivers: a rotated log file, remote syslog over UDP,
 * JSON over HTTP to a loopback server, and a log server that never answers, during which the
 * checks keep their schedule (measured from the check command's own timestamps).
 */
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonBin } from '../helpers/daemon-process.js';
import { spawnLocalDaemon, writeLocalDaemonConfig, writeLocalServices } from '../helpers/local-daemon.js';
import type { LocalDaemon } from '../helpers/local-daemon.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const running: LocalDaemon[] = [];
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const d of running.splice(0)) if (!d.daemon.hasExited) await d.daemon.stop();
  for (const c of closers.splice(0)) await c();
});

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function setup(extra: Record<string, string>, interval = 0.2) {
  const dir = mkdtempSync(join(tmpdir(), 'ahc-logdest-'));
  const birdc = join(dir, 'birdc');
  writeFileSync(birdc, '#!/bin/sh\necho Reconfigured\n');
  chmodSync(birdc, 0o755);
  const stamps = join(dir, 'stamps');
  const check = join(dir, 'check.sh');
  writeFileSync(check, `#!/bin/sh\ndate +%s%3N >> ${stamps}\n`);
  chmodSync(check, 0o755);
  const files = writeLocalDaemonConfig({
    dir,
    prefixFile4: join(dir, 'p4.conf'),
    prefixFile6: join(dir, 'p6.conf'),
    reconfigure4: birdc,
    instanceLock: `ahc-logdest-${process.pid}-${Math.random().toString(36).slice(2)}`,
    loglevel: 'debug',
    extra,
  });
  writeLocalServices(files.servicesDir, [
    {
      name: 'svc1',
      ipPrefix: '10.52.12.1/32',
      checkCmd: check,
      checkInterval: interval,
      checkTimeout: interval,
      checkRise: 1,
      checkFail: 1,
      ipCheckDisabled: true,
    },
  ]);
  const d = spawnLocalDaemon(daemonBin(ROOT), files);
  running.push(d);
  const starts = (): number[] => (existsSync(stamps) ? readFileSync(stamps, 'utf8').trim().split('\n').map(Number) : []);
  return { dir, d, starts };
}

/** Listen on an ephemeral 127.0.0.1 port, resolving to it; the server (and its connections) closes after the test. */
function listen(server: Server): Promise<number> {
  closers.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  );
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : 0);
    }),
  );
}

describe('log destinations of the real daemon', () => {
  it('log_file: writes there instead of stderr and rotates at log_maxbytes keeping log_backups files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-logfile-'));
    const { d } = setup({ log_file: join(dir, 'ahc.log'), log_maxbytes: '2000', log_backups: '2' }, 0.05);
    await until(() => existsSync(join(dir, 'ahc.log.2')), 15_000, 'two rotations');
    const names = readdirSync(dir).sort();
    expect(names).toEqual(['ahc.log', 'ahc.log.1', 'ahc.log.2']);
    for (const n of names) expect(readFileSync(join(dir, n)).length).toBeLessThan(2000);
    expect(readFileSync(join(dir, 'ahc.log.1'), 'utf8')).toMatch(/anycast-healthchecker\[\d+\] (INFO|DEBUG) +svc1 /);
    expect(d.daemon.tail(50)).not.toMatch(/running /);
  }, 30_000);

  it('without log_file records go to stderr, in the shape json_stdout or log_format_journalctl asks for; stdout has none', async () => {
    const json = setup({ json_stdout: 'true' }).d.daemon;
    const journal = setup({ log_format_journalctl: 'true' }).d.daemon;
    const text = setup({}).d.daemon;
    await json.waitForLine(
      (l) => l.stream === 'stderr' && l.raw.includes('"service_name":"svc1"'),
      10_000,
      0,
      'a JSON service record on stderr',
    );
    await journal.waitForLine((l) => l.stream === 'stderr' && /^<6>svc1 - /.test(l.raw), 10_000, 0, 'a journald service record on stderr');
    await text.waitForLine((l) => l.stream === 'stderr' && l.service === 'svc1', 10_000, 0, 'a text service record on stderr');
    const rec = json.lines.find((l) => l.raw.includes('"service_name":"svc1"'))?.raw ?? '';
    expect(rec).toMatch(/^anycast-healthchecker: \{"asctime":"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}",/);
    expect(JSON.parse(rec.slice('anycast-healthchecker: '.length))).toMatchObject({
      program: 'anycast-healthchecker',
      service_name: 'svc1',
      process: json.pid,
    });
    expect(journal.lines.find((l) => l.raw.startsWith('<6>MainThread - starting '))).toBeDefined();
    for (const d of [json, journal, text]) {
      await d.waitForLine(
        (l) => l.stream === 'stdout' && l.raw.startsWith('messages for unhandled exceptions go to stderr'),
        5_000,
        0,
        'the last startup line on stdout',
      );
      expect(d.lines.filter((l) => l.stream === 'stderr').length).toBeGreaterThan(3);
      // stdout: the startup lines that are not records, nothing else
      expect(d.lines.filter((l) => l.stream === 'stdout').map((l) => l.raw.split(' ')[0])).toEqual(['acquired', 'created', 'messages']);
    }
  }, 20_000);

  it('stderr_file takes what the program itself prints to stderr; the records stay on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-stderrfile-'));
    const stderrFile = join(dir, 'stderr.log');
    const { d } = setup({ stderr_file: stderrFile });
    await d.daemon.waitForLine((l) => l.stream === 'stderr' && l.service === 'svc1', 10_000, 0, 'a service record on stderr');
    await d.daemon.waitForLine(
      (l) => l.stream === 'stdout' && l.raw === `messages for unhandled exceptions go to ${stderrFile}`,
      5_000,
      0,
      'where crash reports go',
    );
    expect(existsSync(stderrFile)).toBe(true);
    expect(readFileSync(stderrFile, 'utf8')).not.toMatch(/anycast-healthchecker\[\d+\]/);
  }, 20_000);

  it('log_server: sends syslog datagrams, JSON with json_log_server', async () => {
    const got: string[] = [];
    const udp = createSocket('udp4');
    udp.on('message', (m) => got.push(m.toString()));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    closers.push(() => udp.close());
    setup({ log_server: '127.0.0.1', log_server_port: String(udp.address().port), json_log_server: 'true' });
    const isServiceRecord = (g: string): boolean => g.includes('"service_name":"svc1"') && g.includes('"ip_address"');
    await until(() => got.some(isServiceRecord), 10_000, 'a service record over UDP');
    const rec = got.find(isServiceRecord) ?? '';
    expect(rec).toMatch(/^<1[0-5]>anycast-healthchecker: \{/);
    expect(rec.endsWith('\0')).toBe(true);
    const json = JSON.parse(rec.replace(/^<\d+>anycast-healthchecker: /, '').replace(/\0$/, '')) as Record<string, unknown>;
    expect(json).toMatchObject({ program: 'anycast-healthchecker', service_name: 'svc1', ip_address: '10.52.12.1', prefix_length: 32 });
  }, 20_000);

  it('json_logging: POSTs JSON records to the HTTP server', async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => {
        b += c.toString();
      });
      req.on('end', () => {
        bodies.push(b);
        res.end();
      });
    });
    const port = await listen(server);
    setup({
      json_logging: 'true',
      http_server: '127.0.0.1',
      http_server_port: String(port),
      http_server_protocol: 'http',
      http_server_timeout: '1',
    });
    await until(() => bodies.some((b) => b.includes('status UP')), 10_000, 'status UP shipped');
  }, 20_000);

  it('a log server that never answers does not disturb the check schedule (measured)', async () => {
    const server = createServer(() => {
      /* accepts, never answers */
    });
    const port = await listen(server);
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const deadPort = udp.address().port;
    udp.close(); // nobody listens there any more
    const { starts } = setup(
      {
        json_logging: 'true',
        http_server: '127.0.0.1',
        http_server_port: String(port),
        http_server_timeout: '5',
        log_server: '127.0.0.1',
        log_server_port: String(deadPort),
      },
      0.2,
    );
    await until(() => starts().length >= 16, 15_000, '16 checks');
    const s = starts();
    const span = (s[15] ?? 0) - (s[0] ?? 0);
    const gaps = s.slice(1, 16).map((t, i) => t - (s[i] ?? 0));
    console.log(`15 intervals of 200 ms took ${span} ms; largest gap ${Math.max(...gaps)} ms`);
    expect(span).toBeGreaterThan(2800);
    expect(span).toBeLessThan(3300);
    expect(Math.max(...gaps)).toBeLessThan(400);
  }, 30_000);
});
