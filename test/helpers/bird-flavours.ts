// The BIRD builds the BGP end-to-end tests run against: Debian's BIRD 2 always, BIRD 3 where the
// test machine carries a build (birdc.ts, BIRD3_DIR; CI has it). Without it the BIRD 3 variants
// are skipped, and the reason is printed once per test file.
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { birdFlavours, type BirdBinaries } from './birdc.js';

const found = birdFlavours(fileURLToPath(new URL('../..', import.meta.url)));

export const BIRD_FLAVOURS: readonly BirdBinaries[] = found.flavours;

/** Why the BIRD 3 variants do not run here, or null. */
export const BIRD3_SKIP_NOTE: string | null = found.skipped;

/** Register a skipped suite that says why BIRD 3 is missing (call at the top level of a test file). */
export function noteBird3Skip(what: string): void {
  if (BIRD3_SKIP_NOTE === null) return;
  console.warn(`${what}: BIRD 3 variant skipped: ${BIRD3_SKIP_NOTE}`);
  describe.skip(`${what}, BIRD 3 (skipped: ${BIRD3_SKIP_NOTE})`, () => {
    it('needs BIRD 3', () => undefined);
  });
}
