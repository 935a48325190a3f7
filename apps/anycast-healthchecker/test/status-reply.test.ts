import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BirdFamilyConfig, CompiledConfig, ServiceConfig } from '@ahc/config';
import type { CoreSnapshot, DrainFileState } from '@ahc/supervisor';
import { metricsFromSnapshot } from '../src/metrics-setup';
import { renderStatusReply } from '../src/status-reply';
import type { DaemonFacts } from '../src/status-reply';

const dir = mkdtempSync(join(tmpdir(), 'ahc-reply-'));
const path = join(dir, 'anycast-prefixes.conf');
const DUMMY = '10.189.200.255/32';
const bird = {
  family: 4,
  path,
  variable: 'ACAST_PS_ADVERTISE',
  dummy: DUMMY,
  reconfigureCmd: { text: 'birdc configure', argv: ['birdc', 'configure'] },
} as unknown as BirdFamilyConfig;
const svc = (name: string, prefix: string, disabled = false) =>
  ({ name, prefixes: [{ prefix, address: prefix.split('/')[0], prefixLength: 32, family: 4 }], disabled }) as unknown as ServiceConfig;
const NONE = { stateValue: null, durationMs: null, ipAssigned: null, timeouts: 0, timeoutsCreatedAt: null };
const snapshot: CoreSnapshot = {
  threads: 1,
  addresses: {
    source: 'events',
    ipPath: '/usr/sbin/ip',
    monitor: 'ahc-spawn --watch-addresses',
    monitorPid: 4242,
    restarts: 1,
    since: '2026-12-01T10:00:00.000Z',
    lastProblem: null,
  },
  services: [
    {
      view: {
        config: svc('a', '10.52.12.1/32'),
        counters: { state: 'up', rise: 2, fail: 0 },
        advertise: true,
        held: null,
        checks: 2,
        timeouts: 1,
        lastResult: {
          type: 'result',
          service: 'a',
          ok: true,
          exitCode: 0,
          durationMs: 4.5,
          timedOut: false,
          ipAssigned: true,
          finishedAt: 1764580000000,
          counters: { state: 'up', rise: 2, fail: 0 },
        },
        exported: { stateValue: 0, durationMs: 4.5, ipAssigned: true, timeouts: 1, timeoutsCreatedAt: 1764580000.5 },
      },
      worker: {
        state: 'failed',
        threadId: 11,
        lastHeartbeatAgeMs: 12,
        restarts: 5,
        lastExit: 'exited with code 1',
        exits: { exit: 4, 'watchdog:spinning': 1 },
      },
    },
    {
      view: {
        config: svc('d', '10.52.12.4/32', true),
        counters: { state: 'unknown', rise: 0, fail: 0 },
        advertise: false,
        held: null,
        checks: 0,
        timeouts: 0,
        lastResult: null,
        exported: NONE,
      },
      worker: { state: 'disabled', threadId: null, lastHeartbeatAgeMs: null, restarts: 0, lastExit: null, exits: {} },
    },
  ],
  families: [
    {
      family: 4,
      bird,
      desired: [DUMMY, '10.52.12.1/32'],
      written: [DUMMY, '10.52.12.1/32'],
      applied: [DUMMY],
      pending: true,
      applying: false,
      lastApplied: new Date('2026-12-01T09:00:00.000Z'),
      lastError: 'BIRD is down',
      reconfigureRuns: 3,
      reconfigureFailures: 2,
      lastReconfigureMs: 7,
      failures: { 'reconfigure:no-socket': 2 },
    },
  ],
};
const facts: DaemonFacts = {
  config: { files: ['/etc/anycast-healthchecker.conf'], daemon: { workerThreads: 'per-service' } } as unknown as CompiledConfig,
  program: 'anycast-healthchecker',
  version: '1.2.3',
  startedAt: new Date('2026-12-01T08:00:00.000Z'),
  startedAtMonotonic: 0,
  eventLoop: () => ({ lagMs: 1, maxLagMs: 2, blocked: false }),
};

describe('the status reply rendered from a core snapshot', () => {
  it('has the wire format of protocol version 1, field for field and in order', async () => {
    writeFileSync(path, `define ACAST_PS_ADVERTISE =\n    [\n        ${DUMMY},\n        10.52.12.1/32\n    ];\n`);
    const reply = await renderStatusReply(snapshot, facts);
    const text = JSON.stringify({ ...reply, daemon: { ...reply.daemon, pid: 0, uptimeSeconds: 0 } });
    expect(text).toBe(
      `{"version":1,"ok":true,"daemon":{"program":"anycast-healthchecker","version":"1.2.3","nodeVersion":"${process.versions.node}","pid":0,"startedAt":"2026-12-01T08:00:00.000Z",` +
        '"uptimeSeconds":0,"configFiles":["/etc/anycast-healthchecker.conf"],"workerThreads":"per-service","threads":1,"eventLoop":{"lagMs":1,"maxLagMs":2,"blocked":false},' +
        '"addresses":{"source":"events","ipPath":"/usr/sbin/ip","monitor":"ahc-spawn --watch-addresses","monitorPid":4242,"restarts":1,"since":"2026-12-01T10:00:00.000Z","lastProblem":null},' +
        `"bird":[{"family":4,"path":"${path}","variable":"ACAST_PS_ADVERTISE","reconfigureCommand":"birdc configure","prefixes":["${DUMMY}","10.52.12.1/32"],` +
        `"applied":["${DUMMY}"],"reconfigureRuns":3,"reconfigureFailures":2,"desired":["${DUMMY}","10.52.12.1/32"],"lastReconfigureMs":7,"pending":true,"applying":false,` +
        '"lastApplied":"2026-12-01T09:00:00.000Z","lastError":"BIRD is down","failures":{"reconfigure:no-socket":2}}]},"services":[' +
        '{"name":"a","prefix":"10.52.12.1/32","family":4,"worker":{"state":"failed","threadId":11,"lastHeartbeatAgeMs":12,"restarts":5,"lastExit":"exited with code 1","exits":{"exit":4,"watchdog:spinning":1}},' +
        '"state":"up","rise":2,"fail":0,"checks":2,"timeouts":1,"lastCheck":{"at":"2025-12-01T09:06:40.000Z","ok":true,"exitCode":0,"durationMs":4.5,"timedOut":false,"ipAssigned":true},' +
        '"advertise":true,"inBirdFile":true,"drains":[],"exported":{"stateValue":0,"durationMs":4.5,"ipAssigned":true,"timeouts":1,"timeoutsCreatedAt":1764580000.5}},' +
        '{"name":"d","prefix":"10.52.12.4/32","family":4,"worker":{"state":"disabled","threadId":null,"lastHeartbeatAgeMs":null,"restarts":0,"lastExit":null,"exits":{}},' +
        '"state":"unknown","rise":0,"fail":0,"checks":0,"timeouts":0,"lastCheck":null,"advertise":false,"inBirdFile":false,"drains":[],' +
        '"exported":{"stateValue":null,"durationMs":null,"ipAssigned":null,"timeouts":0,"timeoutsCreatedAt":null}}]}',
    );
  });

  it('shows the file as it is now: a hand edit since the last write, or no file at all', async () => {
    writeFileSync(path, `define ACAST_PS_ADVERTISE =\n    [\n        ${DUMMY},\n        10.52.12.4/32\n    ];\n`);
    let reply = await renderStatusReply(snapshot, facts);
    expect(reply.daemon.bird[0]?.prefixes).toEqual([DUMMY, '10.52.12.4/32']);
    expect(reply.services.map((s) => s.inBirdFile)).toEqual([false, true]);
    reply = await renderStatusReply(
      { ...snapshot, families: snapshot.families.map((f) => ({ ...f, bird: { ...f.bird, path: join(dir, 'missing') } })) },
      facts,
    );
    expect(reply.daemon.bird[0]?.prefixes).toEqual([]);
  });
});

describe('drains in the status reply and the metrics', () => {
  const since = new Date(Date.now() - 90_000).toISOString();
  const drained: CoreSnapshot = {
    ...snapshot,
    services: snapshot.services.map((s, i) =>
      i === 0 ? { ...s, drains: [{ source: 'command', all: false, reason: 'maintenance', since }] } : s,
    ),
  };
  const drainFile = (): DrainFileState => ({
    path: '/run/ahc/drain',
    content: { kind: 'services', names: ['a'] },
    watch: 'events',
    lastProblem: null,
  });

  it("show each service's drains with source, reason, start and age, and the drain file and control socket after addresses", async () => {
    const reply = await renderStatusReply(drained, { ...facts, controlSocket: () => '/run/ahc/c.sock', drainFile });
    expect(reply.services[0]?.drains).toEqual([
      { source: 'command', all: false, reason: 'maintenance', since, ageSeconds: expect.closeTo(90, 0) },
    ]);
    expect(reply.services[1]?.drains).toEqual([]);
    expect(reply.daemon.controlSocket).toBe('/run/ahc/c.sock');
    expect(reply.daemon.drainFile).toEqual({
      path: '/run/ahc/drain',
      state: 'services',
      services: ['a'],
      watch: 'events',
      lastProblem: null,
    });
    expect(Object.keys(reply.daemon).slice(-4)).toEqual(['addresses', 'controlSocket', 'drainFile', 'bird']);
  });

  it('leave controlSocket and drainFile out when there is none', async () => {
    const reply = await renderStatusReply(drained, { ...facts, controlSocket: () => null, drainFile: () => null });
    expect(Object.keys(reply.daemon)).not.toContain('controlSocket');
    expect(Object.keys(reply.daemon)).not.toContain('drainFile');
  });

  it('are the drained metric: 1 for a drained service, 0 for the others', () => {
    expect(metricsFromSnapshot(drained, facts).services.map((s) => [s.name, s.drained])).toEqual([
      ['a', true],
      ['d', false],
    ]);
  });
});

describe('the check spawner in the status reply and the metrics', () => {
  const helper = {
    via: 'host',
    reason: 'the helper started',
    binary: '/x/ahc-spawn',
    state: 'restarting',
    pid: null,
    restarts: 2,
    inFlight: 0,
    fallbackRuns: 5,
    rerunsAfterDeath: 3,
    lastExit: 'was killed by SIGKILL',
  } as const;

  it('comes after eventLoop in daemon, as the daemon tells it', async () => {
    const reply = await renderStatusReply(snapshot, { ...facts, spawnHelper: () => helper });
    expect(reply.daemon.spawnHelper).toEqual(helper);
    expect(Object.keys(reply.daemon).slice(-4)).toEqual(['eventLoop', 'spawnHelper', 'addresses', 'bird']);
  });

  it('is a metric only when checks go through the helper', () => {
    expect(metricsFromSnapshot(snapshot, { ...facts, spawnHelper: () => helper }).spawnHelper).toEqual({
      up: false,
      restarts: 2,
      fallbackRuns: 5,
    });
    expect(
      metricsFromSnapshot(snapshot, { ...facts, spawnHelper: () => ({ via: 'self', reason: 'r', binary: null }) }).spawnHelper,
    ).toBeUndefined();
  });
});

describe('the state file in the status reply and the metrics', () => {
  const state = {
    path: '/var/lib/x/state.json',
    state: 'failing',
    writes: 3,
    failures: 2,
    lastWrite: '2026-12-01T10:00:00.000Z',
    failingSince: '2026-12-01T10:01:00.000Z',
    lastProblem: 'cannot write /var/lib/x/state.json: ENOSPC: no space left on device, write',
  } as const;

  it('is in daemon as the store tells it, and absent until the store is opened', async () => {
    expect((await renderStatusReply(snapshot, { ...facts, stateFile: () => state })).daemon.stateFile).toEqual(state);
    expect('stateFile' in (await renderStatusReply(snapshot, { ...facts, stateFile: () => null })).daemon).toBe(false);
  });

  it('gives the metrics whether it is written, with its writes and failures', () => {
    expect(metricsFromSnapshot(snapshot, { ...facts, stateFile: () => state }).stateFile).toEqual({ ok: false, writes: 3, failures: 2 });
    expect(metricsFromSnapshot(snapshot, { ...facts, stateFile: () => ({ ...state, state: 'ok' }) }).stateFile?.ok).toBe(true);
    expect(metricsFromSnapshot(snapshot, facts).stateFile).toBeUndefined();
  });
});

describe('metrics rendered from a core snapshot', () => {
  it('take the values the core keeps, without reading the BIRD file', () => {
    const missing = { ...snapshot, families: snapshot.families.map((f) => ({ ...f, bird: { ...f.bird, path: join(dir, 'missing') } })) };
    const m = metricsFromSnapshot(missing, facts);
    expect({ ...m, uptimeSeconds: 0 }).toEqual({
      version: '1.2.3',
      uptimeSeconds: 0,
      eventLoopLagMs: 1,
      addressWatch: { source: 'events', restarts: 1 },
      services: [
        {
          name: 'a',
          prefixes: ['10.52.12.1/32'],
          stateValue: 0,
          durationMs: 4.5,
          ipAssigned: true,
          timeouts: 1,
          timeoutsCreatedAt: 1764580000.5,
          restarts: 5,
          exits: { exit: 4, 'watchdog:spinning': 1 },
          decided: 'up',
          advertised: true,
          workerFailed: true,
          drained: false,
        },
        {
          name: 'd',
          prefixes: ['10.52.12.4/32'],
          stateValue: null,
          durationMs: null,
          ipAssigned: null,
          timeouts: 0,
          timeoutsCreatedAt: null,
          restarts: 0,
          exits: {},
          decided: 'unknown',
          advertised: false,
          workerFailed: false,
          drained: false,
        },
      ],
      families: [
        {
          family: 4,
          desired: 2,
          applied: 1,
          pending: true,
          reconfigureRuns: 3,
          reconfigureFailures: 2,
          lastReconfigureMs: 7,
          failures: { 'reconfigure:no-socket': 2 },
        },
      ],
    });
  });
});
