// The SpawnHelper client on the real ahc-spawn binary (built by the test setup into the app's
// dist, as `pnpm run build` does). Real processes; waits are deadline-bounded polls.
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SpawnHelper } from '../src/spawn-helper-client';
import type { SpawnHelperOptions } from '../src/spawn-helper-client';
import { runCommand } from '../src/run-command';
import type { CommandResult, RunCommandOptions } from '../src/run-command';

const BINARY = fileURLToPath(new URL('../../../apps/anycast-healthchecker/dist/ahc-spawn', import.meta.url));

interface Proc {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
}
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(name), state: f[0] ?? '', ppid: Number(f[1]), pgrp: Number(f[2]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
const live = (p: Proc): boolean => p.state !== 'Z';
const groupMembers = (pgrp: number): Proc[] => processes().filter((p) => p.pgrp === pgrp && live(p));
const childrenOf = (ppid: number): Proc[] => processes().filter((p) => p.ppid === ppid && live(p));

async function until<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const warnings: string[] = [];
const infos: string[] = [];
const helpers: SpawnHelper[] = [];
async function startHelper(over: Partial<SpawnHelperOptions> = {}): Promise<SpawnHelper> {
  const h = await SpawnHelper.start({
    binary: BINARY,
    log: { warning: (m) => warnings.push(m), info: (m) => infos.push(m) },
    restartDelayMs: () => 0,
    ...over,
  });
  helpers.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(helpers.splice(0).map((h) => h.close()));
  warnings.length = 0;
  infos.length = 0;
});

const opts = (over: Partial<RunCommandOptions> = {}): RunCommandOptions => ({ timeoutMs: 5000, ...over });

describe('SpawnHelper on the real ahc-spawn', () => {
  it('is built next to the bundle', () => {
    expect(existsSync(BINARY)).toBe(true);
  });

  it('reports exit codes and output with runCommand’s result shape', async () => {
    const h = await startHelper();
    const r = await h.run(['sh', '-c', 'echo out; echo err >&2; exit 3'], opts());
    const direct = await runCommand(['sh', '-c', 'echo out; echo err >&2; exit 3'], opts());
    expect(r).toEqual({ ...direct, durationMs: r.durationMs });
    expect(r).toMatchObject({
      code: 3,
      signal: null,
      timedOut: false,
      spawnError: null,
      stdout: 'out\n',
      stderr: 'err\n',
      truncated: false,
    });
    expect(r.durationMs).toBeGreaterThan(0);
    expect((await h.run(['true'], opts())).code).toBe(0);
    // it ran in the helper, not through runCommand
    expect(h.state()).toMatchObject({ state: 'running', fallbackRuns: 0, inFlight: 0, restarts: 0 });
  });

  it('runs in its own session, stdin /dev/null, default signal dispositions and an empty mask', async () => {
    const h = await startHelper();
    const r = await h.run(
      ['sh', '-c', 'ps -o sid= -o pgid= -p $$; readlink /proc/$$/fd/0; grep -E "^Sig(Blk|Ign)" /proc/self/status'],
      opts(),
    );
    const [ids, stdin, blk, ign] = r.stdout.trim().split('\n');
    const [sid, pgid] = (ids ?? '').trim().split(/\s+/);
    expect(sid).toBe(pgid);
    expect(stdin).toBe('/dev/null');
    expect(blk).toMatch(/^SigBlk:\s+0+$/);
    // signals 1..31 (32 and 33 are glibc's own, which no posix_spawn can reset, nor does runCommand)
    expect(BigInt(`0x${(ign ?? '').split(/\s+/)[1]}`) & 0x7fffffffn).toBe(0n);
  });

  it('reports the signal that killed a command', async () => {
    const h = await startHelper();
    const r = await h.run(['sh', '-c', 'kill -TERM $$'], opts());
    expect(r).toMatchObject({ code: null, signal: 'SIGTERM', timedOut: false, spawnError: null });
  });

  it('reports ENOENT as 127 and EACCES as 126, with Node’s spawn error message', async () => {
    const h = await startHelper();
    const missing = await h.run(['/nonexistent/check'], opts());
    expect(missing).toMatchObject({ code: 127, spawnError: { code: 'ENOENT', message: 'spawn /nonexistent/check ENOENT' } });
    const onPath = await h.run(['no-such-program-on-path-ahc'], opts());
    expect(onPath).toMatchObject({ code: 127, spawnError: { code: 'ENOENT' } });
    const dir = mkdtempSync(join(tmpdir(), 'ahc-spawn-'));
    const script = join(dir, 'not-executable');
    writeFileSync(script, '#!/bin/sh\nexit 0\n');
    chmodSync(script, 0o644);
    const denied = await h.run([script], opts());
    expect(denied).toMatchObject({ code: 126, spawnError: { code: 'EACCES', message: `spawn ${script} EACCES` } });
    expect(await runCommand([script], opts())).toMatchObject({ code: 126, spawnError: { code: 'EACCES' } });
  });

  it('runs a file without a #! line with /bin/sh, as Node’s spawn does (by path and on PATH)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-spawn-'));
    // the helper looks programs up on its own PATH, the daemon's at its start
    const path = process.env.PATH;
    process.env.PATH = `${dir}:${path ?? ''}`;
    const h = await startHelper().finally(() => {
      process.env.PATH = path;
    });
    const script = join(dir, 'no-shebang-check');
    writeFileSync(script, 'echo "ran $1"\nexit 4\n');
    chmodSync(script, 0o755);
    const direct = await runCommand([script, 'x'], opts());
    expect(direct).toMatchObject({ code: 4, stdout: 'ran x\n' });
    expect(await h.run([script, 'x'], opts())).toMatchObject({ code: 4, stdout: 'ran x\n', spawnError: null });
    const onPath = await h.run(['no-shebang-check', 'y'], opts());
    expect(onPath).toMatchObject({ code: 4, stdout: 'ran y\n' });
  });

  it('keeps at most maxOutputBytes of each stream and says it cut', async () => {
    const h = await startHelper();
    const r = await h.run(
      ['sh', '-c', 'head -c 100000 /dev/zero | tr "\\0" a; head -c 50 /dev/zero | tr "\\0" b >&2'],
      opts({ maxOutputBytes: 100 }),
    );
    expect(r.stdout).toBe('a'.repeat(100));
    expect(r.stderr).toBe('b'.repeat(50));
    expect(r.truncated).toBe(true);
    expect(r.code).toBe(0);
    const small = await h.run(['sh', '-c', 'printf 1234'], opts({ maxOutputBytes: 4 }));
    expect(small).toMatchObject({ stdout: '1234', truncated: false });
  });

  it('kills the whole process group of a command that times out', async () => {
    const h = await startHelper();
    const running = h.run(['sh', '-c', 'sleep 30 & sleep 30'], opts({ timeoutMs: 300 }));
    const helperPid = h.pid as number;
    const check = await until(() => childrenOf(helperPid)[0], 2000, 'the check to start');
    await until(() => groupMembers(check.pid).length >= 3, 2000, 'sh and its two sleeps');
    const r = await running;
    expect(r).toMatchObject({ timedOut: true, code: null, signal: 'SIGKILL' });
    expect(r.durationMs).toBeGreaterThanOrEqual(299);
    expect(r.durationMs).toBeLessThan(5000);
    // SIGKILL was sent before the result; the kernel tears the processes down right after
    await until(() => groupMembers(check.pid).length === 0, 1000, 'the group to be gone');
  });

  it('cancels a command when its signal aborts: the group is killed at once', async () => {
    const h = await startHelper();
    const abort = new AbortController();
    const running = h.run(['sh', '-c', 'sleep 30 & sleep 30'], opts({ timeoutMs: 60_000, signal: abort.signal }));
    const check = await until(() => childrenOf(h.pid as number)[0], 2000, 'the check to start');
    const t0 = performance.now();
    abort.abort();
    const r = await running;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r).toMatchObject({ timedOut: false, code: null, signal: 'SIGKILL' });
    await until(() => groupMembers(check.pid).length === 0, 1000, 'the group to be gone');
  });

  it('ends a run 50 ms after the exit when a process that left the group holds the pipes open', async () => {
    const h = await startHelper();
    const r = await h.run(['sh', '-c', 'setsid sleep 30 & echo $!'], opts({ timeoutMs: 10_000 }));
    const survivor = Number(r.stdout.trim());
    try {
      expect(r).toMatchObject({ code: 0, timedOut: false });
      expect(r.durationMs).toBeGreaterThanOrEqual(45);
      expect(r.durationMs).toBeLessThan(2000);
      // it left the group, so the group kill did not reach it (as with runCommand)
      expect(processes().some((p) => p.pid === survivor && live(p))).toBe(true);
    } finally {
      process.kill(survivor, 'SIGKILL');
    }
  });

  it('kills what a command left in its group when it exits', async () => {
    const h = await startHelper();
    const r = await h.run(['sh', '-c', 'sleep 30 >/dev/null 2>&1 & echo $!'], opts());
    const left = Number(r.stdout.trim());
    await until(() => !processes().some((p) => p.pid === left && live(p)), 2000, 'the background job to be killed');
  });

  it('runs many commands at once', async () => {
    const h = await startHelper();
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => h.run(['sh', '-c', `echo ${i}; exit ${i % 5}`], opts())));
    results.forEach((r, i) => expect(r).toMatchObject({ stdout: `${i}\n`, code: i % 5 }));
    expect(h.state()).toMatchObject({ inFlight: 0, fallbackRuns: 0 });
  });

  it('survives SIGKILL of the helper: running commands are run again and succeed, their groups killed, the helper is back', async () => {
    const h = await startHelper();
    const first = h.pid as number;
    const runs: Promise<CommandResult>[] = Array.from({ length: 5 }, (_, i) =>
      h.run(['sh', '-c', `sleep 30 & sleep 1; echo ok ${i}`], opts()),
    );
    const started = await until(
      () => {
        const c = childrenOf(first);
        return c.length === 5 ? c : undefined;
      },
      3000,
      '5 checks to start',
    );
    await until(() => started.every((c) => groupMembers(c.pid).length === 3), 3000, 'their background sleeps');
    process.kill(first, 'SIGKILL');
    const results = await Promise.all(runs);
    results.forEach((r, i) => expect(r).toMatchObject({ code: 0, stdout: `ok ${i}\n`, timedOut: false, spawnError: null }));
    await until(() => started.every((c) => groupMembers(c.pid).length === 0), 1000, 'the orphaned groups to be gone');
    const state = h.state();
    expect(state).toMatchObject({ state: 'running', restarts: 1, rerunsAfterDeath: 5, fallbackRuns: 0 });
    expect(state.pid).not.toBe(first);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/was killed by SIGKILL; 5 running checks are run again/);
    // later commands go through the new helper: their parent is it
    const after = await h.run(['sh', '-c', 'echo $PPID'], opts());
    expect(Number(after.stdout.trim())).toBe(state.pid);
  });

  it('runs a command directly when the helper is full (EAGAIN), rather than fail it', async () => {
    process.env.AHC_SPAWN_MAX_JOBS = '1';
    const h = await startHelper().finally(() => {
      delete process.env.AHC_SPAWN_MAX_JOBS;
    });
    const results = await Promise.all([1, 2, 3].map((i) => h.run(['sh', '-c', `sleep 0.2; echo ${i}`], opts())));
    results.forEach((r, i) => expect(r).toMatchObject({ code: 0, stdout: `${i + 1}\n`, spawnError: null }));
    expect(h.state().fallbackRuns).toBe(2);
  });

  it('runs commands directly while the helper waits for its restart', async () => {
    const h = await startHelper({ restartDelayMs: () => 60_000 });
    process.kill(h.pid as number, 'SIGKILL');
    await until(() => h.state().state === 'restarting', 2000, 'the death to be noticed');
    const r = await h.run(['sh', '-c', 'echo direct'], opts());
    expect(r).toMatchObject({ code: 0, stdout: 'direct\n' });
    expect(h.state()).toMatchObject({ fallbackRuns: 1, pid: null });
  });

  it('treats a helper that writes garbage as dead, and the command still runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-spawn-'));
    const fake = join(dir, 'garbage-helper');
    writeFileSync(fake, '#!/bin/sh\nhead -c 4 >/dev/null\nprintf "\\001\\000\\000\\000\\177"\nexec sleep 30\n');
    chmodSync(fake, 0o755);
    const h = await startHelper({ binary: fake, restartDelayMs: (n) => (n === 0 ? 0 : 60_000) });
    const r = await h.run(['sh', '-c', 'echo fine'], opts());
    expect(r).toMatchObject({ code: 0, stdout: 'fine\n' });
    expect(warnings.join('\n')).toMatch(/wrote what is not in the protocol \(AHC_SPAWN_PROTOCOL: unknown reply type 0x7f\)/);
  });

  it('cannot start when the binary is missing', async () => {
    await expect(startHelper({ binary: '/nonexistent/ahc-spawn' })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
