import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpJsonSink } from '../src/http-json-sink';
import { RotatingFileSink } from '../src/rotating-file-sink';
import { SyslogUdpSink } from '../src/syslog-udp-sink';

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('RotatingFileSink', () => {
  it('rotates by size keeping log_backups old files, like RotatingFileHandler', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-log-'));
    const path = join(dir, 'ahc.log');
    const sink = new RotatingFileSink(path, 1000, 3);
    const line = `${'x'.repeat(99)}\n`; // 100 bytes
    for (let i = 0; i < 100; i += 1) sink.write(line, 'info');
    sink.close();
    expect(readdirSync(dir).sort()).toEqual(['ahc.log', 'ahc.log.1', 'ahc.log.2', 'ahc.log.3']);
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).length).toBeLessThan(1000);
    expect(readFileSync(join(dir, 'ahc.log.1')).length).toBe(900);
  });

  it('never rotates with log_backups = 0 or log_maxbytes = 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-log-'));
    const a = new RotatingFileSink(join(dir, 'a.log'), 100, 0);
    const b = new RotatingFileSink(join(dir, 'b.log'), 0, 5);
    for (let i = 0; i < 20; i += 1) {
      a.write('0123456789\n', 'info');
      b.write('0123456789\n', 'info');
    }
    expect(readdirSync(dir).sort()).toEqual(['a.log', 'b.log']);
    expect(readFileSync(join(dir, 'a.log')).length).toBe(220);
  });

  it('reopens a log file deleted or moved away while running', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-log-'));
    const path = join(dir, 'ahc.log');
    const sink = new RotatingFileSink(path, 0, 0, 0);
    sink.write('before\n', 'info');
    renameSync(path, `${path}.moved`);
    sink.write('after\n', 'info');
    expect(readFileSync(path, 'utf8')).toBe('after\n');
    expect(readFileSync(`${path}.moved`, 'utf8')).toBe('before\n');
    unlinkSync(path);
    sink.write('again\n', 'info');
    expect(readFileSync(path, 'utf8')).toBe('again\n');
  });

  it('counts lost lines when it cannot write, reports once, and recovers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-log-'));
    const reports: string[] = [];
    const path = join(dir, 'missing-dir', 'ahc.log');
    const sink = new RotatingFileSink(path, 0, 0);
    sink.monitor({ failing: (m) => void reports.push(`failing: ${m}`), recovered: (m) => void reports.push(`recovered: ${m}`) });
    sink.write('a\n', 'info');
    sink.write('b\n', 'info');
    expect(sink.lost).toBe(2);
    expect(sink.healthy).toBe(false);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(
      new RegExp(`^failing: cannot write log lines to log file ${path}: ENOENT.*; they are dropped and counted until it works again$`),
    );
    mkdirSync(join(dir, 'missing-dir'));
    sink.write('c\n', 'info');
    sink.write('d\n', 'info');
    expect(sink.healthy).toBe(true);
    expect(reports.slice(1)).toEqual([`recovered: writing log lines to log file ${path} works again; 2 log lines were lost`]);
    expect(readFileSync(path, 'utf8')).toBe('c\nd\n');
  });
});

/** A UDP server on 127.0.0.1 that keeps what it receives; closed after the test. */
async function udpReceiver(): Promise<{ received: string[]; server: ReturnType<typeof createSocket> }> {
  const received: string[] = [];
  const server = createSocket('udp4');
  server.on('message', (m) => received.push(m.toString()));
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
  cleanups.push(() => server.close());
  return { received, server };
}

describe('SyslogUdpSink', () => {
  it('sends <PRI>message NUL-terminated to a real UDP receiver, facility user', async () => {
    const { received, server } = await udpReceiver();
    const sink = new SyslogUdpSink('127.0.0.1', server.address().port);
    cleanups.push(() => sink.close());
    sink.write('2026-01-01 00:00:00,000 x[1] ERROR    MainThread boom\n', 'error');
    sink.write('{"message":"hi"}\n', 'info');
    await until(() => received.length === 2);
    expect(received).toContain('<11>2026-01-01 00:00:00,000 x[1] ERROR    MainThread boom\0');
    expect(received).toContain('<14>{"message":"hi"}\0');
  });

  it('looks a host name up once, sends to the address, and keeps what it wrote meanwhile', async () => {
    const { received, server } = await udpReceiver();
    const lookups: string[] = [];
    let answer: (() => void) | undefined;
    const sink = new SyslogUdpSink('syslog.example', server.address().port, 1000, (host, _family, done) => {
      lookups.push(host);
      answer = () => done(null, '127.0.0.1');
    });
    cleanups.push(() => sink.close());
    for (let i = 0; i < 5; i += 1) sink.write(`r${i}\n`, 'info');
    expect(lookups).toEqual(['syslog.example']); // one lookup for five records, while it is under way
    answer?.();
    sink.write('r5\n', 'info');
    await until(() => received.length === 6);
    expect(lookups).toHaveLength(1);
    expect(received.map((r) => r.replace(/^<\d+>/, ''))).toEqual(['r0\0', 'r1\0', 'r2\0', 'r3\0', 'r4\0', 'r5\0']);
  });

  it('holds at most one lookup when the resolver never answers (a threadpool thread each), and drops and counts', () => {
    let lookups = 0;
    const sink = new SyslogUdpSink('syslog.example', 514, 1000, () => {
      lookups += 1; // never answers
    });
    for (let i = 0; i < 2000; i += 1) sink.write('x\n', 'info');
    expect(lookups).toBe(1);
    expect(sink.lost).toBe(1900); // 100 kept for when the answer comes
    sink.close();
  });

  it('never blocks or throws when nobody listens', () => {
    const sink = new SyslogUdpSink('127.0.0.1', 9);
    const start = performance.now();
    for (let i = 0; i < 1000; i += 1) sink.write('x\n', 'info');
    expect(performance.now() - start).toBeLessThan(500);
    sink.close();
  });
});

function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: URL }> {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      cleanups.push(
        () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(r);
          }),
      );
      resolve({ server, url: new URL(`http://127.0.0.1:${port}/`) });
    });
  });
}

describe('HttpJsonSink', () => {
  it('POSTs each JSON record to a real HTTP server', async () => {
    const bodies: string[] = [];
    const { url } = await httpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        bodies.push(body);
        res.end('ok');
      });
    });
    const sink = new HttpJsonSink(url, 1000);
    sink.write('{"message":"one"}\n', 'info');
    sink.write('{"message":"two"}\n', 'info');
    // a record counts as sent once its response has ended, after the server has seen the body
    await until(() => bodies.length === 2 && sink.stats.sent === 2);
    expect(bodies.map((b) => (JSON.parse(b) as { message: string }).message)).toEqual(['one', 'two']);
    expect(sink.stats.sent).toBe(2);
  });

  it('a server that never answers costs nothing: writes return at once, records beyond the queue are dropped and counted', async () => {
    const { url } = await httpServer(() => {
      /* never answers */
    });
    const sink = new HttpJsonSink(url, 200, 10);
    const start = performance.now();
    for (let i = 0; i < 100; i += 1) sink.write(`{"n":${i}}\n`, 'info');
    expect(performance.now() - start).toBeLessThan(200);
    expect(sink.stats.dropped).toBe(89);
    await until(() => sink.stats.failed >= 2, 3000);
  });

  it('a dead server (connection refused) is counted as failures', async () => {
    const sink = new HttpJsonSink(new URL('http://127.0.0.1:9/'), 500);
    sink.write('{"n":1}\n', 'info');
    await until(() => sink.stats.failed === 1);
    expect(existsSync('/')).toBe(true);
  });
});
