import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandResult } from '@ahc/command';
import { classifyConfigureStatus, configureStatusArgv, waitForConfigureIdle } from '../src/index';
import { makeTempDir, removeTempDir } from './fixture';

function answer(stdout: string, code: number | null = 0, extra: Partial<CommandResult> = {}): CommandResult {
  return { code, signal: null, timedOut: false, spawnError: null, stdout, stderr: '', truncated: false, durationMs: 1, ...extra };
}

describe('configureStatusArgv', () => {
  it('asks the same birdc, with the same socket and sudo, for configure status', () => {
    expect(configureStatusArgv(['birdc', 'configure'])).toEqual(['birdc', 'configure', 'status']);
    expect(configureStatusArgv(['sudo', '/usr/sbin/birdc', 'configure'])).toEqual(['sudo', '/usr/sbin/birdc', 'configure', 'status']);
    expect(configureStatusArgv(['/usr/sbin/birdc6', '-s', '/run/bird6.ctl', 'configure'])).toEqual([
      '/usr/sbin/birdc6',
      '-s',
      '/run/bird6.ctl',
      'configure',
      'status',
    ]);
    expect(configureStatusArgv(['ip', 'netns', 'exec', 'n1', '/opt/bird/bin/birdcl', 'configure'])).toEqual([
      'ip',
      'netns',
      'exec',
      'n1',
      '/opt/bird/bin/birdcl',
      'configure',
      'status',
    ]);
  });

  it('drops what follows configure (a file name, soft, timeout)', () => {
    expect(configureStatusArgv(['birdc', 'configure', 'soft', '"/etc/bird.conf"'])).toEqual(['birdc', 'configure', 'status']);
  });

  it('is null for commands that are not birdc ... configure', () => {
    expect(configureStatusArgv(['/usr/local/bin/reload-bird'])).toBeNull();
    expect(configureStatusArgv(['/usr/local/bin/reload-bird', 'configure'])).toBeNull();
    expect(configureStatusArgv(['birdc', 'show', 'status'])).toBeNull();
    expect(configureStatusArgv(['configure', 'birdc'])).toBeNull();
    expect(configureStatusArgv([])).toBeNull();
  });
});

describe('classifyConfigureStatus (answers recorded from BIRD 1.6.8, 2.0.12 and 3.3.2)', () => {
  it('is idle when BIRD 2/3 say the daemon is up and running', () => {
    expect(classifyConfigureStatus(answer('BIRD 2.0.12 ready.\nDaemon is up and running\n'))).toBe('idle');
    expect(classifyConfigureStatus(answer('BIRD 3.3.2 ready.\nDaemon is up and running\n'))).toBe('idle');
  });

  it('is busy while a reconfiguration is in progress, with or without one enqueued', () => {
    expect(classifyConfigureStatus(answer('BIRD 3.3.2 ready.\nReconfiguration in progress\n'))).toBe('busy');
    expect(classifyConfigureStatus(answer('BIRD 2.0.12 ready.\nReconfiguration in progress, next one enqueued\n'))).toBe('busy');
  });

  it('reads birdc -v reply codes and CR line ends', () => {
    expect(classifyConfigureStatus(answer('0001 BIRD 3.3.2 ready.\r\n0003-Daemon is up and running\r\n'))).toBe('idle');
    expect(classifyConfigureStatus(answer('0001 BIRD 3.3.2 ready.\n0024-Reconfiguration in progress\n'))).toBe('busy');
  });

  it('is unknown for BIRD 1.6 (no configure status), failures and silence', () => {
    expect(classifyConfigureStatus(answer('BIRD 1.6.8 ready.\nsyntax error\n'))).toBe('unknown');
    expect(classifyConfigureStatus(answer(''))).toBe('unknown');
    expect(classifyConfigureStatus(answer('Reconfiguration in progress\n', 1))).toBe('unknown');
    expect(classifyConfigureStatus(answer('Reconfiguration in progress\n', null, { timedOut: true }))).toBe('unknown');
    expect(classifyConfigureStatus(answer('', null, { spawnError: { code: 'ENOENT', message: 'not found' } }))).toBe('unknown');
  });
});

describe('waitForConfigureIdle against a stand-in birdc', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('configure-status');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  /** Answers busy the first `busy` times it is asked, then `last`; counts the questions in a file. */
  async function standIn(
    name: string,
    busy: number,
    last = 'Daemon is up and running',
  ): Promise<{ argv: string[]; asked: () => Promise<number> }> {
    const count = join(dir, `${name}.count`);
    const script = join(dir, name);
    await writeFile(
      script,
      `#!/bin/sh\necho x >> ${count}\nn=$(wc -l < ${count})\necho "BIRD 3.3.2 ready."\n` +
        `if [ "$n" -le ${busy} ]; then echo "Reconfiguration in progress, next one enqueued"; else echo "${last}"; fi\n`,
    );
    await chmod(script, 0o755);
    return { argv: [script, 'configure', 'status'], asked: async () => (await readFile(count, 'utf8')).trim().split('\n').length };
  }

  it('asks until BIRD is idle, telling once that it is busy', async () => {
    const s = await standIn('busy3', 3);
    let told = 0;
    const waited = await waitForConfigureIdle(s.argv, { deadlineMs: 10_000, intervalMs: 5, timeoutMs: 2000, onBusy: () => (told += 1) });
    expect(waited).toEqual({ ended: 'idle', polls: 4 });
    expect(await s.asked()).toBe(4);
    expect(told).toBe(1);
  });

  it('asks once and stays silent when BIRD is idle already', async () => {
    const s = await standIn('idle', 0);
    let told = 0;
    expect(await waitForConfigureIdle(s.argv, { deadlineMs: 10_000, timeoutMs: 2000, onBusy: () => (told += 1) })).toEqual({
      ended: 'idle',
      polls: 1,
    });
    expect(told).toBe(0);
  });

  it('takes an answer it cannot read (BIRD 1.6) as not busy', async () => {
    const s = await standIn('bird1', 0, 'syntax error');
    expect((await waitForConfigureIdle(s.argv, { deadlineMs: 10_000, timeoutMs: 2000 })).ended).toBe('unknown');
  });

  it('gives up at the deadline while BIRD stays busy', async () => {
    const s = await standIn('stuck', 1_000_000);
    const started = performance.now();
    const waited = await waitForConfigureIdle(s.argv, { deadlineMs: 300, intervalMs: 20, timeoutMs: 2000 });
    expect(waited.ended).toBe('timed-out');
    expect(waited.polls).toBeGreaterThan(1);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('ends at once when aborted', async () => {
    const s = await standIn('aborted', 1_000_000);
    const abort = new AbortController();
    const waiting = waitForConfigureIdle(s.argv, { deadlineMs: 60_000, intervalMs: 20, timeoutMs: 2000, signal: abort.signal });
    // Abort once it has asked at least once (poll the counter file, bounded).
    const deadline = performance.now() + 5000;
    for (;;) {
      const n = await s.asked().catch(() => 0);
      if (n >= 1 || performance.now() > deadline) break;
      await new Promise((r) => setImmediate(r));
    }
    abort.abort();
    expect((await waiting).ended).toBe('aborted');
  });
});
