// ahc-spawn spoken to directly, without the client: how it ends (EOF, a malformed frame, the
// daemon's death), its job limit's reply and its size. Real processes; deadline-bounded polls.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplyDecoder, encodeCancel, encodeRun } from '../src/spawn-protocol';
import type { SpawnReply } from '../src/spawn-protocol';

const BINARY = fileURLToPath(new URL('../../../apps/anycast-healthchecker/dist/ahc-spawn', import.meta.url));

type Helper = ChildProcessByStdio<Writable, Readable, Readable>;
const started: Helper[] = [];
afterEach(() => {
  for (const h of started.splice(0)) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
});

function start(
  args: string[] = [String(process.pid)],
  env: NodeJS.ProcessEnv = process.env,
): {
  helper: Helper;
  replies: SpawnReply[];
  stderr: () => string;
  exit: Promise<number | null>;
} {
  const helper = spawn(BINARY, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  started.push(helper);
  const decoder = new ReplyDecoder();
  const replies: SpawnReply[] = [];
  let err = '';
  helper.stdout.on('data', (chunk: Buffer) => replies.push(...decoder.push(chunk)));
  helper.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => helper.once('close', (code) => resolve(code)));
  return { helper, replies, stderr: () => err, exit };
}

async function until<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function groupAlive(pgrp: number): boolean {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgrp && f[0] !== 'Z') return true;
    } catch {
      // gone
    }
  }
  return false;
}
const startedPid = (replies: SpawnReply[], id: number): number | undefined => {
  const r = replies.find((x) => x.type === 'started' && x.id === id);
  return r?.type === 'started' ? r.pid : undefined;
};

describe('ahc-spawn, raw', () => {
  it('answers run with started then done, and a cancel with an aborted done', async () => {
    const { helper, replies } = start();
    helper.stdin.write(encodeRun({ id: 1, timeoutMs: 5000, maxOutput: 100, argv: ['sh', '-c', 'echo hi'] }));
    helper.stdin.write(encodeRun({ id: 2, timeoutMs: 60_000, maxOutput: 100, argv: ['sleep', '30'] }));
    const pid = await until(() => startedPid(replies, 2), 3000, 'started 2');
    helper.stdin.write(encodeCancel(2));
    helper.stdin.write(encodeCancel(77)); // not running: ignored
    await until(() => replies.filter((r) => r.type === 'done').length === 2, 3000, 'two done');
    const done = replies.filter((r) => r.type === 'done');
    expect(done.find((r) => r.id === 1)).toMatchObject({ kind: 'exited', code: 0, stdout: Buffer.from('hi\n') });
    expect(done.find((r) => r.id === 2)).toMatchObject({ kind: 'aborted', code: null, signal: 9 });
    expect(groupAlive(pid)).toBe(false);
    expect(replies.findIndex((r) => r.type === 'started' && r.id === 1)).toBeLessThan(
      replies.findIndex((r) => r.type === 'done' && r.id === 1),
    );
  });

  it('exits 0 at EOF on stdin, killing the groups of what still runs', async () => {
    const { helper, replies, exit } = start();
    helper.stdin.write(encodeRun({ id: 1, timeoutMs: 60_000, maxOutput: 100, argv: ['sh', '-c', 'sleep 30 & sleep 30'] }));
    const pid = await until(() => startedPid(replies, 1), 3000, 'started');
    helper.stdin.end();
    expect(await exit).toBe(0);
    await until(() => !groupAlive(pid), 2000, 'the group to be gone');
  });

  it.each([
    ['an unknown type', Buffer.from([5, 0, 0, 0, 0x09, 1, 0, 0, 0]), /unknown message type 0x09/],
    ['a frame too long', Buffer.from([0xff, 0xff, 0xff, 0x7f]), /frame of \d+ bytes \(at most/],
    ['argc past the frame', Buffer.from([17, 0, 0, 0, 0x01, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0]), /argc 9/],
    ['a cancel of the wrong size', Buffer.from([6, 0, 0, 0, 0x02, 1, 0, 0, 0, 0]), /cancel frame of 6 bytes/],
  ])('exits 2 with a message on stderr at %s', async (_what, frame, message) => {
    const { helper, stderr, exit } = start();
    helper.stdin.write(frame);
    expect(await exit).toBe(2);
    expect(stderr()).toMatch(message);
  });

  it('exits 2 at a run whose id is running', async () => {
    const { helper, replies, stderr, exit } = start();
    helper.stdin.write(encodeRun({ id: 5, timeoutMs: 60_000, maxOutput: 1, argv: ['sleep', '30'] }));
    const pid = await until(() => startedPid(replies, 5), 3000, 'started');
    helper.stdin.write(encodeRun({ id: 5, timeoutMs: 60_000, maxOutput: 1, argv: ['sleep', '30'] }));
    expect(await exit).toBe(2);
    expect(stderr()).toMatch(/run of id 5, which is running/);
    process.kill(-pid, 'SIGKILL'); // what a daemon does with the groups of a dead helper
  });

  it('refuses a run beyond its job limit with spawn-error EAGAIN', async () => {
    const { helper, replies } = start([String(process.pid)], { ...process.env, AHC_SPAWN_MAX_JOBS: '2' });
    for (let id = 1; id <= 3; id++) helper.stdin.write(encodeRun({ id, timeoutMs: 60_000, maxOutput: 1, argv: ['sleep', '30'] }));
    await until(() => replies.length === 3, 3000, 'three replies');
    expect(replies.find((r) => r.id === 3)).toMatchObject({ type: 'done', kind: 'spawn-error', code: 126, errno: 'EAGAIN' });
    expect(replies.filter((r) => r.type === 'started').map((r) => r.id)).toEqual([1, 2]);
    helper.stdin.end();
  });

  it('leaves at once when its parent is not the one named', async () => {
    const { exit } = start(['1']);
    expect(await exit).toBe(0);
  });

  it('reports an empty program as ENOENT without spawning', async () => {
    const { helper, replies } = start();
    helper.stdin.write(encodeRun({ id: 1, timeoutMs: 1000, maxOutput: 1, argv: [''] }));
    await until(() => replies.length === 1, 3000, 'done');
    expect(replies[0]).toMatchObject({ type: 'done', kind: 'spawn-error', code: 127, errno: 'ENOENT' });
  });

  it('stays small: about 1 MiB resident with 200 jobs running', async () => {
    const { helper, replies } = start();
    for (let id = 1; id <= 200; id++) helper.stdin.write(encodeRun({ id, timeoutMs: 60_000, maxOutput: 4096, argv: ['sleep', '30'] }));
    await until(() => replies.filter((r) => r.type === 'started').length === 200, 10_000, '200 started');
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${helper.pid}/status`, 'utf8'))?.[1]);
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThan(4 * 1024);
    helper.stdin.end();
  });
});
