import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '@ahc/config';
import { checkPhases, PHASE_STEP_MS } from '../src/supervisor';

const svc = (name: string, intervalMs: number, disabled = false) => ({ name, intervalMs, disabled }) as unknown as ServiceConfig;

describe('checkPhases', () => {
  it('sets enabled services PHASE_STEP_MS apart, in configuration order, skipping disabled ones', () => {
    const phases = checkPhases([svc('a', 1000), svc('off', 1000, true), svc('b', 1000), svc('c', 1000)]);
    expect([...phases]).toEqual([
      ['a', 0],
      ['b', PHASE_STEP_MS],
      ['c', 2 * PHASE_STEP_MS],
    ]);
  });

  it('fits a thousand services into a short interval: every phase under the interval, all distinct', () => {
    const services = Array.from({ length: 1000 }, (_, i) => svc(`s${i}`, 500));
    const phases = [...checkPhases(services).values()];
    expect(Math.max(...phases)).toBeLessThan(500);
    expect(new Set(phases).size).toBe(1000);
    // 1000 services at 5 s: 2 ms apart, spread over 2 s
    const slow = [...checkPhases(Array.from({ length: 1000 }, (_, i) => svc(`s${i}`, 5000))).values()];
    expect(slow[999]).toBe(999 * PHASE_STEP_MS);
  });
});
