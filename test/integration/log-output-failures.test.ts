// The real daemon with its output taken away: stderr (the records) and stdout (the startup
// lines) closed before the first write and in the middle of the run, a log file on a full
// tmpfs, and a stderr pipe whose reader never reads. Each time the daemon must keep advertising
// and withdrawing (a health file flipped, the BIRD prefix file watched), say so once where it
// still can, not spin, and exit 0 within 2 s of SIGTERM.
import { spawn } from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonBin, daemonSkipReason, renderService } from '../helpers/daemon-process.js';
import { writeLocalDaemonConfig, writeLocalServices } from '../helpers/local-daemon.js';
import type { LocalDaemonFiles } from '../helpers/local-daemon.js';
import { pollUntil } from '../helpers/poll.js';
import { parsePrefixFile } from '../helpers/prefix-file.js';
import { Tmpfs, tmpfsUnavailableReason } from '../helpers/tmpfs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = daemonBin(ROOT);
const daemonReason = daemonSkipReason(ROOT);
const tmpfsReason = daemonReason ?? tmpfsUnavailableReason();
if (daemonReason !== null) console.warn(`skipping the log output failure tests: ${daemonReason}`);
else if (tmpfsReason !== null) console.warn(`skipping the full-disk log file test: ${tmpfsReason}`);

const PREFIX = '10.52.77.1/32';
const SIGTERM_EXIT_MS = 2_000;
const STDERR_EPIPE = 'cannot write log lines to stderr: EPIPE; the reader is gone, its log lines are dropped and counted from now on';
const STDOUT_EPIPE = 'cannot write log lines to stdout: EPIPE; the reader is gone, its log lines are dropped and counted from now on';
const RECORD = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} anycast-healthchecker\[\d+\] /;

interface Bed {
  readonly dir: string;
  readonly files: LocalDaemonFiles;
  readonly prefixFile: string;
  readonly healthFile: string;
}

let beds = 0;
function makeBed(extra: Record<string, string> = {}, services: ReadonlyArray<{ name: string; checkCmd: string }> = []): Bed {
  beds += 1;
  const dir = mkdtempSync(join(tmpdir(), 'ahc-logout-'));
  const prefixFile = join(dir, 'p4.conf');
  const healthFile = join(dir, 'svc1.healthy');
  const files = writeLocalDaemonConfig({
    dir,
    prefixFile4: prefixFile,
    prefixFile6: join(dir, 'p6.conf'),
    reconfigure4: '/bin/echo Reconfigured',
    instanceLock: `ahc-logout-${process.pid}-${beds}`,
    loglevel: 'debug',
    extra,
  });
  writeLocalServices(files.servicesDir, [
    {
      name: 'svc1',
      ipPrefix: PREFIX,
      checkCmd: `/usr/bin/test -e ${healthFile}`,
      checkInterval: 0.1,
      checkTimeout: 0.1,
      checkRise: 1,
      checkFail: 1,
      ipCheckDisabled: true,
    },
  ]);
  // Extra services in files of their own short names (a section name may be longer than a file name).
  services.forEach((s, i) =>
    writeFileSync(
      join(files.servicesDir, `extra${i}.conf`),
      `${renderService({
        name: s.name,
        ipPrefix: `10.52.78.${i + 1}/32`,
        checkCmd: s.checkCmd,
        checkInterval: 0.05,
        checkTimeout: 0.05,
        checkRise: 1,
        checkFail: 1,
      })}ip_check_disabled = true\n`,
    ),
  );
  writeFileSync(healthFile, '');
  return { dir, files, prefixFile, healthFile };
}

const running: ChildProcess[] = [];
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of running.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of closers.splice(0).reverse()) await c();
});

interface Daemon {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly pid: number;
}

function start(bed: Bed, stdio: StdioOptions): Daemon {
  const child = spawn(BIN, ['-f', bed.files.confFile, '-d', bed.files.servicesDir], { stdio });
  running.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  if (child.pid === undefined) throw new Error('the daemon did not start');
  return { child, exited, pid: child.pid };
}

/** Everything a stream says, as text. */
function collect(stream: NodeJS.ReadableStream | null): { text: () => string } {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (d: string) => {
    text += d;
  });
  return { text: () => text };
}

function advertised(bed: Bed): boolean {
  try {
    return parsePrefixFile(readFileSync(bed.prefixFile, 'utf8')).includes(PREFIX);
  } catch {
    return false;
  }
}

async function waitAdvertised(bed: Bed, d: Daemon, yes: boolean, what: string): Promise<void> {
  await pollUntil(
    async () => {
      if (d.child.exitCode !== null || d.child.signalCode !== null)
        throw new Error(`the daemon exited (${d.child.exitCode ?? d.child.signalCode})`);
      return advertised(bed) === yes ? true : undefined;
    },
    { what, timeoutMs: 10_000 },
  );
}

/** Withdraw and advertise again by flipping the health file: the daemon still routes. */
async function stillRoutes(bed: Bed, d: Daemon): Promise<void> {
  rmSync(bed.healthFile);
  await waitAdvertised(bed, d, false, `${PREFIX} withdrawn after the health file went away`);
  writeFileSync(bed.healthFile, '');
  await waitAdvertised(bed, d, true, `${PREFIX} advertised again after the health file came back`);
}

/** CPU seconds (user + system) the process used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssKiB(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

/** The daemon does not spin: well under half a core over a second of normal checking. */
async function notSpinning(d: Daemon): Promise<void> {
  const before = cpuSeconds(d.pid);
  const t0 = performance.now();
  await pollUntil(async () => (performance.now() - t0 >= 1000 ? true : undefined), {
    what: 'a second to pass',
    timeoutMs: 2000,
    intervalMs: 100,
  });
  const used = cpuSeconds(d.pid) - before;
  expect(used, `CPU seconds used in one second: ${used}`).toBeLessThan(0.5);
}

async function sigtermExitsZero(d: Daemon): Promise<number> {
  const t0 = performance.now();
  d.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), SIGTERM_EXIT_MS);
  });
  const result = await Promise.race([d.exited, late]);
  clearTimeout(timer);
  expect(result, `exit within ${SIGTERM_EXIT_MS} ms of SIGTERM`).not.toBe('late');
  expect(result).toEqual({ code: 0, signal: null });
  return performance.now() - t0;
}

async function udpReceiver(): Promise<{ port: number; got: string[] }> {
  const got: string[] = [];
  const udp: Socket = createSocket('udp4');
  udp.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
  closers.push(() => new Promise<void>((resolve) => udp.close(() => resolve())));
  return { port: udp.address().port, got };
}

describe.skipIf(daemonReason !== null)('stderr (the records) closed', () => {
  it('before the first write: the daemon keeps routing, says so once on syslog, does not spin, exits 0 on SIGTERM', async () => {
    const syslog = await udpReceiver();
    const bed = makeBed({ log_server: '127.0.0.1', log_server_port: String(syslog.port) });
    const d = start(bed, ['ignore', 'pipe', 'pipe']);
    // Closed right after spawn, long before Node has started: its first write meets no reader.
    d.child.stderr?.destroy();
    const out = collect(d.child.stdout);
    await waitAdvertised(bed, d, true, `${PREFIX} advertised`);
    await stillRoutes(bed, d);
    await notSpinning(d);
    await stillRoutes(bed, d);
    const reports = syslog.got.filter((g) => g.includes('cannot write log lines to stderr'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(new RegExp(`^<11>${RECORD.source.slice(1)}ERROR +MainThread +${STDERR_EPIPE}\\0$`));
    // stdout has the startup lines only, never a record.
    const lines = out
      .text()
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.map((l) => l.replace(/ \S+$/, ''))).toEqual([
      expect.stringMatching(/^acquired the instance lock, abstract unix socket/) as unknown,
      expect.stringMatching(/^created pidfile .* with process id$/) as unknown,
      'messages for unhandled exceptions go to',
    ]);
    await sigtermExitsZero(d);
  });

  it('mid-run (the reader reads 2000 bytes and goes): the same', async () => {
    const syslog = await udpReceiver();
    const bed = makeBed({ log_server: '127.0.0.1', log_server_port: String(syslog.port) });
    const d = start(bed, ['ignore', 'ignore', 'pipe']);
    let read = '';
    const stderr = d.child.stderr;
    if (stderr === null) throw new Error('no stderr pipe');
    stderr.setEncoding('utf8');
    const gone = new Promise<void>((resolve) => {
      stderr.on('data', (chunk: string) => {
        read += chunk;
        if (read.length >= 2000) {
          stderr.destroy();
          resolve();
        }
      });
    });
    await waitAdvertised(bed, d, true, `${PREFIX} advertised`);
    await gone;
    expect(read).toMatch(RECORD);
    await pollUntil(async () => (syslog.got.some((g) => g.includes(STDERR_EPIPE)) ? true : undefined), {
      what: 'the report on syslog',
      timeoutMs: 5000,
    });
    await stillRoutes(bed, d);
    await notSpinning(d);
    await stillRoutes(bed, d);
    expect(syslog.got.filter((g) => g.includes('cannot write log lines to stderr'))).toHaveLength(1);
    // Records keep flowing to the destination that works.
    const n = syslog.got.length;
    await stillRoutes(bed, d);
    expect(syslog.got.slice(n).some((g) => g.includes('changed to DOWN'))).toBe(true);
    await sigtermExitsZero(d);
  });
});

describe.skipIf(daemonReason !== null)('stdout (the startup lines) closed', () => {
  it('before the first write: reported once on stderr, the daemon keeps routing and exits 0 on SIGTERM', async () => {
    const bed = makeBed();
    const d = start(bed, ['ignore', 'pipe', 'pipe']);
    d.child.stdout?.destroy();
    const err = collect(d.child.stderr);
    await waitAdvertised(bed, d, true, `${PREFIX} advertised`);
    await stillRoutes(bed, d);
    await notSpinning(d);
    const reports = err
      .text()
      .split('\n')
      .filter((l) => l.includes('cannot write log lines to stdout'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(new RegExp(`${RECORD.source}ERROR +MainThread +${STDOUT_EPIPE}$`));
    // The records are on stderr.
    expect(err.text()).toMatch(/ INFO +svc1 +changed to DOWN\n/);
    await sigtermExitsZero(d);
  });

  it('mid-run (the reader takes the first line and goes): the daemon keeps routing and exits 0 on SIGTERM', async () => {
    const bed = makeBed();
    const d = start(bed, ['ignore', 'pipe', 'pipe']);
    const stdout = d.child.stdout;
    if (stdout === null) throw new Error('no stdout pipe');
    stdout.once('data', () => stdout.destroy());
    const err = collect(d.child.stderr);
    await waitAdvertised(bed, d, true, `${PREFIX} advertised`);
    await stillRoutes(bed, d);
    await notSpinning(d);
    // Whether a startup line was still due when the reader left is timing; reported at most once.
    expect(
      err
        .text()
        .split('\n')
        .filter((l) => l.includes('cannot write log lines to stdout')).length,
    ).toBeLessThanOrEqual(1);
    await sigtermExitsZero(d);
  });
});

describe.skipIf(tmpfsReason !== null)('log_file on a full file system', () => {
  it('loses lines and counts them, says so once on stderr, keeps routing, and logs again once there is room', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ahc-logout-fs-'));
    const mnt = join(root, 'mnt');
    mkdirSync(mnt);
    const fs = await Tmpfs.mount(mnt, 64);
    closers.push(() => fs.unmount());
    const logFile = join(mnt, 'ahc.log');
    const bed = makeBed({ log_file: logFile });
    const d = start(bed, ['ignore', 'pipe', 'pipe']);
    const err = collect(d.child.stderr);
    await waitAdvertised(bed, d, true, `${PREFIX} advertised`);
    const filler = fs.fill();
    const reportLine = `anycast-healthchecker: cannot write log lines to log file ${logFile}: ENOSPC: no space left on device, write; they are dropped and counted until it works again`;
    await pollUntil(async () => (err.text().includes(reportLine) ? true : undefined), {
      what: 'the report on stderr',
      timeoutMs: 10_000,
      describe: () => err.text(),
    });
    await stillRoutes(bed, d);
    await notSpinning(d);
    await stillRoutes(bed, d);
    // One report, and stderr carries nothing else: records go only to the log file.
    expect(err.text()).toBe(`${reportLine}\n`);
    const sizeWhileFull = readFileSync(logFile).length;
    fs.free(filler);
    const notice = await pollUntil(
      async () => {
        const m = new RegExp(`MainThread +writing log lines to log file ${logFile} works again; (\\d+) log lines were lost$`, 'm').exec(
          readFileSync(logFile, 'utf8'),
        );
        return m === null ? undefined : Number(m[1]);
      },
      { what: 'the recovery notice in the log file', timeoutMs: 10_000 },
    );
    expect(notice).toBeGreaterThan(10);
    expect(readFileSync(logFile).length).toBeGreaterThan(sizeWhileFull);
    const before = readFileSync(logFile, 'utf8').length;
    await stillRoutes(bed, d);
    expect(readFileSync(logFile, 'utf8').slice(before)).toMatch(/ INFO +svc1 +changed to DOWN\n/);
    await sigtermExitsZero(d);
  });
});

describe.skipIf(daemonReason !== null)('stderr pipe whose reader never reads', () => {
  it('keeps routing with bounded memory while megabytes of records are logged, and exits 0 on SIGTERM', async () => {
    // Load: a service whose section name is 50 000 characters long. The thread column is as wide
    // as the longest name, so every record is about 50 KB: some 3 MB/s, which would all stay
    // queued in memory for the pipe without a bound.
    const bed = makeBed({}, [{ name: 'n'.repeat(50_000), checkCmd: '/bin/true' }]);
    // The reader: a process that holds the pipe's read end and never reads.
    const sleeper = spawn('sleep', ['600'], { stdio: ['pipe', 'ignore', 'ignore'] });
    running.push(sleeper);
    if (sleeper.stdin === null) throw new Error('no pipe to the sleeper');
    const d = start(bed, ['ignore', 'ignore', sleeper.stdin]);
    await waitAdvertised(bed, d, true, `${PREFIX} advertised`);
    await stillRoutes(bed, d);
    const rssBefore = rssKiB(d.pid);
    const t0 = performance.now();
    let flips = 0;
    while (performance.now() - t0 < 6000) {
      await stillRoutes(bed, d);
      flips += 1;
    }
    const grown = rssKiB(d.pid) - rssBefore;
    console.log(
      `RSS grew by ${grown} KiB in ${((performance.now() - t0) / 1000).toFixed(1)} s of a stalled stderr (${flips} withdraw/advertise rounds)`,
    );
    expect(grown).toBeLessThan(10 * 1024);
    await sigtermExitsZero(d);
  });
});
