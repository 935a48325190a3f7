// The built CLI as a child process: build once if needed, run it, follow a daemon's output,
// and temp directories with a working daemon configuration (every path inside the temp dir).
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../../node_modules/.bin/anycast-healthchecker', import.meta.url));

/** For beforeAll: build the program (esbuild, about 1 s, and its C parts) unless dist/ has it. */
export function ensureBuilt(): void {
  if (['main.mjs', 'check-worker.mjs', 'ahc-release-pages.node'].every((f) => existsSync(join(APP_DIR, 'dist', f)))) return;
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: APP_DIR, stdio: 'inherit' });
}

export function appVersion(): string {
  return (JSON.parse(readFileSync(join(APP_DIR, 'package.json'), 'utf8')) as { version: string }).version;
}

const made: string[] = [];

export function makeTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ahc-${label}-`));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the CLI to completion (SIGKILL at the deadline, which fails the caller's assertions). */
export function runCli(args: readonly string[], timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Call `probe` every 20 ms until it returns something other than undefined; throw at the deadline. */
export async function pollUntil<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000, describe?: () => string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe === undefined ? '' : `\n${describe()}`}`);
    }
    await delay(20);
  }
}

export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export interface DaemonExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const running = new Set<DaemonProcess>();

/** A daemon started from the CLI; every output line is kept. */
export class DaemonProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<DaemonExit>;
  #exit: DaemonExit | undefined;

  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.lines.push(line));
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        running.delete(this);
        resolve(this.#exit);
      });
    });
    running.add(this);
  }

  static start(args: readonly string[], env: NodeJS.ProcessEnv = process.env): DaemonProcess {
    return new DaemonProcess(spawn(CLI, args, { stdio: ['ignore', 'pipe', 'pipe'], env }));
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the daemon did not start');
    return this.child.pid;
  }

  get exit(): DaemonExit | undefined {
    return this.#exit;
  }

  /** Wait for an output line (at index `from` or later) matching `pattern`; resolves with its
   * index. Fails early if the daemon exits. */
  waitForLine(pattern: RegExp, timeoutMs = 10_000, from = 0): Promise<number> {
    return pollUntil(
      `a line matching ${String(pattern)}`,
      () => {
        const at = this.lines.findIndex((l, i) => i >= from && pattern.test(l));
        if (at === -1 && this.#exit !== undefined) {
          throw new Error(`the daemon exited (${this.#exit.code ?? this.#exit.signal}) before printing ${String(pattern)}\n${this.tail()}`);
        }
        return at === -1 ? undefined : at;
      },
      timeoutMs,
      () => this.tail(),
    );
  }

  /** Wait for the exit, at most `timeoutMs` (then SIGKILL and throw). */
  async waitForExit(timeoutMs = 10_000): Promise<DaemonExit> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const result = await Promise.race([this.exited, deadline]);
    clearTimeout(timer);
    if (result !== 'timeout') return result;
    this.child.kill('SIGKILL');
    await this.exited;
    throw new Error(`the daemon did not exit within ${timeoutMs} ms; killed\n${this.tail()}`);
  }

  /** Send `signal` and wait for the exit. */
  stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<DaemonExit> {
    if (this.#exit !== undefined) return Promise.resolve(this.#exit);
    this.child.kill(signal);
    return this.waitForExit(timeoutMs);
  }

  tail(n = 40): string {
    return this.lines
      .slice(-n)
      .map((l) => `  | ${l}`)
      .join('\n');
  }
}

/** For afterEach: kill daemons a failed test left running. */
export async function killDaemons(): Promise<void> {
  for (const daemon of [...running]) {
    daemon.child.kill('SIGKILL');
    await daemon.exited;
  }
}

/** A process id that is not running any more (a finished child's). */
export function deadPid(): number {
  const pid = Number(execFileSync('/bin/sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
  try {
    process.kill(pid, 0);
  } catch {
    return pid;
  }
  throw new Error(`pid ${pid} is still alive`);
}

export interface DaemonSetup {
  readonly root: string;
  readonly file: string;
  readonly dir: string;
  readonly pidfile: string;
  readonly birdConf: string;
  readonly instanceLock: string;
  /** `-f FILE -d DIR` */
  readonly args: readonly string[];
}

export interface ServiceSpec {
  readonly name: string;
  readonly prefix: string;
  readonly checkCmd?: string;
  readonly interval?: number;
  readonly disabled?: boolean;
}

export function serviceText(spec: ServiceSpec): string {
  const interval = spec.interval ?? 0.3;
  return [
    `[${spec.name}]`,
    `check_cmd = ${spec.checkCmd ?? '/bin/true'}`,
    `ip_prefix = ${spec.prefix}`,
    `check_disabled = ${spec.disabled === true ? 'true' : 'false'}`,
    'ip_check_disabled = true',
    `check_interval = ${interval}`,
    `check_timeout = ${Math.min(interval, 0.2)}`,
    'check_rise = 1',
    'check_fail = 1',
    '',
  ].join('\n');
}

export function uniqueLockName(): string {
  return `ahc-test-${randomBytes(6).toString('hex')}`;
}

/**
 * A daemon configuration in a fresh temp dir: prefix file, pidfile and a reconfigure stand-in
 * that prints `Reconfigured`, a unique instance_lock, and one file per service.
 */
export function writeDaemonSetup(services: readonly ServiceSpec[], daemon: Record<string, string> = {}): DaemonSetup {
  const root = makeTempDir('daemon');
  const dir = join(root, 'services.d');
  mkdirSync(dir);
  const reconfigure = join(root, 'reconfigure.sh');
  writeFileSync(reconfigure, '#!/bin/sh\necho Reconfigured\n');
  chmodSync(reconfigure, 0o755);
  const options: Record<string, string> = {
    pidfile: join(root, 'ahc.pid'),
    state_dir: join(root, 'state'),
    bird_conf: join(root, 'anycast-prefixes.conf'),
    bird6_conf: join(root, 'anycast-prefixes6.conf'),
    bird_reconfigure_cmd: reconfigure,
    bird6_reconfigure_cmd: reconfigure,
    instance_lock: uniqueLockName(),
    loglevel: 'debug',
    ...daemon,
  };
  const file = join(root, 'anycast-healthchecker.conf');
  writeFileSync(
    file,
    `[daemon]\n${Object.entries(options)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}\n`,
  );
  for (const spec of services) writeFileSync(join(dir, `${spec.name}.conf`), serviceText(spec));
  return {
    root,
    file,
    dir,
    pidfile: options.pidfile as string,
    birdConf: options.bird_conf as string,
    instanceLock: options.instance_lock as string,
    args: ['-f', file, '-d', dir],
  };
}
