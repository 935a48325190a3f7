import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConvergeLoop } from '../src/converge-loop';
import { isLone, nextStepAt, RECONFIGURE_GATHER } from '../src/gather';
import type { GatherPolicy } from '../src/gather';

const policy: GatherPolicy = { burstGapMs: 250, quietMs: 40, maxHoldMs: 1000 };

describe('gather decisions (pure)', () => {
  it('serves a first request at once', () => {
    const pending = { firstAtMs: 100, lastAtMs: 100, count: 1, previousAtMs: null };
    expect(isLone(pending, policy)).toBe(true);
    expect(nextStepAt(pending, policy)).toBe(100);
  });

  it('serves a request at once when the one before it is at least burstGapMs old', () => {
    expect(nextStepAt({ firstAtMs: 1000, lastAtMs: 1000, count: 1, previousAtMs: 750 }, policy)).toBe(1000);
    expect(nextStepAt({ firstAtMs: 1000, lastAtMs: 1000, count: 1, previousAtMs: 751 }, policy)).toBe(1040);
  });

  it('waits for a burst to be quiet for quietMs after its latest request', () => {
    expect(nextStepAt({ firstAtMs: 1000, lastAtMs: 1030, count: 5, previousAtMs: null }, policy)).toBe(1070);
  });

  it('never holds longer than maxHoldMs after the first request it serves', () => {
    expect(nextStepAt({ firstAtMs: 1000, lastAtMs: 1990, count: 300, previousAtMs: 990 }, policy)).toBe(2000);
  });

  it('holds a lone request for quietMs when the last step took slowStepMs or more', () => {
    const slow: GatherPolicy = { ...policy, slowStepMs: 100 };
    const lone = { firstAtMs: 1000, lastAtMs: 1000, count: 1, previousAtMs: 500 };
    expect(nextStepAt(lone, slow, null)).toBe(1000);
    expect(nextStepAt(lone, slow, 99)).toBe(1000);
    expect(isLone(lone, slow, 100)).toBe(false);
    expect(nextStepAt(lone, slow, 100)).toBe(1040);
    // without slowStepMs a step's duration changes nothing
    expect(nextStepAt(lone, policy, 5000)).toBe(1000);
  });

  it('the daemon default adds at most 40 ms after the last decision of a burst', () => {
    expect(RECONFIGURE_GATHER.quietMs).toBeLessThanOrEqual(40);
    expect(RECONFIGURE_GATHER.maxHoldMs).toBeLessThanOrEqual(1000);
  });
});

function deferred() {
  let resolve: (v: boolean) => void = () => undefined;
  const promise = new Promise<boolean>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A loop on fake timers whose steps are resolved by hand; records when each step started. */
function harness(options: { gather?: GatherPolicy; backoff?: { baseMs: number; capMs: number } } = {}) {
  const steps: Array<{ at: number; d: ReturnType<typeof deferred> }> = [];
  const loop = new ConvergeLoop(
    () => {
      const d = deferred();
      steps.push({ at: Date.now(), d });
      return d.promise;
    },
    options.backoff ?? { baseMs: 250, capMs: 5000 },
    { gather: options.gather ?? policy, now: () => Date.now() },
  );
  const finish = async (ok = true) => {
    const s = steps.at(-1);
    if (s === undefined) throw new Error('no step started');
    s.d.resolve(ok);
    await vi.advanceTimersByTimeAsync(0);
  };
  return { loop, steps, finish, started: () => steps.map((s) => s.at) };
}

describe('ConvergeLoop with gathering (fake clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('applies a lone transition at once, with no timer involved', async () => {
    const h = harness();
    h.loop.request();
    expect(h.started()).toEqual([0]);
    await h.finish();
    expect(h.loop.state).toBe('idle');
  });

  it('gathers a burst of 50 decisions 3 ms apart into two steps: the first at once, the rest 40 ms after the last', async () => {
    const h = harness();
    for (let i = 0; i < 50; i += 1) {
      h.loop.request();
      if (i === 1) await h.finish(); // the first step took 3 ms
      await vi.advanceTimersByTimeAsync(3);
    }
    // the last request came at 147 ms, the clock is at 150
    expect(h.started()).toEqual([0]);
    await vi.advanceTimersByTimeAsync(36);
    expect(h.steps.length).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.started()).toEqual([0, 187]);
    await h.finish();
    expect(h.loop.state).toBe('idle');
  });

  it('a request soon after a served one waits quietMs (it may be the start of a burst)', async () => {
    const h = harness();
    h.loop.request();
    await h.finish();
    await vi.advanceTimersByTimeAsync(100);
    h.loop.request();
    expect(h.loop.state).toBe('gathering');
    await vi.advanceTimersByTimeAsync(40);
    expect(h.started()).toEqual([0, 140]);
  });

  it('after endBurst(), a request soon after a served one is lone again (the start-up repair is no decision)', async () => {
    const h = harness();
    h.loop.request();
    await h.finish();
    h.loop.endBurst();
    await vi.advanceTimersByTimeAsync(100);
    h.loop.request();
    expect(h.started()).toEqual([0, 100]);
    await h.finish();
    // It ends the burst that was, not the next one: a request soon after this one is held again.
    await vi.advanceTimersByTimeAsync(10);
    h.loop.request();
    expect(h.loop.state).toBe('gathering');
    await vi.advanceTimersByTimeAsync(40);
    expect(h.started()).toEqual([0, 100, 150]);
  });

  it('a storm that never goes quiet is served every maxHoldMs, never two steps at once', async () => {
    const h = harness();
    let active = 0;
    let maxActive = 0;
    const loop = new ConvergeLoop(
      async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        h.steps.push({ at: Date.now(), d: deferred() });
        await new Promise((r) => setTimeout(r, 5));
        active -= 1;
        return true;
      },
      { baseMs: 250, capMs: 5000 },
      { gather: policy, now: () => Date.now() },
    );
    for (let t = 0; t < 3000; t += 10) {
      loop.request();
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(100);
    // 0 (lone), then each held burst 1000 ms after its first request; the request at 1010 comes
    // just after the timer started the step of 1010, so it opens the next hold
    expect(h.started()).toEqual([0, 1010, 2010, 3010]);
    expect(maxActive).toBe(1);
    expect(loop.state).toBe('idle');
  });

  it('after a slow step, a wave is served by one step 40 ms after its last decision, not first-at-once plus the rest', async () => {
    const slow: GatherPolicy = { ...policy, slowStepMs: 100 };
    const h = harness({ gather: slow });
    h.loop.request();
    await vi.advanceTimersByTimeAsync(160);
    await h.finish(); // a router-sized configure: 160 ms
    await vi.advanceTimersByTimeAsync(840); // the next wave comes a second later
    for (let i = 0; i < 50; i += 1) {
      h.loop.request();
      await vi.advanceTimersByTimeAsync(1);
    }
    // the wave's requests came at 1000..1049; quiet 40 ms after the last one
    expect(h.started()).toEqual([0]);
    await vi.advanceTimersByTimeAsync(40);
    expect(h.started()).toEqual([0, 1089]);
    await vi.advanceTimersByTimeAsync(3);
    await h.finish(); // a fast step: the next lone request is served at once again
    await vi.advanceTimersByTimeAsync(1000);
    const lone = Date.now();
    h.loop.request();
    expect(h.started()).toEqual([0, 1089, lone]);
    await h.finish();
    expect(h.loop.state).toBe('idle');
  });

  it('requests while a step is in flight are merged into one more step', async () => {
    const h = harness({ gather: { burstGapMs: 250, quietMs: 40, maxHoldMs: 1000 } });
    h.loop.request();
    await vi.advanceTimersByTimeAsync(5);
    h.loop.request();
    h.loop.request();
    await vi.advanceTimersByTimeAsync(100); // the step is slow: the burst is quiet by the time it ends
    await h.finish();
    expect(h.started()).toEqual([0, 105]);
    await h.finish();
    expect(h.loop.state).toBe('idle');
  });

  it('a failed step is retried after the backoff; requests gathered meanwhile ride on the retry', async () => {
    const h = harness();
    h.loop.request();
    await h.finish(false); // failed at 0: retry at 250
    expect(h.loop.state).toBe('waiting-retry');
    await vi.advanceTimersByTimeAsync(100);
    h.loop.request(); // 100 ms after the failed one: part of a burst, due at 140
    await vi.advanceTimersByTimeAsync(40);
    expect(h.started()).toEqual([0, 140]);
    await h.finish(false); // failed again: retry 500 ms later
    expect(h.loop.failures).toBe(2);
    await vi.advanceTimersByTimeAsync(499);
    expect(h.steps.length).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.started()).toEqual([0, 140, 640]);
    await h.finish(true);
    expect(h.loop.failures).toBe(0);
    expect(h.loop.state).toBe('idle');
  });

  it('a lone request while waiting to retry runs at once (it may carry the fix)', async () => {
    const h = harness({ backoff: { baseMs: 10_000, capMs: 10_000 } });
    h.loop.request();
    await h.finish(false);
    await vi.advanceTimersByTimeAsync(300);
    h.loop.request();
    expect(h.started()).toEqual([0, 300]);
    await h.finish(true);
    expect(h.loop.state).toBe('idle');
  });

  it('whenIdle waits through gathering, and close() cancels a gathered step', async () => {
    const h = harness();
    h.loop.request();
    await h.finish();
    h.loop.request();
    let idle = false;
    void h.loop.whenIdle().then(() => {
      idle = true;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(idle).toBe(false);
    await h.loop.close();
    await vi.advanceTimersByTimeAsync(100);
    expect(idle).toBe(true);
    expect(h.steps.length).toBe(1);
  });
});
