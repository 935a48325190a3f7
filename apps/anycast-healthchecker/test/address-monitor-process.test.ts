// The daemon's address monitor child, `ahc-spawn --watch-addresses` (docs/design.md, "Address
// checks: one kernel subscription"), dies with the daemon, even when the daemon is SIGKILLed and
// cannot stop it.
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, killDaemons, pollUntil, removeTempDirs, writeDaemonSetup } from './harness';
import { StatusConnection } from '../../../test/helpers/status-client';
import { findIp } from '../../../packages/supervisor/src/address-watch';
import { execSync } from '../../../test/helpers/exec';
import { pollUntil as poll } from '../../../test/helpers/poll';

beforeAll(ensureBuilt);
afterEach(async () => {
  await killDaemons();
  removeTempDirs();
});

const skip =
  findIp() === null
    ? 'no ip (iproute2)'
    : execSync(['setpriv', '--pdeathsig', 'KILL', '--', 'true']).code !== 0
      ? 'no setpriv --pdeathsig'
      : null;

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe.skipIf(skip !== null)(`the address monitor child${skip === null ? '' : ` (skipped: ${skip})`}`, () => {
  it.each([
    ['ahc-spawn --watch-addresses', 'ahc-addr-watch', {}],
    ['ip -o monitor address (AHC_ADDRESS_MONITOR=ip)', 'ip', { AHC_ADDRESS_MONITOR: 'ip' }],
  ] as const)(
    '%s is gone soon after the daemon is SIGKILLed, and after a SIGTERM',
    async (_name, comm, env) => {
      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        const setup = writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }]);
        const daemon = DaemonProcess.start(setup.args, { ...process.env, ...env });
        const status = await StatusConnection.waitFor(setup.pidfile.replace(/\.pid$/, '.sock'), 10_000);
        const pid = await poll(
          async () => {
            const v = (await status.status()) as unknown as { daemon: { addresses?: { monitorPid: number | null } } };
            return v.daemon.addresses?.monitorPid ?? undefined;
          },
          { what: 'the monitor pid', timeoutMs: 10_000 },
        );
        status.close();
        expect(alive(pid)).toBe(true);
        expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe(comm);
        process.kill(daemon.pid, signal);
        await pollUntil(`the monitor gone after ${signal}`, () => (alive(pid) ? undefined : true), 5_000);
      }
    },
    30_000,
  );
});
