// StdioSink against real pipes (a child process's stdin: a reader that never reads, one that
// reads a little and exits, one already gone) and a real full file system.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StdioSink } from '../src/stdio-sink';
import { pollUntil } from '../../../test/helpers/poll.js';
import { Tmpfs, tmpfsUnavailableReason } from '../../../test/helpers/tmpfs.js';

const children: ChildProcess[] = [];
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const c of cleanups.splice(0)) c();
});

/** A child whose stdin is the pipe we write; `script` decides how it reads. */
function reader(script: string): { child: ChildProcess; exited: Promise<void> } {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited };
}

function recorder() {
  const reports: string[] = [];
  return {
    reports,
    monitor: { failing: (m: string) => void reports.push(`failing: ${m}`), recovered: (m: string) => void reports.push(`recovered: ${m}`) },
  };
}

const LINE = `${'x'.repeat(99)}\n`;

describe('StdioSink on a pipe', () => {
  it('a reader that never reads: the queue stays bounded, lines are dropped and counted, one report; reading again ends it with one notice', async () => {
    // Reads nothing until SIGUSR1, then everything, echoing what it got to its stdout.
    const { child } = reader(
      "process.on('SIGUSR1', () => { process.stdin.on('data', (d) => process.stdout.write(d)); }); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);",
    );
    let got = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      got += d;
    });
    await pollUntil(async () => (got === 'ready\n' ? true : undefined), { what: 'the reader to start', timeoutMs: 10_000 });
    const stdin = child.stdin;
    if (stdin === null) throw new Error('no stdin pipe');
    const max = 64 * 1024;
    const sink = new StdioSink('stderr', { stream: stdin, maxQueuedBytes: max });
    const { reports, monitor } = recorder();
    sink.monitor(monitor);
    let maxQueued = 0;
    for (let i = 0; i < 20_000; i += 1) {
      sink.write(LINE, 'info');
      maxQueued = Math.max(maxQueued, stdin.writableLength);
    }
    // 2 MB written; the kernel pipe holds 64 KiB at most, the queue at most `max` plus a line.
    expect(maxQueued).toBeLessThanOrEqual(max + LINE.length);
    expect(sink.lost).toBeGreaterThan(15_000);
    expect(sink.healthy).toBe(false);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(
      /^failing: stderr is not being read \(\d+ KiB are waiting\); log lines are dropped and counted until it drains$/,
    );
    const lost = sink.lost;
    child.kill('SIGUSR1');
    await pollUntil(async () => (sink.healthy ? true : undefined), { what: 'the sink to recover', timeoutMs: 5000 });
    expect(reports[1]).toBe(`recovered: writing log lines to stderr works again; ${lost} log lines were lost`);
    sink.write('after\n', 'info');
    await pollUntil(async () => (got.endsWith('after\n') ? true : undefined), { what: 'the line after the stall', timeoutMs: 5000 });
  });

  it('a reader that reads a little and exits: EPIPE is reported once, later lines are counted, nothing throws', async () => {
    const { child, exited } = reader("process.stdin.once('data', () => process.exit(0));");
    const stdin = child.stdin;
    if (stdin === null) throw new Error('no stdin pipe');
    const sink = new StdioSink('stdout', { stream: stdin });
    const { reports, monitor } = recorder();
    sink.monitor(monitor);
    sink.write(LINE, 'info');
    await exited;
    await pollUntil(
      async () => {
        sink.write(LINE, 'info');
        return sink.healthy ? undefined : true;
      },
      { what: 'EPIPE', timeoutMs: 5000 },
    );
    const lost = sink.lost;
    for (let i = 0; i < 1000; i += 1) sink.write(LINE, 'info');
    expect(sink.lost).toBe(lost + 1000);
    // EPIPE, or the child's stdin closed by child_process when it noticed the exit first.
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(
      /^failing: cannot write log lines to stdout: (EPIPE|the stream is closed); the reader is gone, its log lines are dropped and counted from now on$/,
    );
  });

  it('a reader gone before the first write: the same single report', async () => {
    const { child, exited } = reader('process.exit(0)');
    await exited;
    const stdin = child.stdin;
    if (stdin === null) throw new Error('no stdin pipe');
    const sink = new StdioSink('stderr', { stream: stdin });
    const { reports, monitor } = recorder();
    sink.write(LINE, 'info');
    await pollUntil(async () => (sink.healthy ? undefined : true), { what: 'EPIPE', timeoutMs: 5000 });
    // The monitor comes later (the daemon's logger exists after the first startup lines): the report waits for it.
    sink.monitor(monitor);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(
      /^failing: cannot write log lines to stderr: (EPIPE|the stream is closed); the reader is gone, its log lines are dropped and counted from now on$/,
    );
  });
});

const tmpfsReason = tmpfsUnavailableReason();
if (tmpfsReason !== null) console.warn(`skipping the full-disk StdioSink test: ${tmpfsReason}`);

describe.skipIf(tmpfsReason !== null)('StdioSink on a regular file', () => {
  it('a full file system loses lines, reports once, ends cut lines, and says how many were lost once it has room', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-stdio-tmpfs-'));
    const fs = await Tmpfs.mount(dir, 64);
    cleanups.push(() => {
      fs.unmount();
      rmdirSync(dir);
    });
    const path = join(dir, 'stderr.log');
    const fd = openSync(path, 'a');
    cleanups.unshift(() => closeSync(fd));
    const sink = new StdioSink('stderr', { fd });
    const { reports, monitor } = recorder();
    sink.monitor(monitor);
    sink.write('before\n', 'info');
    const filler = fs.fill();
    for (let i = 0; i < 200; i += 1) sink.write(LINE, 'info');
    expect(sink.healthy).toBe(false);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(
      /^failing: cannot write log lines to stderr: ENOSPC: no space left on device, write; they are dropped and counted until it works again$/,
    );
    const lost = sink.lost;
    expect(lost).toBeGreaterThan(0);
    fs.free(filler);
    sink.write('after\n', 'info');
    expect(reports[1]).toBe(`recovered: writing log lines to stderr works again; ${lost} log lines were lost`);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines[0]).toBe('before');
    // A line cut by the full disk stays cut, but the next one starts on a line of its own.
    expect(lines.filter((l) => !/^x*$/.test(l) && l !== 'before' && l !== 'after')).toEqual([]);
    expect(lines).toContain('after');
  });
});
