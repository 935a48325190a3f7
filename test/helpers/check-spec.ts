// Shared by the package unit tests (packages/*/test import it as ../../../test/helpers/check-spec). The
// spec type comes by path: the repo root does not depend on @ahc/protocol.
import type { IpPrefix, ServiceCheckSpec } from '../../packages/protocol/src/service-spec';

/** A host prefix (/32, or /128 for an address with a colon) as a spec carries it. */
export function hostPrefix(address: string): IpPrefix {
  const family = address.includes(':') ? 6 : 4;
  const prefixLength = family === 4 ? 32 : 128;
  return { prefix: `${address}/${prefixLength}`, address, prefixLength, family };
}

/**
 * A ServiceCheckSpec for unit tests: service 'svc' running /bin/true every 100 ms (timeout 1 s,
 * rise and fail 2) on 10.52.12.1/32 with the IP check disabled; `over` replaces any field.
 * `checkCmd` defaults to the `argv` joined with spaces.
 */
export function checkSpec(over: Partial<ServiceCheckSpec> = {}): ServiceCheckSpec {
  const argv = over.argv ?? ['/bin/true'];
  return {
    name: 'svc',
    checkCmd: argv.join(' '),
    argv,
    intervalMs: 100,
    timeoutMs: 1000,
    rise: 2,
    fail: 2,
    interface: 'lo',
    ipCheckDisabled: true,
    prefixes: [hostPrefix('10.52.12.1')],
    splayMs: 0,
    maxOutputBytes: 4096,
    epochMs: 0,
    phaseMs: 0,
    ...over,
  };
}

/**
 * Poll `get` every 10 ms until it returns something other than undefined or false, and resolve
 * to that; throw `${what} not met within ${timeoutMs} ms` at the deadline.
 */
export async function until<T>(get: () => T | undefined | false, timeoutMs: number, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
