import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '@ahc/config';
import { checkPhases, PHASE_SLOT_MS, PHASE_STEP_MS } from '../src/supervisor';

const svc = (name: string, intervalMs: number, disabled = false) => ({ name, intervalMs, disabled }) as unknown as ServiceConfig;
const perSlot = PHASE_SLOT_MS / PHASE_STEP_MS;

describe('checkPhases', () => {
  it('groups enabled services by slot, in configuration order, skipping disabled ones', () => {
    const names = Array.from({ length: perSlot + 2 }, (_, i) => `s${i}`);
    const phases = checkPhases([svc('off', 1000, true), ...names.map((n) => svc(n, 1000))]);
    expect(phases.has('off')).toBe(false);
    expect(phases.size).toBe(names.length);
    // the first perSlot services start together at the grid's point, the next ones one slot later
    for (const [i, n] of names.entries()) expect(phases.get(n)).toBe(i < perSlot ? 0 : PHASE_SLOT_MS);
  });

  it('fits a thousand services into a short interval: every phase a slot under the interval, no slot crowded', () => {
    const services = Array.from({ length: 1000 }, (_, i) => svc(`s${i}`, 500));
    const phases = [...checkPhases(services).values()];
    expect(Math.max(...phases)).toBeLessThan(500);
    for (const p of phases) expect(p % PHASE_SLOT_MS).toBe(0);
    const counts = new Map<number, number>();
    for (const p of phases) counts.set(p, (counts.get(p) ?? 0) + 1);
    // 1000 services in 500 ms: 16 slots, none holding more than its share (rounded up)
    expect(counts.size).toBe(Math.ceil(500 / PHASE_SLOT_MS));
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(Math.ceil((1000 * PHASE_SLOT_MS) / 500));
    // 1000 services at 5 s: spread over 2 s
    const slow = [...checkPhases(Array.from({ length: 1000 }, (_, i) => svc(`s${i}`, 5000))).values()];
    expect(slow[999]).toBe(Math.floor((999 * PHASE_STEP_MS) / PHASE_SLOT_MS) * PHASE_SLOT_MS);
    expect(new Set(slow).size).toBe(Math.ceil((1000 * PHASE_STEP_MS) / PHASE_SLOT_MS));
  });
});
