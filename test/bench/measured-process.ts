// One process under measurement: spawned with its output in a log file, awaited until it is up
// (by its log and by its main thread idling in epoll, never by a fixed sleep), sampled once a
// second from /proc over the window, then stopped with SIGTERM.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { delay, median, pollUntil } from '../helpers/poll.js';
import { KIB_PER_MIB, mainThreadInEpoll, readCpuTicks, readMemory } from './proc-stats.js';
import type { MemorySample } from './proc-stats.js';

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface WindowMeasurement {
  readonly samples: number;
  readonly windowSeconds: number;
  readonly rssMedianMiB: number;
  readonly rssMinMiB: number;
  readonly rssMaxMiB: number;
  /** Median of the last END_SAMPLES samples: where RSS settles once V8's memory reducer ran. */
  readonly rssEndMiB: number;
  /** VmHWM at the end of the window: the peak since start, startup included. */
  readonly hwmMiB: number;
  readonly threads: number;
  readonly cpuSeconds: number;
  readonly cpuSecondsPerMinute: number;
}

/** New complete lines of a growing log file, read from where the last call stopped. */
export class LogTail {
  #offset = 0;
  #partial = '';

  constructor(private readonly file: string) {}

  readNewLines(): string[] {
    const fd = openSync(this.file, 'r');
    try {
      const chunks: Buffer[] = [];
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, this.#offset);
        if (n === 0) break;
        this.#offset += n;
        chunks.push(Buffer.from(buffer.subarray(0, n)));
      }
      const text = this.#partial + Buffer.concat(chunks).toString('utf8');
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? '';
      return lines;
    } finally {
      closeSync(fd);
    }
  }
}

const SAMPLE_INTERVAL_MS = 1000;
const END_SAMPLES = 10;
const STOP_TIMEOUT_MS = 15_000;

export class MeasuredProcess {
  readonly exited: Promise<ProcessExit>;
  #exit: ProcessExit | undefined;
  readonly #child: ChildProcess;

  /** Start `command args` with stdout and stderr appended to `logFile`. */
  constructor(
    command: string,
    args: readonly string[],
    readonly logFile: string,
    env: NodeJS.ProcessEnv,
  ) {
    const logFd = openSync(logFile, 'a');
    try {
      this.#child = spawn(command, args, { stdio: ['ignore', logFd, logFd], env });
    } finally {
      closeSync(logFd);
    }
    this.exited = new Promise((resolve, reject) => {
      this.#child.once('error', reject);
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    this.exited.catch(() => undefined);
  }

  get pid(): number {
    const pid = this.#child.pid;
    if (pid === undefined) throw new Error(`process for ${this.logFile} did not start`);
    return pid;
  }

  get exit(): ProcessExit | undefined {
    return this.#exit;
  }

  #assertRunning(what: string): void {
    if (this.#exit !== undefined) {
      throw new Error(`process exited (code ${this.#exit.code}, signal ${this.#exit.signal}) ${what}; see ${this.logFile}`);
    }
  }

  /** Wait until `probe(newLines)` returns true; lines are fed once each, in order. */
  async waitForLog(tail: LogTail, probe: (lines: readonly string[]) => boolean, what: string, timeoutMs: number): Promise<void> {
    await pollUntil(
      () => {
        this.#assertRunning(`while waiting for ${what}`);
        return Promise.resolve(probe(tail.readNewLines()) ? true : undefined);
      },
      { what, timeoutMs, intervalMs: 50 },
    );
  }

  /**
   * Wait until the main thread waits in epoll on several consecutive polls. Where the kernel hides
   * wait channels, wait until the CPU time stops growing for a few polls instead.
   */
  async waitForIdleMainThread(timeoutMs: number): Promise<void> {
    let calm = 0;
    let lastTicks = -1;
    await pollUntil(
      () => {
        this.#assertRunning('while waiting for it to go idle');
        const inEpoll = mainThreadInEpoll(this.pid);
        const ticks = readCpuTicks(this.pid) ?? -1;
        const idle = inEpoll ?? ticks === lastTicks;
        lastTicks = ticks;
        calm = idle ? calm + 1 : 0;
        return Promise.resolve(calm >= 3 ? true : undefined);
      },
      { what: 'an idle main thread', timeoutMs, intervalMs: 20 },
    );
  }

  /** Sample memory every second for `seconds` seconds; CPU time at the first and last sample. */
  async measure(seconds: number, ticksPerSecond: number): Promise<WindowMeasurement> {
    const samples: MemorySample[] = [];
    const start = performance.now();
    const cpuStart = readCpuTicks(this.pid);
    let cpuEnd = cpuStart;
    let end = start;
    for (let i = 0; i <= seconds; i += 1) {
      await delay(Math.max(0, start + i * SAMPLE_INTERVAL_MS - performance.now()));
      this.#assertRunning('during the measurement window');
      const sample = readMemory(this.pid);
      if (sample === undefined) throw new Error(`process ${this.pid} vanished during the measurement window; see ${this.logFile}`);
      samples.push(sample);
      if (i === seconds) {
        cpuEnd = readCpuTicks(this.pid);
        end = performance.now();
      }
    }
    const last = samples.at(-1);
    if (cpuStart === undefined || cpuEnd === undefined || last === undefined) throw new Error(`lost /proc/${this.pid} while measuring`);
    const rss = samples.map((s) => s.rssKiB / KIB_PER_MIB);
    const windowSeconds = (end - start) / 1000;
    const cpuSeconds = (cpuEnd - cpuStart) / ticksPerSecond;
    return {
      samples: samples.length,
      windowSeconds,
      rssMedianMiB: median(rss),
      rssMinMiB: Math.min(...rss),
      rssMaxMiB: Math.max(...rss),
      rssEndMiB: median(rss.slice(-END_SAMPLES)),
      hwmMiB: last.hwmKiB / KIB_PER_MIB,
      threads: last.threads,
      cpuSeconds,
      cpuSecondsPerMinute: windowSeconds > 0 ? (cpuSeconds * 60) / windowSeconds : 0,
    };
  }

  /** SIGTERM, then SIGKILL if it has not exited after STOP_TIMEOUT_MS. */
  async stop(): Promise<ProcessExit> {
    if (this.#exit !== undefined) return this.#exit;
    this.#child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
    });
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    this.#child.kill('SIGKILL');
    return this.exited;
  }
}
