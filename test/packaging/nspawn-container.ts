// A throw-away systemd machine for testing the unit for real: a root file system (a cached
// debootstrap root, test/packaging/debian-root.ts, or this host's /) as the lower layer of an
// overlay whose upper layer is a tmpfs, booted with systemd-nspawn (own PID 1, own network
// namespace). Whatever happens inside (package installed, services started) lands in the tmpfs
// and vanishes with it; neither the host nor the cached root is modified.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ExecResult, exec, execSync } from '../helpers/exec.js';
import { delay, pollUntil } from '../helpers/poll.js';

export interface BootOptions {
  /** The root file system to boot (read-only lower layer); default `/`. */
  readonly lowerDir?: string;
  /** Host directory → path inside the container, read-only. */
  readonly bindReadOnly: ReadonlyArray<readonly [string, string]>;
  /** How long systemd may take to finish booting (default 30 s; a loaded machine needs more). */
  readonly bootTimeoutMs?: number;
  /** Files to remove in the container before it boots (e.g. usr/sbin/policy-rc.d). */
  readonly removeBeforeBoot?: readonly string[];
}

export class NspawnMachine {
  private constructor(
    private readonly base: string,
    private readonly nspawn: ChildProcess,
    private readonly leader: number,
    private readonly output: () => string,
  ) {}

  /** Boot it (to basic.target: no host services) and wait until systemd has finished starting. */
  static async boot(options: BootOptions): Promise<NspawnMachine> {
    const base = mkdtempSync(join(tmpdir(), 'ahc-nspawn-'));
    const root = join(base, 'root');
    let mounted = 0;
    try {
      await exec(['mount', '-t', 'tmpfs', '-o', 'mode=0700', 'tmpfs', base]);
      mounted = 1;
      for (const d of ['upper', 'work', 'root']) mkdirSync(join(base, d));
      await exec([
        'mount',
        '-t',
        'overlay',
        'overlay',
        '-o',
        `lowerdir=${options.lowerDir ?? '/'},upperdir=${join(base, 'upper')},workdir=${join(base, 'work')}`,
        root,
      ]);
      mounted = 2;
    } catch (error) {
      cleanupMounts(base, mounted);
      throw error;
    }
    for (const f of options.removeBeforeBoot ?? []) rmSync(join(root, f), { force: true });
    for (const [, inside] of options.bindReadOnly) mkdirSync(join(root, inside), { recursive: true });
    let log = '';
    const child = spawn(
      'systemd-nspawn',
      [
        '-D',
        root,
        '--register=no',
        '--keep-unit',
        '--link-journal=no',
        '--private-network',
        '--console=passive',
        `--machine=ahc-pkg-${process.pid}`,
        ...options.bindReadOnly.map(([host, inside]) => `--bind-ro=${host}:${inside}`),
        '--boot',
        'systemd.unit=basic.target',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (b: Buffer) => {
      log += b.toString();
    });
    child.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
    });
    let leader: number;
    try {
      leader = await pollUntil(
        async () => {
          if (child.exitCode !== null) throw new Error(`systemd-nspawn exited ${child.exitCode}`);
          const pid = await containerInit(child.pid ?? -1);
          // Until it has executed systemd it is still nspawn setting the container up: a
          // systemctl run in its namespaces then could reach a systemd outside the container.
          return pid !== undefined && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd' ? pid : undefined;
        },
        {
          what: "the container's init",
          timeoutMs: 15_000,
          intervalMs: 50,
        },
      );
    } catch (error) {
      child.kill('SIGKILL');
      await delay(200);
      cleanupMounts(base, mounted);
      throw new Error(`${(error as Error).message}\n${log}`);
    }
    const machine = new NspawnMachine(base, child, leader, () => log);
    let lastAnswer = '(no answer yet)';
    try {
      await pollUntil(
        async () => {
          if (child.exitCode !== null) throw new Error(`systemd-nspawn exited ${child.exitCode}`);
          const r = await machine.run('systemctl is-system-running', { allowFailure: true });
          lastAnswer = (r.stdout.trim() || r.stderr.trim()).slice(0, 500);
          const state = r.stdout.trim();
          return state === 'running' || state === 'degraded' ? state : undefined;
        },
        { what: 'systemd in the container to finish booting', timeoutMs: options.bootTimeoutMs ?? 30_000, intervalMs: 200 },
      );
    } catch (error) {
      const out = log;
      // What systemd was still waiting for: the jobs that kept it "starting".
      const jobs = await machine
        .run('systemctl is-system-running; systemctl list-jobs --no-pager; systemctl --failed --no-pager', {
          allowFailure: true,
          timeoutMs: 10_000,
        })
        .then(
          (r) => [r.stdout.trim(), r.stderr.trim()].filter(Boolean).join('\n'),
          (e: Error) => `(could not ask systemd: ${e.message})`,
        );
      await machine.destroy();
      throw new Error(
        `${(error as Error).message}\nthe last answer of systemctl is-system-running: ${lastAnswer}\nsystemd in the container (init PID ${leader}):\n${jobs}\n${out}`,
      );
    }
    return machine;
  }

  /** Run a shell command inside the container (all its namespaces). */
  run(command: string, options: { allowFailure?: boolean; timeoutMs?: number } = {}): Promise<ExecResult> {
    return exec(['nsenter', '-t', String(this.leader), '-a', '--', '/bin/sh', '-c', command], {
      allowFailure: options.allowFailure ?? false,
      timeoutMs: options.timeoutMs ?? 30_000,
    });
  }

  get consoleOutput(): string {
    return this.output();
  }

  /** Power it off (SIGTERM to nspawn asks systemd to shut down), then drop the overlay. */
  async destroy(): Promise<void> {
    if (this.nspawn.exitCode === null) {
      this.nspawn.kill('SIGTERM');
      const deadline = Date.now() + 15_000;
      while (this.nspawn.exitCode === null && this.nspawn.signalCode === null && Date.now() < deadline) await delay(100);
      if (this.nspawn.exitCode === null && this.nspawn.signalCode === null) {
        execSync(['kill', '-KILL', String(this.leader)]);
        this.nspawn.kill('SIGKILL');
        await delay(500);
      }
    }
    cleanupMounts(this.base, 2);
  }
}

/**
 * The container's init: the child of systemd-nspawn that lives in a PID namespace of its own.
 * nspawn first forks an "outer child" in our PID namespace, which forks the init and exits; a
 * leader taken from the outer child would be gone a moment later and every nsenter would fail.
 */
export function containerInit(nspawnPid: number): Promise<number | undefined> {
  const ours = readlinkSync('/proc/self/ns/pid');
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === nspawnPid && readlinkSync(`/proc/${entry}/ns/pid`) !== ours) return Promise.resolve(Number(entry));
    } catch {
      // gone
    }
  }
  return Promise.resolve(undefined);
}

function cleanupMounts(base: string, mounted: number): void {
  if (mounted >= 2 && execSync(['umount', join(base, 'root')]).code !== 0) execSync(['umount', '-l', join(base, 'root')]);
  if (mounted >= 1 && execSync(['umount', base]).code !== 0) execSync(['umount', '-l', base]);
  try {
    if (existsSync(base)) rmdirSync(base);
  } catch {
    // a lazily unmounted tmpfs may still be busy for a moment; it is empty either way
  }
}
