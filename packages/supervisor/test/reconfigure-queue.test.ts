import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReconfigureQueue } from '../src/reconfigure-queue';

/** A stand-in birdc that records when each run starts and ends. */
function recorder(replyLine = 'Reconfigured', sleep = '0.05') {
  const dir = mkdtempSync(join(tmpdir(), 'ahc-rq-'));
  const log = join(dir, 'runs');
  const script = join(dir, 'birdc');
  writeFileSync(script, `#!/bin/sh\necho start >> ${log}\nsleep ${sleep}\necho end >> ${log}\necho "${replyLine}"\n`);
  chmodSync(script, 0o755);
  return {
    command: `${script} configure`,
    runs: () => {
      try {
        return readFileSync(log, 'utf8').trim().split('\n');
      } catch {
        return [];
      }
    },
  };
}

describe('ReconfigureQueue', () => {
  it('never runs the command twice at once and merges callers that wait into one run', async () => {
    const r = recorder();
    const q = new ReconfigureQueue(r.command, 5000);
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => q.run()));
    expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
    const lines = r.runs();
    expect(lines).toEqual(['start', 'end', 'start', 'end']);
    expect(q.runs).toBe(2);
  });

  it('a caller arriving during a run gets a run that starts after it', async () => {
    const r = recorder();
    const q = new ReconfigureQueue(r.command, 5000);
    const first = q.run();
    await new Promise((res) => setTimeout(res, 10));
    const second = q.run();
    const [a, b] = await Promise.all([first, second]);
    expect(a).not.toBe(b);
    expect(r.runs()).toEqual(['start', 'end', 'start', 'end']);
  });

  it('reports a failed reply', async () => {
    const r = recorder('syntax error', '0');
    const q = new ReconfigureQueue(r.command, 5000);
    const o = await q.run();
    expect(o.status).toBe('failed');
    expect(q.lastOutcome).toBe(o);
  });
});

/**
 * A stand-in for a busy BIRD 3's birdc: the first `inProgress` configures answer in progress,
 * later ones `Reconfigured`; `configure status` answers in progress the first `busy` times
 * after each configure, then idle. Every call is recorded.
 */
function busyBird(busy: number, { program = 'birdc', inProgress = 1 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ahc-rqb-'));
  const log = join(dir, 'calls');
  const polls = join(dir, 'polls');
  const script = join(dir, program);
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      'echo "BIRD 3.3.2 ready."',
      'if [ "$2" = status ]; then',
      `  echo status >> ${log}; echo x >> ${polls}; n=$(wc -l < ${polls})`,
      `  if [ "$n" -le ${busy} ]; then echo "Reconfiguration in progress, next one enqueued"; else echo "Daemon is up and running"; fi`,
      'else',
      `  echo configure >> ${log}; : > ${polls}; echo "Reading configuration from bird.conf"`,
      `  if [ "$(grep -c configure ${log})" -le ${inProgress} ]; then echo "Reconfiguration in progress"; else echo Reconfigured; fi`,
      'fi',
      '',
    ].join('\n'),
  );
  chmodSync(script, 0o755);
  return {
    command: `${script} configure`,
    calls: (): string[] => {
      try {
        return readFileSync(log, 'utf8').trim().split('\n');
      } catch {
        return [];
      }
    },
  };
}

function records() {
  const lines: string[] = [];
  return { lines, log: { info: (m: string) => lines.push(`INFO ${m}`), warning: (m: string) => lines.push(`WARNING ${m}`) } };
}

const WAIT = 'INFO BIRD is still applying the previous configuration; waiting before reconfiguring';

async function until(what: string, ok: () => boolean, deadlineMs = 5000): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (!ok()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ReconfigureQueue while BIRD is still applying', () => {
  it('asks configure status until BIRD is done before the next configure, and merges what comes meanwhile', async () => {
    const b = busyBird(3, { inProgress: 2 });
    const r = records();
    const q = new ReconfigureQueue(b.command, 5000, { log: r.log, pollIntervalMs: 5 });
    const first = await q.run();
    expect(first.status).toBe('in-progress');
    expect(q.applying).toBe(true);
    // Two changes while BIRD is busy: one configure for both, after BIRD said it is done.
    const [a, c] = await Promise.all([q.run(), q.run()]);
    expect(a).toBe(c);
    // (The second configure was in progress too, so BIRD may already be asked again.)
    expect(b.calls().slice(0, 6)).toEqual(['configure', 'status', 'status', 'status', 'status', 'configure']);
    expect(q.runs).toBe(2);
    expect(r.lines).toEqual([WAIT]);
    // BIRD is asked again in the background, until it is done.
    await until('BIRD done again', () => !q.applying);
    expect(b.calls().slice(6)).toEqual(['status', 'status', 'status', 'status']);
    // Idle now: the next run configures at once, without a record.
    await q.run();
    expect(b.calls().slice(10)).toEqual(['configure']);
    expect(r.lines).toEqual([WAIT]);
  });

  it('asks in the background: a run after BIRD is done does not wait or log', async () => {
    const b = busyBird(2);
    const r = records();
    const q = new ReconfigureQueue(b.command, 5000, { log: r.log, pollIntervalMs: 5 });
    await q.run();
    await until('BIRD done', () => !q.applying);
    await q.run();
    expect(b.calls()).toEqual(['configure', 'status', 'status', 'status', 'configure']);
    expect(r.lines).toEqual([]);
  });

  it('gives up waiting at the deadline with a warning, then configures', async () => {
    const b = busyBird(1_000_000);
    const r = records();
    const q = new ReconfigureQueue(b.command, 5000, { log: r.log, pollIntervalMs: 10, waitDeadlineMs: 200 });
    await q.run();
    const second = await q.run();
    expect(second.status).toBe('applied');
    const calls = b.calls();
    expect(calls[0]).toBe('configure');
    expect(calls.at(-1)).toBe('configure');
    expect(calls.filter((c) => c === 'status').length).toBeGreaterThan(1);
    expect(r.lines[0]).toBe(WAIT);
    expect(r.lines[1]).toMatch(
      /^WARNING BIRD still reports a reconfiguration in progress after 0\.2s \(.*birdc configure status\); not waiting any longer$/,
    );
  });

  it('runs a command that is not birdc as before: no configure status, no wait', async () => {
    const b = busyBird(1_000_000, { program: 'reload-bird', inProgress: 2 });
    const r = records();
    const q = new ReconfigureQueue(b.command, 5000, { log: r.log, pollIntervalMs: 5 });
    expect((await q.run()).status).toBe('in-progress');
    expect(q.applying).toBe(false);
    await q.run();
    expect(b.calls()).toEqual(['configure', 'configure']);
    expect(r.lines).toEqual([]);
  });
});
