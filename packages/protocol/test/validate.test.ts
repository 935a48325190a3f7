import { describe, expect, it } from 'vitest';
import { INITIAL_COUNTERS, parseToWorker } from '../src/index';

const start = { type: 'start', service: 'web', spec: { argv: ['true'] }, counters: INITIAL_COUNTERS, logLevel: 'info' };

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
