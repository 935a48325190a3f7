// A process whose whole tree is measured (proc-tree.ts): spawned with its output in a log file,
// stopped with SIGTERM (SIGKILL after a grace period); and the network namespace the measured
// daemons run in, with every service's prefix on its `lo` so that the IP check finds them.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execSync } from '../helpers/exec.js';
import { pollUntil } from '../helpers/poll.js';

const STOP_TIMEOUT_MS = 20_000;

export interface Exit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** The environment of every measured process: ours without NODE_OPTIONS (flags go in explicitly). */
export function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return env;
}

export class TreeProcess {
  readonly child: ChildProcess;
  exit: Exit | undefined;
  readonly exited: Promise<void>;

  constructor(
    argv: readonly string[],
    readonly logFile: string,
  ) {
    const fd = openSync(logFile, 'a');
    try {
      this.child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', fd, fd], env: childEnv() });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`process for ${this.logFile} did not start`);
    return this.child.pid;
  }

  alive(what: string): void {
    if (this.exit !== undefined) throw new Error(`process exited (${JSON.stringify(this.exit)}) ${what}; see ${this.logFile}`);
  }

  /** pollUntil, but rejects at once when the process exits meanwhile. */
  async until(probe: () => boolean, what: string, timeoutMs: number, intervalMs = 100): Promise<void> {
    const died = this.exited.then(() => {
      throw new Error(`process exited (${JSON.stringify(this.exit)}) while waiting for ${what}; see ${this.logFile}`);
    });
    died.catch(() => undefined);
    await Promise.race([died, pollUntil(async () => (probe() ? true : undefined), { what, timeoutMs, intervalMs })]);
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<Exit> {
    if (this.exit === undefined) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(t);
    }
    return this.exit ?? { code: null, signal: null };
  }
}

/** How many of `prefixes` a BIRD prefix file lists now. */
export function prefixesListed(file: string, prefixes: readonly string[]): number {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  const listed = new Set(text.match(/\d+\.\d+\.\d+\.\d+\/\d+/g) ?? []);
  return prefixes.filter((p) => listed.has(p)).length;
}

/** A fresh namespace `ns` with `lo` up and holding `prefixes` (one `ip -batch`). */
export function createPrefixNamespace(ns: string, prefixes: readonly string[]): void {
  execSync(['ip', 'netns', 'del', ns]);
  const must = (argv: string[]): void => {
    const r = execSync(argv, 60_000);
    if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  };
  must(['ip', 'netns', 'add', ns]);
  must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  const batch = join(tmpdir(), `${ns}.batch`);
  writeFileSync(batch, prefixes.map((p) => `address add ${p} dev lo\n`).join(''));
  try {
    must(['ip', '-n', ns, '-batch', batch]);
  } finally {
    rmSync(batch, { force: true });
  }
}

export function deleteNamespace(ns: string): void {
  execSync(['ip', 'netns', 'del', ns]);
}

/** A benchmark knob from the environment: a non-negative integer, or `fallback` when unset. */
export function intSetting(name: string, fallback: number): number {
  const v = Number(process.env[name] ?? String(fallback));
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer, got ${process.env[name]}`);
  return v;
}
