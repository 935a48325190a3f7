import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, runCommand } from '../src/run-command';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

describe('runCommand', () => {
  it('reports the exit code and captured output of a command', async () => {
    const r = await runCommand(['sh', '-c', 'echo out; echo err >&2; exit 3'], { timeoutMs: 5000 });
    expect(r).toMatchObject({ code: 3, timedOut: false, spawnError: null, stdout: 'out\n', stderr: 'err\n' });
    expect(describeResult(r)).toBe('exited with code 3');
  });

  it('runs without a shell: shell syntax is passed as plain arguments', async () => {
    const r = await runCommand(['/bin/echo', '$HOME', '&&', 'false'], { timeoutMs: 5000 });
    expect(r.stdout).toBe('$HOME && false\n');
    expect(r.code).toBe(0);
  });

  it('reports a missing program as code 127 with the reason, without throwing', async () => {
    const r = await runCommand(['/nonexistent/check'], { timeoutMs: 5000 });
    expect(r.code).toBe(127);
    expect(r.spawnError?.code).toBe('ENOENT');
    expect(describeResult(r)).toMatch(/could not be started/);
  });

  it('reports a non-executable program as code 126', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-cmd-'));
    const f = join(dir, 'noexec.sh');
    writeFileSync(f, '#!/bin/sh\nexit 0\n');
    chmodSync(f, 0o644);
    const r = await runCommand([f], { timeoutMs: 5000 });
    expect(r.code).toBe(126);
  });

  it('on timeout kills the whole process group, grandchildren included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-cmd-'));
    const pidFile = join(dir, 'grandchild.pid');
    const started = Date.now();
    const r = await runCommand(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await until(() => existsSync(pidFile), 2000)).toBe(true);
    const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
    expect(await until(() => !isAlive(grandchild), 3000)).toBe(true);
  });

  it('does not wait for a background grandchild that keeps the output pipe open', async () => {
    const started = Date.now();
    const r = await runCommand(['sh', '-c', 'sleep 5 & echo done'], { timeoutMs: 10_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('done\n');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  describe('leaves nothing behind: a background job that ignores SIGTERM and holds stdout open', () => {
    /** `sh -c` that starts such a job, writes its pid to a file, then runs `rest`. */
    function leaver(pidFile: string, rest: string): string[] {
      return ['sh', '-c', `(trap '' TERM; exec sleep 60) & echo $! > ${pidFile}; ${rest}`];
    }

    async function leftover(pidFile: string): Promise<number> {
      expect(await until(() => existsSync(pidFile), 2000)).toBe(true);
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      expect(pid).toBeGreaterThan(1);
      return pid;
    }

    it('is killed when the command exits 0 on its own', async () => {
      const pidFile = join(mkdtempSync(join(tmpdir(), 'ahc-cmd-')), 'job.pid');
      const started = Date.now();
      const r = await runCommand(leaver(pidFile, 'echo done; exit 0'), { timeoutMs: 10_000 });
      expect(r).toMatchObject({ code: 0, timedOut: false, stdout: 'done\n' });
      expect(Date.now() - started).toBeLessThan(3000);
      const job = await leftover(pidFile);
      expect(await until(() => !isAlive(job), 3000)).toBe(true);
    });

    it('is killed when the command times out', async () => {
      const pidFile = join(mkdtempSync(join(tmpdir(), 'ahc-cmd-')), 'job.pid');
      const r = await runCommand(leaver(pidFile, "trap '' TERM; sleep 60"), { timeoutMs: 300 });
      expect(r.timedOut).toBe(true);
      const job = await leftover(pidFile);
      expect(await until(() => !isAlive(job), 3000)).toBe(true);
    });

    it('a process that left the group (daemonized with setsid) is not touched', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ahc-cmd-'));
      const pidFile = join(dir, 'daemon.pid');
      // The parent exits only once the daemon runs in its own session, as a careful daemonizer does.
      const r = await runCommand(
        [
          'sh',
          '-c',
          `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 60' >/dev/null 2>&1 & until [ -s ${pidFile} ]; do :; done; echo started`,
        ],
        { timeoutMs: 10_000 },
      );
      expect(r).toMatchObject({ code: 0, stdout: 'started\n' });
      const daemon = Number(readFileSync(pidFile, 'utf8').trim());
      try {
        // An observation window, not a synchronisation: the group kill was sent before runCommand
        // resolved, so a wrongly killed daemon would be gone well within it.
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(isAlive(daemon)).toBe(true);
      } finally {
        process.kill(daemon, 'SIGKILL');
      }
    });

    it('is killed when the run is aborted', async () => {
      const pidFile = join(mkdtempSync(join(tmpdir(), 'ahc-cmd-')), 'job.pid');
      const ac = new AbortController();
      const p = runCommand(leaver(pidFile, "trap '' TERM; sleep 60"), { timeoutMs: 60_000, signal: ac.signal });
      const job = await leftover(pidFile);
      ac.abort();
      expect((await p).signal).toBe('SIGKILL');
      expect(await until(() => !isAlive(job), 3000)).toBe(true);
    });
  });

  it('keeps at most maxOutputBytes of each stream and says it cut', async () => {
    const r = await runCommand(['sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" x; exit 1'], { timeoutMs: 5000, maxOutputBytes: 1000 });
    expect(r.stdout.length).toBe(1000);
    expect(r.truncated).toBe(true);
    expect(r.code).toBe(1);
  });

  it('an aborted signal kills the command at once', async () => {
    const ac = new AbortController();
    const p = runCommand(['sleep', '30'], { timeoutMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const r = await p;
    expect(r.signal).toBe('SIGKILL');
  });

  it('a signal aborted before the run starts nothing (its abort event has fired already)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-run-'));
    const marker = join(dir, 'ran');
    const ac = new AbortController();
    ac.abort();
    const started = performance.now();
    const r = await runCommand(['/bin/sh', '-c', `touch ${marker}; sleep 30`], { timeoutMs: 60_000, signal: ac.signal });
    expect(r).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: false, spawnError: null });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(existsSync(marker)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});
