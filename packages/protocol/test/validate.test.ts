import { describe, expect, it } from 'vitest';
import { ProtocolError, parseFromWorker, parseToWorker } from '../src/validate';
import { INITIAL_COUNTERS } from '../src/index';
import { checkSpec } from '../../../test/helpers/check-spec';

const counters = { state: 'unknown', rise: 0, fail: 0 } as const;
const result = {
  code: 0,
  signal: null,
  timedOut: false,
  spawnError: null,
  stdout: 'out',
  stderr: '',
  truncated: false,
  durationMs: 1.5,
};

describe('spawn messages', () => {
  it('accepts a spawn request and a cancel from a worker', () => {
    const spawn = { type: 'spawn', service: 'web', id: 3, argv: ['sh', '-c', 'true'], timeoutMs: 1000, maxOutputBytes: 4096 };
    expect(parseFromWorker(spawn)).toEqual(spawn);
    expect(parseFromWorker({ type: 'spawn-cancel', service: 'web', id: 3 })).toEqual({ type: 'spawn-cancel', service: 'web', id: 3 });
  });

  it.each([
    { type: 'spawn', service: 'web', id: -1, argv: ['x'], timeoutMs: 1, maxOutputBytes: 1 },
    { type: 'spawn', service: 'web', id: 1.5, argv: ['x'], timeoutMs: 1, maxOutputBytes: 1 },
    { type: 'spawn', service: 'web', id: 1, argv: 'x', timeoutMs: 1, maxOutputBytes: 1 },
    { type: 'spawn', service: 'web', id: 1, argv: ['x', 2], timeoutMs: 1, maxOutputBytes: 1 },
    { type: 'spawn', service: 'web', id: 1, argv: ['x'], maxOutputBytes: 1 },
    { type: 'spawn', service: 'web', id: 1, argv: ['x'], timeoutMs: 1 },
    { type: 'spawn-cancel', service: 'web' },
    { type: 'spawn-cancel', id: 1 },
  ])('refuses a malformed spawn message %j', (message) => {
    expect(() => parseFromWorker(message)).toThrow(ProtocolError);
  });

  it('accepts a spawn result to a worker, with a spawn error or a signal', () => {
    const ok = { type: 'spawn-result', service: 'web', id: 1, result };
    expect(parseToWorker(ok)).toEqual(ok);
    const failed = { ...ok, result: { ...result, code: 127, spawnError: { code: 'ENOENT', message: 'spawn x ENOENT' } } };
    expect(parseToWorker(failed)).toEqual(failed);
    const killed = { ...ok, result: { ...result, code: null, signal: 'SIGKILL', timedOut: true } };
    expect(parseToWorker(killed)).toEqual(killed);
  });

  it.each([
    { id: 1 },
    { id: 'x', result },
    { id: 1, result: { ...result, stdout: undefined } },
    { id: 1, result: { ...result, code: '0' } },
    { id: 1, result: { ...result, spawnError: { code: 'ENOENT' } } },
    { id: 1, result: { ...result, truncated: 1 } },
  ])('refuses a malformed spawn result %j', (over) => {
    expect(() => parseToWorker({ type: 'spawn-result', service: 'web', ...over })).toThrow(ProtocolError);
  });

  it('start carries spawnVia host or self, and nothing else', () => {
    const start = { type: 'start', service: 'svc', spec: checkSpec(), counters, logLevel: 'info', ipAssigned: null };
    expect(parseToWorker({ ...start, spawnVia: 'host' })).toMatchObject({ spawnVia: 'host' });
    expect(parseToWorker({ ...start, spawnVia: 'self' })).toMatchObject({ spawnVia: 'self' });
    expect(() => parseToWorker(start)).toThrow(ProtocolError);
    expect(() => parseToWorker({ ...start, spawnVia: 'helper' })).toThrow(ProtocolError);
  });
});

const start = { type: 'start', service: 'web', spec: { argv: ['true'] }, counters: INITIAL_COUNTERS, logLevel: 'info', spawnVia: 'self' };

describe('parseToWorker: the address watch fields', () => {
  it.each([true, false, null])('accepts start with ipAssigned %s', (ipAssigned) => {
    expect(parseToWorker({ ...start, ipAssigned })).toMatchObject({ type: 'start', ipAssigned });
  });

  it.each([undefined, 'yes', 1])('refuses start with ipAssigned %j', (ipAssigned) => {
    expect(() => parseToWorker({ ...start, ipAssigned })).toThrow(/malformed start/);
  });

  it.each([true, false, null])('accepts ip-state %s', (assigned) => {
    expect(parseToWorker({ type: 'ip-state', service: 'web', assigned })).toEqual({ type: 'ip-state', service: 'web', assigned });
  });

  it.each([undefined, 0, 'false'])('refuses ip-state %j', (assigned) => {
    expect(() => parseToWorker({ type: 'ip-state', service: 'web', assigned })).toThrow(/malformed ip-state/);
  });
});
