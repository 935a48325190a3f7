// The state store against the real file system: the directory is made, the file is written
// atomically and gathered, faults are reported (a failing write at most once a minute) and never thrown.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { INITIAL_COUNTERS } from '@ahc/protocol';
import { captureLogger } from '../../../test/helpers/capture-logger';
import { delay, pollUntil } from '../../../test/helpers/poll';
import { decodeStateFile } from '../src/state-file';
import { StateStore } from '../src/state-store';
import type { StateStoreOptions } from '../src/state-store';
import type { ServiceView } from '../src/service-registry';
import { ServiceRegistry } from '../src/service-registry';
import { makeBed } from './fixture';

const bed = makeBed();
const config = bed.config({ a: { ip_prefix: '10.52.12.1/32' }, b: { ip_prefix: '10.52.12.2/32' } });
const stores: StateStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function makeStore(dir: string, over: Partial<StateStoreOptions> = {}, views: () => readonly ServiceView[] = () => []) {
  const { log, lines } = captureLogger();
  const store = new StateStore({
    dir,
    log,
    version: '9.9.9',
    pidfile: '/run/test.pid',
    services: views,
    refreshMs: 60_000,
    gatherMs: 20,
    ...over,
  });
  stores.push(store);
  return { store, lines };
}

/** Wait (bounded) until `cond` holds. */
const poll = (cond: () => boolean, o: { timeoutMs: number; what: string }): Promise<true> =>
  pollUntil(async () => (cond() ? true : undefined), { ...o, intervalMs: 5 });

const fresh = (): string => mkdtempSync(join(tmpdir(), 'ahc-state-'));
const read = (store: StateStore) => decodeStateFile(readFileSync(store.path, 'utf8'));

describe('StateStore', () => {
  it('creates a missing state_dir with mode 0750 and writes a file of this daemon soon after start', async () => {
    const dir = join(fresh(), 'var', 'state');
    const registry = new ServiceRegistry(config.services);
    registry.decide('a', 'up', { ...INITIAL_COUNTERS, state: 'up' });
    const { store, lines } = makeStore(dir, {}, () => registry.all());
    expect(await store.open()).toBeNull();
    expect(statSync(dir).mode & 0o777).toBe(0o750);
    expect(lines.join('\n')).toContain(`created the state directory ${dir}`);
    expect(lines.join('\n')).toContain(`no state file ${store.path} yet`);
    store.start(new Map(), () => ({ '*': { reason: 'rack move', since: '2026-12-01T10:00:00.000Z', source: 'command' } }));
    await poll(() => store.writes === 1, { timeoutMs: 2_000, what: 'the first write' });
    const decoded = read(store);
    expect(decoded).toMatchObject({
      ok: true,
      state: {
        version: '9.9.9',
        pidfile: '/run/test.pid',
        pid: process.pid,
        withdrawnAtShutdown: false,
        services: { a: { state: 'up', prefixes: ['10.52.12.1/32'] } },
        drains: { '*': { reason: 'rack move', since: '2026-12-01T10:00:00.000Z', source: 'command' } },
      },
    });
  });

  it('gathers a burst of 1000 changes into one write', async () => {
    const { store } = makeStore(fresh(), { gatherMs: 50 });
    await store.open();
    store.start(new Map(), () => ({}));
    for (let i = 0; i < 1000; i += 1) store.changed();
    await poll(() => store.writes === 1, { timeoutMs: 2_000, what: 'one write' });
    // Nothing else was pending: four more gathering periods pass without another write.
    await delay(200);
    expect(store.writes).toBe(1);
  });

  it('writes once more at close, marking a withdraw at shutdown; a store never started leaves the file alone', async () => {
    const dir = fresh();
    const { store } = makeStore(dir);
    await store.open();
    store.start(new Map(), () => ({}));
    await store.close({ withdrawnAtShutdown: true });
    expect(read(store)).toMatchObject({ ok: true, state: { withdrawnAtShutdown: true } });
    writeFileSync(store.path, 'left as it was');
    const second = makeStore(dir).store;
    await second.open();
    await second.close();
    expect(readFileSync(store.path, 'utf8')).toBe('left as it was');
  });

  it.each([
    ['empty', '', 'the file is empty'],
    ['corrupt', '{"program": "anycast-health', 'not JSON'],
    ['foreign', '{"some": "other file"}', 'not a state file of anycast-healthchecker'],
    ['newer', '{"program": "anycast-healthchecker", "format": 7, "version": "3.0.0"}', 'written in format 7 by a newer version (3.0.0)'],
  ])('reports a %s state file and returns nothing from it', async (_kind, text, reason) => {
    const dir = fresh();
    writeFileSync(join(dir, 'state.json'), text);
    const { store, lines } = makeStore(dir);
    expect(await store.open()).toBeNull();
    expect(lines.filter((l) => l.includes('WARNING'))).toEqual([
      expect.stringContaining(`AHC_STATE_FILE: ignoring the state file ${join(dir, 'state.json')}: ${reason}`),
    ]);
    expect(store.phase).toBe('running');
  });

  it('runs without persistence when state_dir is a file or cannot be created', async () => {
    const root = fresh();
    writeFileSync(join(root, 'file'), '');
    for (const dir of [join(root, 'file'), join(root, 'file', 'state')]) {
      const { store, lines } = makeStore(dir);
      expect(await store.open()).toBeNull();
      expect(store.phase).toBe('disabled');
      expect(lines.join('\n')).toMatch(new RegExp(`AHC_STATE_FILE: state_dir ${dir} cannot be used \\(.+\\); running without persistence`));
      store.start(new Map(), () => ({}));
      store.changed();
      await store.close();
      expect(store.writes).toBe(0);
      expect(store.snapshot()).toEqual({
        path: store.path,
        state: 'disabled',
        writes: 0,
        failures: 0,
        lastWrite: null,
        failingSince: null,
        lastProblem: expect.stringMatching(new RegExp(`^state_dir ${dir} cannot be used: `)),
      });
    }
  });

  it('warns about a failing write at most once a minute, and says when writes work again', async () => {
    const dir = fresh();
    let now = 1_000_000;
    const { store, lines } = makeStore(dir, { now: () => now });
    await store.open();
    // A directory where the file should be: every rename onto it fails.
    mkdirSync(store.path);
    writeFileSync(join(store.path, 'keep'), '');
    store.start(new Map(), () => ({}));
    const warnings = () => lines.filter((l) => l.includes('WARNING'));
    await poll(() => store.failures === 1, { timeoutMs: 2_000, what: 'the first failed write' });
    const failingSince = new Date(now).toISOString();
    for (let i = 2; i <= 4; i += 1) {
      now += 10_000;
      store.changed();
      await poll(() => store.failures === i, { timeoutMs: 2_000, what: `failed write ${i}` });
    }
    expect(warnings()).toEqual([expect.stringMatching(/AHC_STATE_FILE: cannot write .*state\.json: .*; the daemon runs on/)]);
    now += 61_000;
    store.changed();
    await poll(() => store.failures === 5, { timeoutMs: 2_000, what: 'failed write 5' });
    expect(warnings()).toHaveLength(2);
    // Status and metrics see the failures as they go on: since the first, with the last reason.
    expect(store.snapshot()).toEqual({
      path: store.path,
      state: 'failing',
      writes: 0,
      failures: 5,
      lastWrite: null,
      failingSince,
      lastProblem: expect.stringMatching(/^cannot write .*state\.json: /),
    });
    rmSync(store.path, { recursive: true });
    now += 1_000;
    store.changed();
    await poll(() => store.writes === 1, { timeoutMs: 2_000, what: 'a write that works' });
    expect(store.snapshot()).toEqual({
      path: store.path,
      state: 'ok',
      writes: 1,
      failures: 5,
      lastWrite: new Date(now).toISOString(),
      failingSince: null,
      lastProblem: null,
    });
    expect(lines.join('\n')).toContain(`the state file ${store.path} is written again`);
    expect(read(store)).toMatchObject({ ok: true });
  });
});
