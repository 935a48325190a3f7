import { describe, expect, it } from 'vitest';
import type { FromWorker } from '@ahc/protocol';
import { HostSpawner } from '../src/host-spawner';

const result = {
  code: 0,
  signal: null,
  timedOut: false,
  spawnError: null,
  stdout: '',
  stderr: '',
  truncated: false,
  durationMs: 2,
} as const;

describe('HostSpawner (the worker side of spawnVia host)', () => {
  it('posts a spawn and resolves with the spawn-result of the same id', async () => {
    const posted: FromWorker[] = [];
    const s = new HostSpawner((m) => posted.push(m));
    const a = s.run('web', ['sh', '-c', 'exit 0'], { timeoutMs: 1000 });
    const b = s.runnerFor('db')(['true'], { timeoutMs: 500, maxOutputBytes: 10 });
    expect(posted).toEqual([
      { type: 'spawn', service: 'web', id: 1, argv: ['sh', '-c', 'exit 0'], timeoutMs: 1000, maxOutputBytes: 4096 },
      { type: 'spawn', service: 'db', id: 2, argv: ['true'], timeoutMs: 500, maxOutputBytes: 10 },
    ]);
    s.settle({ type: 'spawn-result', service: 'db', id: 2, result: { ...result, code: 1 } });
    s.settle({ type: 'spawn-result', service: 'web', id: 99, result }); // not ours: ignored
    expect(await b).toMatchObject({ code: 1 });
    expect(s.pending).toBe(1);
    s.settle({ type: 'spawn-result', service: 'web', id: 1, result });
    expect(await a).toEqual(result);
    expect(s.pending).toBe(0);
  });

  it('posts a spawn-cancel when the check is aborted, and only while it is pending', async () => {
    const posted: FromWorker[] = [];
    const s = new HostSpawner((m) => posted.push(m));
    const abort = new AbortController();
    const run = s.run('web', ['sleep', '30'], { timeoutMs: 60_000, signal: abort.signal });
    abort.abort();
    expect(posted.at(-1)).toEqual({ type: 'spawn-cancel', service: 'web', id: 1 });
    s.settle({ type: 'spawn-result', service: 'web', id: 1, result: { ...result, code: null, signal: 'SIGKILL' } });
    expect(await run).toMatchObject({ signal: 'SIGKILL' });
    const later = new AbortController();
    const done = s.run('web', ['true'], { timeoutMs: 1000, signal: later.signal });
    s.settle({ type: 'spawn-result', service: 'web', id: 2, result });
    await done;
    later.abort();
    expect(posted.filter((m) => m.type === 'spawn-cancel')).toHaveLength(1);
  });
});
