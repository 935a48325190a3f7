// Check threads that spawn through the host (spawnVia 'host'): real worker threads (the built
// bundle), the real ahc-spawn and real check commands. Waits are deadline-bounded polls.
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SpawnHelper } from '@ahc/command';
import type { CheckCounters, FromWorker, ResultMessage } from '@ahc/protocol';
import type { CheckHostEvents } from '../src/check-host';
import { InProcessCheckHost } from '../src/in-process-host';
import { WorkerThreadHost } from '../src/worker-thread-host';
import { WORKER_FILE } from './fixture';
import { checkSpec, until, hostPrefix } from '../../../test/helpers/check-spec';

const HELPER = fileURLToPath(new URL('../../../apps/anycast-healthchecker/dist/ahc-spawn', import.meta.url));

class Recorder implements CheckHostEvents {
  results: ResultMessage[] = [];
  logs: string[] = [];
  onMessage(m: FromWorker): void {
    if (m.type === 'result') this.results.push(m);
    if (m.type === 'log') this.logs.push(`${m.service} ${m.message}`);
  }
  onThreadExit(): void {}
  onThreadFailed(): void {}
  onThreadRecovered(): void {}
  counters(): CheckCounters {
    return { state: 'unknown', rise: 0, fail: 0 };
  }
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const warnings: string[] = [];
async function helper(): Promise<SpawnHelper> {
  const h = await SpawnHelper.start({
    binary: HELPER,
    log: { warning: (m) => warnings.push(m), info: () => undefined },
    restartDelayMs: () => 0,
  });
  closers.push(() => h.close());
  return h;
}
function host(rec: Recorder, spawner: SpawnHelper | undefined, mode: 'per-service' | number = 'per-service'): WorkerThreadHost {
  const h = new WorkerThreadHost(
    { workerFile: WORKER_FILE, mode, logLevel: 'info', watchdogIntervalMs: 100, ...(spawner === undefined ? {} : { spawner }) },
    rec,
  );
  closers.push(() => h.close());
  return h;
}
/** Each run appends the pid of the process that spawned it (the check's parent) to a file. */
function parentRecorder(): { file: string; argv: string[]; parents: () => number[] } {
  const file = join(mkdtempSync(join(tmpdir(), 'ahc-via-')), 'parents');
  return {
    file,
    argv: ['sh', '-c', `echo $PPID >> ${file}`],
    parents: () => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map(Number) : []),
  };
}
function groupSize(pgrp: number): number {
  let n = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgrp && f[0] !== 'Z') n += 1;
    } catch {
      // gone
    }
  }
  return n;
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
const children = (ppid: number): number[] =>
  readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid;
      } catch {
        return false;
      }
    })
    .map(Number);

describe('spawnVia host', () => {
  it('runs the checks of worker threads through the helper (pooled and per-service)', async () => {
    const h = await helper();
    for (const mode of ['per-service', 2] as const) {
      const rec = new Recorder();
      const p = parentRecorder();
      const wh = host(rec, h, mode);
      wh.start(checkSpec({ name: 'a', argv: p.argv }), rec.counters());
      wh.start(checkSpec({ name: 'b', argv: p.argv, prefixes: [hostPrefix('10.52.12.2')] }), rec.counters());
      await until(() => rec.results.filter((r) => r.ok).length >= 4, 10_000, 'results');
      expect(rec.results.every((r) => r.ok)).toBe(true);
      expect(new Set(p.parents())).toEqual(new Set([h.pid]));
      await wh.close();
    }
    expect(h.state().fallbackRuns).toBe(0);
  });

  it('spawns from the thread itself without a spawner (spawnVia self)', async () => {
    const rec = new Recorder();
    const p = parentRecorder();
    const wh = host(rec, undefined);
    wh.start(checkSpec({ name: 'a', argv: p.argv }), rec.counters());
    await until(() => rec.results.length >= 2, 10_000, 'results');
    expect(new Set(p.parents())).toEqual(new Set([process.pid]));
  });

  it('the helper SIGKILLed while checks run: no failed result, orphans killed, helper back and used', async () => {
    const h = await helper();
    const rec = new Recorder();
    const wh = host(rec, h, 2);
    const marker = join(mkdtempSync(join(tmpdir(), 'ahc-via-')), 'parents');
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      wh.start(
        checkSpec({
          name,
          argv: ['sh', '-c', `echo $PPID >> ${marker}; sleep 30 & sleep 0.3`],
          intervalMs: 200,
          timeoutMs: 5000,
          rise: 1,
          fail: 1,
          prefixes: [hostPrefix(`10.52.12.${name.charCodeAt(0) - 96}`)],
        }),
        rec.counters(),
      );
    }
    const first = h.pid as number;
    const inFlight = await until(
      () => {
        const c = children(first);
        // running for a moment (their background sleep started): the helper has told their pids
        return c.length >= 3 && c.every((pid) => groupSize(pid) >= 2) ? c : undefined;
      },
      10_000,
      'checks running in the helper',
    );
    process.kill(first, 'SIGKILL');
    await until(() => h.pid !== null && h.pid !== first, 5000, 'the helper to be back');
    const before = rec.results.length;
    await until(() => rec.results.length >= before + 10, 10_000, 'more results');
    expect(rec.results.filter((r) => !r.ok)).toEqual([]);
    expect(rec.logs.filter((l) => /check failed|changed to DOWN|going down/.test(l))).toEqual([]);
    await until(() => inFlight.every((pid) => !groupAlive(pid)), 2000, 'the orphaned groups to be killed');
    expect(h.state()).toMatchObject({ state: 'running', restarts: 1 });
    expect(h.state().rerunsAfterDeath).toBeGreaterThanOrEqual(3);
    const parents = readFileSync(marker, 'utf8').trim().split('\n').map(Number);
    expect(parents.at(-1)).toBe(h.pid);
  });

  it('cancels the running check of a service that is stopped, and drops its result', async () => {
    const h = await helper();
    const rec = new Recorder();
    const wh = host(rec, h);
    wh.start(checkSpec({ name: 'a', argv: ['sh', '-c', 'sleep 30 & sleep 30'], timeoutMs: 60_000 }), rec.counters());
    const check = await until(() => children(h.pid as number)[0], 10_000, 'the check to run');
    wh.stop('a');
    await until(() => h.state().inFlight === 0, 3000, 'the job to be cancelled');
    await until(() => !groupAlive(check), 2000, 'its group to be gone');
    expect(rec.results).toEqual([]);
  });

  it('a thread killed from outside: its running check is cancelled, the restarted thread checks through the helper', async () => {
    const h = await helper();
    const rec = new Recorder();
    const wh = new WorkerThreadHost(
      { workerFile: WORKER_FILE, mode: 'per-service', logLevel: 'info', faultInjection: true, watchdogIntervalMs: 100, spawner: h },
      rec,
    );
    closers.push(() => wh.close());
    wh.start(checkSpec({ name: 'a', argv: ['sh', '-c', 'sleep 30 & sleep 30'], timeoutMs: 60_000 }), rec.counters());
    const check = await until(() => children(h.pid as number)[0], 10_000, 'the check to run');
    const thread = wh.threads()[0]?.threadId;
    expect(wh.injectFault('a', 'terminate')).toBe(true);
    await until(() => !groupAlive(check), 3000, 'its group to be gone');
    await until(() => wh.threads()[0]?.threadId !== thread && children(h.pid as number).length === 1, 10_000, 'the new thread to check');
  });

  it('InProcessCheckHost runs its loops through the helper too', async () => {
    const h = await helper();
    const rec = new Recorder();
    const p = parentRecorder();
    const ih = new InProcessCheckHost({ logLevel: 'info', spawner: h }, rec);
    closers.push(() => ih.close());
    ih.start(checkSpec({ name: 'a', argv: p.argv }), rec.counters());
    await until(() => rec.results.length >= 2, 10_000, 'results');
    expect(new Set(p.parents())).toEqual(new Set([h.pid]));
  });
});
