// Proves the namespace test bed itself: a prefix is exported to the peer only while it is both
// on the node's lo and listed in the prefix file, and a `birdc configure` withdraws it at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBirdPair, requireNetnsSupport, type BirdPair } from '../helpers/bird-pair.js';
import { BIRD_FLAVOURS, noteBird3Skip } from '../helpers/bird-flavours.js';
import { writePrefixFile, type Family } from '../helpers/prefix-file.js';

const skipReason = requireNetnsSupport();
if (skipReason !== null) console.warn(`skipping the BIRD namespace test bed: ${skipReason}`);

if (skipReason === null) noteBird3Skip('BIRD namespace test bed');

describe.skipIf(skipReason !== null).each(BIRD_FLAVOURS)(
  `BIRD namespace test bed, $label${skipReason === null ? '' : ` (skipped: ${skipReason})`}`,
  (flavour) => {
    let bed: BirdPair;

    beforeAll(async () => {
      bed = await createBirdPair({ id: `bp${flavour.major}`, binaries: flavour });
    });

    afterAll(async () => {
      await bed?.destroy();
    });

    it('establishes both BGP sessions and exports nothing while only the dummy is listed', async () => {
      const protocols = (await bed.nodeBirdc(['show', 'protocols'])).stdout;
      expect(protocols).toMatch(/peer4\s+BGP.*Established/);
      expect(protocols).toMatch(/peer6\s+BGP.*Established/);
      expect(await bed.peerRoutes(4)).toEqual(new Set());
      expect(await bed.peerRoutes(6)).toEqual(new Set());
    });

    const cases: { family: Family; prefix: string; other: string }[] = [
      { family: 4, prefix: '10.52.12.1/32', other: '10.52.12.2/32' },
      { family: 6, prefix: '2001:db8:52::1/128', other: '2001:db8:52::2/128' },
    ];

    for (const { family, prefix, other } of cases) {
      it(`advertises IPv${family} ${prefix} while listed and on lo, and withdraws it on birdc configure`, async () => {
        const file = family === 4 ? bed.prefixFile4 : bed.prefixFile6;
        await bed.addAddress(prefix);
        await bed.addAddress(other);
        writePrefixFile(file, family, [prefix]);
        await bed.reconfigureNode();
        const advertiseMs = await bed.waitForPeerRoute(prefix, true, 5_000);
        // Assigned to lo but not listed: filtered out by the export filter.
        expect((await bed.peerRoutes(family)).has(other)).toBe(false);

        writePrefixFile(file, family, []);
        const started = performance.now();
        await bed.reconfigureNode();
        const configureMs = performance.now() - started;
        const withdrawMs = await bed.waitForPeerRoute(prefix, false, 5_000);
        console.log(
          `[bird-pair] IPv${family} ${prefix}: advertised after ${advertiseMs.toFixed(0)} ms; ` +
            `withdraw seen by the peer ${(configureMs + withdrawMs).toFixed(0)} ms after birdc configure started ` +
            `(configure ${configureMs.toFixed(0)} ms + ${withdrawMs.toFixed(0)} ms)`,
        );
        expect(configureMs + withdrawMs).toBeLessThan(2_000);
        await bed.delAddress(prefix);
        await bed.delAddress(other);
      });
    }

    it('withdraws a listed prefix as soon as its address leaves lo', async () => {
      const prefix = '10.52.12.3/32';
      await bed.addAddress(prefix);
      writePrefixFile(bed.prefixFile4, 4, [prefix]);
      await bed.reconfigureNode();
      await bed.waitForPeerRoute(prefix, true, 5_000);
      const started = performance.now();
      await bed.delAddress(prefix);
      await bed.waitForPeerRoute(prefix, false, 5_000);
      console.log(`[bird-pair] ${prefix} withdrawn ${(performance.now() - started).toFixed(0)} ms after ip addr del`);
      writePrefixFile(bed.prefixFile4, 4, []);
      await bed.reconfigureNode();
    });

    it('re-establishes the session after the node BIRD restarts', async () => {
      await bed.stopNodeBird();
      await expect(bed.nodeBirdc(['show', 'status'])).rejects.toThrow();
      await bed.startNodeBird();
      expect((await bed.nodeBirdc(['show', 'protocols'])).stdout).toMatch(/peer4\s+BGP.*Established/);
    });
  },
);
