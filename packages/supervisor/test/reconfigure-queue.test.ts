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
