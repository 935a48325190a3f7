import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff';
import { ConvergeLoop } from '../src/converge-loop';

const policy = { baseMs: 20, capMs: 80 };

function deferred() {
  let resolve: (v: boolean) => void = () => undefined;
  const promise = new Promise<boolean>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('backoff', () => {
  it('doubles from base up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, { baseMs: 250, capMs: 5000 }))).toEqual([250, 500, 1000, 2000, 4000]);
    expect(backoffDelay(6, { baseMs: 250, capMs: 5000 })).toBe(5000);
    expect(backoffDelay(1000, { baseMs: 250, capMs: 5000 })).toBe(5000);
  });
});

describe('ConvergeLoop', () => {
  it('runs a lone request at once', async () => {
    let runs = 0;
    const loop = new ConvergeLoop(async () => {
      runs += 1;
      return true;
    }, policy);
    loop.request();
    expect(runs).toBe(1); // synchronously started, no added delay
    await loop.whenIdle();
    expect(loop.state).toBe('idle');
  });

  it('merges any number of requests during a step into exactly one more step', async () => {
    const steps: Array<ReturnType<typeof deferred>> = [];
    const loop = new ConvergeLoop(() => {
      const d = deferred();
      steps.push(d);
      return d.promise;
    }, policy);
    loop.request();
    for (let i = 0; i < 10; i += 1) loop.request();
    expect(steps.length).toBe(1);
    steps[0]?.resolve(true);
    await tick();
    expect(steps.length).toBe(2);
    steps[1]?.resolve(true);
    await loop.whenIdle();
    expect(steps.length).toBe(2);
  });

  it('never runs two steps at once', async () => {
    let active = 0;
    let maxActive = 0;
    const loop = new ConvergeLoop(async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 5));
      active -= 1;
      return true;
    }, policy);
    for (let i = 0; i < 20; i += 1) {
      loop.request();
      await new Promise((r) => setTimeout(r, 1));
    }
    await loop.whenIdle();
    expect(maxActive).toBe(1);
  });

  it('retries a failed step with backoff until it succeeds', async () => {
    const results = [false, false, true];
    const at: number[] = [];
    const retries: number[] = [];
    const loop = new ConvergeLoop(
      async () => {
        at.push(Date.now());
        return results.shift() ?? true;
      },
      policy,
      { onRetry: (_f, d) => retries.push(d) },
    );
    loop.request();
    await loop.whenIdle();
    expect(at.length).toBe(3);
    expect(retries).toEqual([20, 40]);
    expect((at[2] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(55);
    expect(loop.failures).toBe(0);
  });

  it('treats a step that throws as failed and retries it', async () => {
    let n = 0;
    const loop = new ConvergeLoop(async () => {
      n += 1;
      if (n === 1) throw new Error('disk');
      return true;
    }, policy);
    loop.request();
    await loop.whenIdle();
    expect(n).toBe(2);
  });

  it('a request while waiting to retry runs at once (it may carry the fix)', async () => {
    let n = 0;
    const loop = new ConvergeLoop(
      async () => {
        n += 1;
        return n > 1;
      },
      { baseMs: 10_000, capMs: 10_000 },
    );
    loop.request();
    await tick();
    expect(loop.state).toBe('waiting-retry');
    loop.request();
    await loop.whenIdle();
    expect(n).toBe(2);
  });

  it('close() stops retrying', async () => {
    let n = 0;
    const loop = new ConvergeLoop(async () => {
      n += 1;
      return false;
    }, policy);
    loop.request();
    await tick();
    await loop.close();
    const after = n;
    await new Promise((r) => setTimeout(r, 100));
    expect(n).toBe(after);
    expect(loop.state).toBe('closed');
  });
});
