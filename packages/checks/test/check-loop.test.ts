import { mkdtempSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FromWorker, ServiceCheckSpec } from '@ahc/protocol';
import { INITIAL_COUNTERS } from '@ahc/protocol';
import { CheckLoop } from '../src/check-loop';

function spec(over: Partial<ServiceCheckSpec>): ServiceCheckSpec {
  return {
    name: 'svc', checkCmd: '/bin/true', argv: ['/bin/true'], intervalMs: 100, timeoutMs: 1000, rise: 2, fail: 2,
    interface: 'lo', ipCheckDisabled: true, prefix: '10.52.12.1/32', address: '10.52.12.1', prefixLength: 32, family: 4,
    splayMs: 0, maxOutputBytes: 4096, epochMs: Date.now(), ...over,
  };
}

async function until<T>(get: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const loops: CheckLoop[] = [];
afterEach(() => {
  for (const l of loops.splice(0)) l.stop();
});

function start(s: ServiceCheckSpec, deps: Partial<ConstructorParameters<typeof CheckLoop>[3]> = {}) {
  const messages: FromWorker[] = [];
  const loop = new CheckLoop(s, INITIAL_COUNTERS, 'debug', { post: (m) => messages.push(m), ...deps });
  loops.push(loop);
  loop.start();
  return { loop, messages };
}

const of = <T extends FromWorker['type']>(msgs: FromWorker[], type: T) => msgs.filter((m): m is Extract<FromWorker, { type: T }> => m.type === type);

describe('check loop (real commands, real timers)', () => {
  it('decides UP after rise successes and posts one transition', async () => {
    const { messages } = start(spec({}));
    await until(() => (of(messages, 'result').length >= 4 ? true : undefined), 5000);
    const transitions = of(messages, 'transition');
    expect(transitions.map((t) => t.state)).toEqual(['up']);
    expect(transitions[0]?.reason).toBe('check');
  });

  it('decides DOWN after fail failures of a failing command, logging its output', async () => {
    const { messages } = start(spec({ argv: ['sh', '-c', 'echo broken >&2; exit 7'] }));
    const t = await until(() => of(messages, 'transition')[0], 5000);
    expect(t.state).toBe('down');
    const result = of(messages, 'result')[0];
    expect(result?.exitCode).toBe(7);
    expect(of(messages, 'log').some((l) => l.message.includes('stderr from the check') && l.message.includes('broken'))).toBe(true);
  });

  it('counts a timed-out check as a failure and kills it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-loop-'));
    const marker = join(dir, 'pid');
    const { messages } = start(spec({ argv: ['sh', '-c', `echo $$ > ${marker}; sleep 30`], timeoutMs: 150, intervalMs: 300, fail: 1 }));
    const t = await until(() => of(messages, 'transition')[0], 5000);
    expect(t.state).toBe('down');
    expect(of(messages, 'result')[0]?.timedOut).toBe(true);
    const pid = Number(readFileSync(marker, 'utf8'));
    await until(() => {
      try {
        process.kill(pid, 0);
        return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')) ? true : undefined;
      } catch {
        return true;
      }
    }, 3000);
  });

  it('withdraws at once when the prefix is not on the interface, without waiting for fail', async () => {
    const { messages } = start(spec({ ipCheckDisabled: false, fail: 10, address: '10.255.254.253', prefix: '10.255.254.253/32' }));
    const t = await until(() => of(messages, 'transition')[0], 2000);
    expect(t).toMatchObject({ state: 'down', reason: 'ip-unassigned' });
    expect(of(messages, 'result').length).toBe(1);
  });

  it('sees an address that is on the interface (127.0.0.1 on lo)', async () => {
    const { messages } = start(spec({ ipCheckDisabled: false, rise: 1, address: '127.0.0.1', prefix: '127.0.0.1/32' }));
    const t = await until(() => of(messages, 'transition')[0], 2000);
    expect(t.state).toBe('up');
  });

  it('keeps a drift-free schedule: check k starts near start + k × interval', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-loop-'));
    const log = join(dir, 'starts');
    const script = join(dir, 'check.sh');
    // each check takes ~40 ms; with a drifting schedule (sleep interval after each check) 10 checks would take 1.4 s
    writeFileSync(script, `#!/bin/sh\ndate +%s%3N >> ${log}\nsleep 0.04\n`);
    chmodSync(script, 0o755);
    const { messages } = start(spec({ argv: [script], intervalMs: 100 }));
    await until(() => (of(messages, 'result').length >= 11 ? true : undefined), 5000);
    const starts = readFileSync(log, 'utf8').trim().split('\n').map(Number);
    const first = starts[0] ?? 0;
    const tenth = starts[10] ?? 0;
    expect(tenth - first).toBeGreaterThan(900);
    expect(tenth - first).toBeLessThan(1200);
  });

  it('runNow runs a check at once without moving the schedule', async () => {
    const { loop, messages } = start(spec({ intervalMs: 60_000 }));
    await until(() => (of(messages, 'result').length === 1 ? true : undefined), 2000);
    loop.runNow();
    await until(() => (of(messages, 'result').length === 2 ? true : undefined), 2000);
  });

  it('waits a random splay of at most splay_startup before the first check', async () => {
    const { messages } = start(spec({ splayMs: 400 }), { random: () => 1 });
    const began = Date.now();
    await until(() => of(messages, 'result')[0], 3000);
    expect(Date.now() - began).toBeGreaterThanOrEqual(350);
    expect(of(messages, 'log').some((l) => l.message.startsWith('delaying startup for 0.400s'))).toBe(true);
  });

  it('stop() kills a running check and posts nothing more', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-loop-'));
    const marker = join(dir, 'ran');
    const { loop, messages } = start(spec({ argv: ['sh', '-c', `touch ${marker}; sleep 30`], timeoutMs: 60_000 }));
    await until(() => (existsSync(marker) ? true : undefined), 2000);
    loop.stop();
    const count = messages.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(of(messages.slice(count), 'result')).toEqual([]);
  });
});

describe('shared schedule', () => {
  it('loops started at different moments check at the same instants (anchored at the daemon start)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-loop-'));
    const epochMs = Date.now();
    const scripts = ['a', 'b'].map((n) => {
      const f = join(dir, n);
      writeFileSync(f, `#!/bin/sh\ndate +%s%3N >> ${f}.log\n`);
      chmodSync(f, 0o755);
      return f;
    });
    start(spec({ name: 'a', argv: [scripts[0] as string], intervalMs: 200, epochMs }));
    await new Promise((r) => setTimeout(r, 130)); // b's thread came up 130 ms later
    const b = start(spec({ name: 'b', argv: [scripts[1] as string], intervalMs: 200, epochMs }));
    await until(() => (of(b.messages, 'result').length >= 3 ? true : undefined), 3000);
    const read = (f: string) => readFileSync(`${f}.log`, 'utf8').trim().split('\n').map(Number);
    const a = read(scripts[0] as string);
    const bt = read(scripts[1] as string);
    // b's third check (2nd on the grid) lands on a grid tick a also used
    const tick = bt[2] as number;
    expect(Math.min(...a.map((t) => Math.abs(t - tick)))).toBeLessThan(40);
  });
});
