import { mkdtempSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FromWorker, ServiceCheckSpec } from '@ahc/protocol';
import { INITIAL_COUNTERS, monotonicMs } from '@ahc/protocol';
import { CheckLoop } from '../src/check-loop';
import { checkSpec, until, hostPrefix } from '../../../test/helpers/check-spec';

const spec = (over: Partial<ServiceCheckSpec>): ServiceCheckSpec => checkSpec({ epochMs: monotonicMs(), ...over });

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

const of = <T extends FromWorker['type']>(msgs: FromWorker[], type: T) =>
  msgs.filter((m): m is Extract<FromWorker, { type: T }> => m.type === type);

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
    const { messages } = start(spec({ ipCheckDisabled: false, fail: 10, prefixes: [hostPrefix('10.255.254.253')] }));
    const t = await until(() => of(messages, 'transition')[0], 2000);
    expect(t).toMatchObject({ state: 'down', reason: 'ip-unassigned' });
    expect(of(messages, 'result').length).toBe(1);
  });

  it('sees an address that is on the interface (127.0.0.1 on lo)', async () => {
    const { messages } = start(spec({ ipCheckDisabled: false, rise: 1, prefixes: [hostPrefix('127.0.0.1')] }));
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

  it('runs each tick once, even when its timer fires before the tick by the clock (whole-ms timers)', async () => {
    // A clock 2% slower than the timers: every timer fires, by this clock, a little before its
    // tick, as libuv's whole-millisecond timers do against a clock with fractions.
    const t0 = monotonicMs();
    const slow = (): number => t0 + (monotonicMs() - t0) * 0.98;
    const s = spec({ ipCheckDisabled: false, intervalMs: 100, prefixes: [hostPrefix('10.255.254.253')] });
    const { messages } = start(s, { now: slow });
    await new Promise((r) => setTimeout(r, 1000));
    const checks = of(messages, 'result').length;
    // 1 at start + one per tick: 10 or 11 in 1 s (each tick twice would give about 20)
    expect(checks).toBeGreaterThanOrEqual(9);
    expect(checks).toBeLessThanOrEqual(12);
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
    expect(of(messages, 'log').some((l) => l.message.startsWith('delaying startup for 0.400secs'))).toBe(true);
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

describe("records of one check (the Python daemon's, in order)", () => {
  const logs = (msgs: FromWorker[]) =>
    of(msgs, 'log').map((l) => `${l.level} ${l.message}${l.status === undefined ? '' : ` [${l.status}]`}`);
  const runner = (codes: number[]) => {
    let i = 0;
    return async (): Promise<import('@ahc/command').CommandResult> => {
      const code = codes[Math.min(i, codes.length - 1)] ?? 0;
      i += 1;
      return { code, signal: null, timedOut: false, spawnError: null, stdout: '', stderr: '', truncated: false, durationMs: 1.5 };
    };
  };
  const checked = /^(info|warning|error) (going|changed|status|adding|check timed out)/;

  it('rise/fall with rise = fail = 2: going up 1/2, changed to UP, status UP, going down 1/2, going up 1/2, ...', async () => {
    const { loop, messages } = start(spec({ intervalMs: 60_000 }), { runCommand: runner([0, 0, 0, 1, 0, 0, 1, 1, 1, 0]) });
    for (let n = 1; n <= 10; n += 1) {
      await until(() => (of(messages, 'result').length >= n ? true : undefined), 2000);
      if (n < 10) loop.runNow();
    }
    expect(logs(messages).filter((l) => checked.test(l))).toEqual([
      'info going up 1/2 [unknown]',
      'info changed to UP [up]',
      'info adding 10.52.12.1/32 in the queue [up]',
      'info status UP [up]',
      'info going down 1/2 [up]',
      'info going up 1/2 [up]',
      'info status UP [up]',
      'info going down 1/2 [up]',
      'info changed to DOWN [down]',
      'info adding 10.52.12.1/32 in the queue [down]',
      'info status DOWN [down]',
      'info going up 1/2 [down]',
    ]);
    expect(of(messages, 'transition').map((t) => t.state)).toEqual(['up', 'down']);
  });

  it('posts the result before the records that tell of it, and the transition after "adding … in the queue"', async () => {
    const { messages } = start(spec({ intervalMs: 60_000, rise: 1 }), { runCommand: runner([0]) });
    await until(() => of(messages, 'transition')[0], 2000);
    const order = messages
      .filter(
        (m) => m.type === 'result' || m.type === 'transition' || (m.type === 'log' && /changed to|in the queue|running/.test(m.message)),
      )
      .map((m) => (m.type === 'log' ? m.message : m.type));
    expect(order).toEqual(['running /bin/true', 'result', 'changed to UP', 'adding 10.52.12.1/32 in the queue', 'transition']);
  });

  it('logs "running CMD" and "check duration" without the service fields', async () => {
    const { messages } = start(spec({ intervalMs: 60_000 }), { runCommand: runner([0]) });
    await until(() => of(messages, 'result')[0], 2000);
    const l = of(messages, 'log');
    expect(l.find((m) => m.message === 'running /bin/true')?.status).toBeUndefined();
    expect(l.find((m) => m.message === 'check duration 1.500ms')?.status).toBeUndefined();
    expect(l.find((m) => m.message.startsWith('wall clock time '))?.status).toBe('unknown');
  });

  it('an unassigned prefix: "isn\'t assigned" then "status DOWN because", queued the first time only', async () => {
    const s = spec({ ipCheckDisabled: false, intervalMs: 60_000, prefixes: [hostPrefix('10.255.254.253')] });
    const { loop, messages } = start(s);
    await until(() => of(messages, 'result')[0], 2000);
    loop.runNow();
    await until(() => (of(messages, 'result').length >= 2 ? true : undefined), 2000);
    expect(logs(messages).filter((l) => /assigned|adding|status/.test(l))).toEqual([
      "warning 10.255.254.253/32 isn't assigned to lo interface",
      "warning status DOWN because 10.255.254.253/32 isn't assigned to lo interface. [down]",
      'info adding 10.255.254.253/32 in the queue [down]',
      "warning 10.255.254.253/32 isn't assigned to lo interface",
      "warning status DOWN because 10.255.254.253/32 isn't assigned to lo interface. [down]",
    ]);
  });

  it('a timed-out check logs ERROR "check timed out" and counts as a failure', async () => {
    const { messages } = start(spec({ argv: ['sleep', '5'], timeoutMs: 100, intervalMs: 60_000, fail: 1 }));
    await until(() => of(messages, 'result')[0], 3000);
    expect(logs(messages).filter((l) => checked.test(l))).toEqual([
      'error check timed out',
      'info changed to DOWN [down]',
      'info adding 10.52.12.1/32 in the queue [down]',
    ]);
    expect(logs(messages).some((l) => l.startsWith('info check duration'))).toBe(false);
  });
});

describe('shared schedule', () => {
  it('loops started at different moments check at the same instants (anchored at the daemon start)', async () => {
    // The schedule is under test, so the command runner records when it is called and succeeds.
    const calls = new Map<string, number[]>();
    const recording = (name: string) => async (): Promise<import('@ahc/command').CommandResult> => {
      calls.set(name, [...(calls.get(name) ?? []), monotonicMs()]);
      return { code: 0, signal: null, timedOut: false, spawnError: null, stdout: '', stderr: '', truncated: false, durationMs: 0 };
    };
    const epochMs = monotonicMs();
    start(spec({ name: 'a', intervalMs: 200, epochMs }), { runCommand: recording('a') });
    await until(() => ((calls.get('a')?.length ?? 0) >= 1 ? true : undefined), 2000);
    await new Promise((r) => setTimeout(r, 130)); // b's thread comes up 130 ms later
    start(spec({ name: 'b', intervalMs: 200, epochMs }), { runCommand: recording('b') });
    await until(() => ((calls.get('b')?.length ?? 0) >= 3 ? true : undefined), 3000);
    const a = calls.get('a') ?? [];
    const b = calls.get('b') ?? [];
    // b's first check runs at once; its next ones land on a's ticks (epoch + k × 200 ms)
    for (const t of b.slice(1)) expect(Math.min(...a.map((x) => Math.abs(x - t)))).toBeLessThan(25);
    for (const t of b.slice(1)) expect((t - epochMs) % 200 < 25 || (t - epochMs) % 200 > 175).toBe(true);
  });
});

describe('an epoch that is not the monotonic clock', () => {
  it('a wall-clock epoch (far ahead of monotonicMs) is taken as now: the first check waits for its phase', async () => {
    const starts: number[] = [];
    const recording = async (): Promise<import('@ahc/command').CommandResult> => {
      starts.push(monotonicMs());
      return { code: 0, signal: null, timedOut: false, spawnError: null, stdout: '', stderr: '', truncated: false, durationMs: 0 };
    };
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const t0 = monotonicMs();
      start(spec({ name: 'wall', intervalMs: 1000, phaseMs: 150, epochMs: Date.now() }), { runCommand: recording });
      await until(() => (starts.length >= 1 ? true : undefined), 3000);
      // Without the guard: setTimeout(days) overflows to 1 ms, a TimeoutOverflowWarning, and the
      // first check runs at once instead of at its phase.
      expect((starts[0] ?? t0) - t0).toBeGreaterThan(120);
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('phases on the shared grid', () => {
  it('a loop checks at its phase after the grid point, first check included', async () => {
    const calls = new Map<string, number[]>();
    const recording = (name: string) => async (): Promise<import('@ahc/command').CommandResult> => {
      calls.set(name, [...(calls.get(name) ?? []), monotonicMs()]);
      return { code: 0, signal: null, timedOut: false, spawnError: null, stdout: '', stderr: '', truncated: false, durationMs: 0 };
    };
    // A daemon that has just started: the grid's first point is now + 20 ms.
    const epochMs = monotonicMs() + 20;
    start(spec({ name: 'a', intervalMs: 300, epochMs, phaseMs: 0 }), { runCommand: recording('a') });
    start(spec({ name: 'b', intervalMs: 300, epochMs, phaseMs: 150 }), { runCommand: recording('b') });
    await until(() => ((calls.get('b')?.length ?? 0) >= 3 ? true : undefined), 3000);
    const offsets = (name: string) => (calls.get(name) ?? []).map((t) => (t - epochMs + 300) % 300);
    // every check of a at the grid's points, every check of b half an interval later
    for (const o of offsets('a')) expect(o < 30 || o > 285).toBe(true);
    for (const o of offsets('b')) expect(Math.abs(o - 150)).toBeLessThan(30);
  });
});

describe('check loop with the address watch answer (ipAssigned)', () => {
  it('uses the pushed answer instead of getifaddrs, and checks at once when it turns false', async () => {
    let asked = 0;
    const isAssigned = (): boolean => {
      asked += 1;
      return false;
    };
    const { loop, messages } = start(
      spec({ ipCheckDisabled: false, rise: 1, fail: 10, intervalMs: 60_000, prefixes: [hostPrefix('10.255.254.253')] }),
      { isAssigned, ipAssigned: true },
    );
    const up = await until(() => of(messages, 'transition')[0], 3000);
    expect(up.state).toBe('up');
    expect(asked).toBe(0);
    const pushedAt = monotonicMs();
    loop.setIpAssigned(false);
    const down = await until(() => of(messages, 'transition')[1], 2000);
    // The interval is a minute: only the push can have run this check.
    expect(monotonicMs() - pushedAt).toBeLessThan(1000);
    expect(down).toMatchObject({ state: 'down', reason: 'ip-unassigned' });
    expect(of(messages, 'log').some((l) => l.message === "10.255.254.253/32 isn't assigned to lo interface")).toBe(true);
    expect(asked).toBe(0);
    // null: back to asking at each check.
    loop.setIpAssigned(null);
    loop.runNow();
    await until(() => (asked > 0 ? true : undefined), 2000);
  });

  it('does not check early when the answer turns true, nor when the IP check is off', async () => {
    // A check that runs calls runCommand synchronously from runNow/setIpAssigned, so counting calls needs no wait.
    let runs = 0;
    const runCommand = () => {
      runs += 1;
      return Promise.resolve({
        code: 0,
        signal: null,
        spawnError: null,
        timedOut: false,
        stdout: '',
        stderr: '',
        truncated: false,
        durationMs: 1,
      });
    };
    const on = start(spec({ rise: 1, intervalMs: 60_000, ipCheckDisabled: false, prefixes: [hostPrefix('10.255.254.253')] }), {
      ipAssigned: true,
      runCommand,
    } as never);
    await until(() => (of(on.messages, 'result').length >= 1 ? true : undefined), 3000);
    expect(runs).toBe(1);
    on.loop.setIpAssigned(true);
    on.loop.setIpAssigned(null);
    on.loop.setIpAssigned(true);
    expect(runs).toBe(1);
    expect(of(on.messages, 'result').length).toBe(1);
    const off = start(spec({ rise: 1, intervalMs: 60_000, ipCheckDisabled: true }), { ipAssigned: true, runCommand } as never);
    await until(() => (of(off.messages, 'result').length >= 1 ? true : undefined), 3000);
    off.loop.setIpAssigned(false);
    expect(runs).toBe(2);
  });
});

describe('check loop of a service with several prefixes', () => {
  // 127.0.0.1 and ::1 are on lo; 10.255.254.253 and 2001:db8:fe::1 are not.
  const ON_LO = hostPrefix('127.0.0.1');
  const ON_LO6 = hostPrefix('::1');
  const MISSING4 = hostPrefix('10.255.254.253');
  const MISSING6 = hostPrefix('2001:db8:fe::1');
  const text = (messages: FromWorker[]) =>
    of(messages, 'log')
      .filter((l) => /assigned|adding|status|changed/.test(l.message))
      .map((l) => `${l.level} ${l.message}${l.status === undefined ? '' : ` [${l.status}]`}`);

  it('is UP only while every prefix is on the interface, and queues each prefix on a decision', async () => {
    const { messages } = start(spec({ ipCheckDisabled: false, rise: 1, intervalMs: 60_000, prefixes: [ON_LO, ON_LO6] }));
    await until(() => of(messages, 'transition')[0], 3000);
    expect(text(messages)).toEqual([
      'debug 127.0.0.1/32 assigned to lo interface',
      'debug ::1/128 assigned to lo interface',
      'info changed to UP [up]',
      'info adding 127.0.0.1/32 in the queue [up]',
      'info adding ::1/128 in the queue [up]',
    ]);
  });

  it('is DOWN at once when any prefix is missing, naming each missing one (getifaddrs)', async () => {
    const { messages } = start(spec({ ipCheckDisabled: false, fail: 10, intervalMs: 60_000, prefixes: [ON_LO, MISSING4, MISSING6] }));
    const t = await until(() => of(messages, 'transition')[0], 3000);
    expect(t).toMatchObject({ state: 'down', reason: 'ip-unassigned' });
    expect(of(messages, 'result')[0]).toMatchObject({ ok: false, ipAssigned: false });
    expect(text(messages)).toEqual([
      'debug 127.0.0.1/32 assigned to lo interface',
      "warning 10.255.254.253/32 isn't assigned to lo interface",
      "warning 2001:db8:fe::1/128 isn't assigned to lo interface",
      "warning status DOWN because 10.255.254.253/32 isn't assigned to lo interface. [down]",
      "warning status DOWN because 2001:db8:fe::1/128 isn't assigned to lo interface. [down]",
      'info adding 127.0.0.1/32 in the queue [down]',
      'info adding 10.255.254.253/32 in the queue [down]',
      'info adding 2001:db8:fe::1/128 in the queue [down]',
    ]);
    // The check command was not run.
    expect(of(messages, 'log').some((l) => l.message.startsWith('running '))).toBe(false);
  });

  it("with the address watch's answer false, names the missing prefixes as getifaddrs sees them", async () => {
    const asked: string[] = [];
    const isAssigned = (_s: ServiceCheckSpec, p: { prefix: string }): boolean => {
      asked.push(p.prefix);
      return p.prefix !== MISSING4.prefix;
    };
    const { messages } = start(spec({ ipCheckDisabled: false, intervalMs: 60_000, prefixes: [ON_LO, MISSING4] }), {
      isAssigned,
      ipAssigned: false,
    });
    await until(() => of(messages, 'transition')[0], 3000);
    expect(asked).toEqual([ON_LO.prefix, MISSING4.prefix]);
    expect(text(messages).filter((l) => l.startsWith('warning'))).toEqual([
      "warning 10.255.254.253/32 isn't assigned to lo interface",
      "warning status DOWN because 10.255.254.253/32 isn't assigned to lo interface. [down]",
    ]);
  });

  it('trusts the answer true without asking getifaddrs for any prefix', async () => {
    let asked = 0;
    const { messages } = start(spec({ ipCheckDisabled: false, rise: 1, intervalMs: 60_000, prefixes: [MISSING4, MISSING6] }), {
      isAssigned: () => {
        asked += 1;
        return false;
      },
      ipAssigned: true,
    });
    const t = await until(() => of(messages, 'transition')[0], 3000);
    expect([t.state, asked]).toEqual(['up', 0]);
  });
});
