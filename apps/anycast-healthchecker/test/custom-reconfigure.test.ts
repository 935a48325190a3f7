// custom_bird_reconfigure_cmd whose program is missing on this host: accepted by -c (as the Python
// daemon does; configurations are often validated on a build host), warned about, and reported
// with the service's name and the program each time the daemon tries to run it.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, killDaemons, removeTempDirs, runCli, writeDaemonSetup } from './harness';

beforeAll(ensureBuilt);
afterEach(async () => {
  await killDaemons();
  removeTempDirs();
});

function setupWithMissingProgram(): { setup: ReturnType<typeof writeDaemonSetup>; program: string; serviceFile: string; line: number } {
  const setup = writeDaemonSetup([{ name: 'web', prefix: '10.52.12.1/32' }]);
  const program = join(setup.root, 'not-installed', 'announce');
  const serviceFile = join(setup.dir, 'web.conf');
  appendFileSync(serviceFile, `custom_bird_reconfigure_cmd = ${program} --quick\n`);
  const line =
    readFileSync(serviceFile, 'utf8')
      .split('\n')
      .findIndex((l) => l.startsWith('custom_bird_reconfigure_cmd')) + 1;
  return { setup, program, serviceFile, line };
}

describe('custom_bird_reconfigure_cmd whose program is missing', () => {
  it("-c prints OK and exits 0 and says nothing about it (the program is not -c's business)", async () => {
    const { setup } = setupWithMissingProgram();
    const result = await runCli([...setup.args, '-c']);
    expect(result).toEqual(expect.objectContaining({ code: 0, stdout: 'OK\n', stderr: '' }));
  });

  it('the daemon logs the warning naming file:line and the program', async () => {
    const { setup, program, serviceFile, line } = setupWithMissingProgram();
    const daemon = DaemonProcess.start(setup.args);
    const at = await daemon.waitForLine(/custom_bird_reconfigure_cmd = .*does not exist on this host/);
    expect(daemon.lines[at]).toContain(
      `${serviceFile}:${line}: [web] custom_bird_reconfigure_cmd = '${program} --quick': ${program} does not exist on this host; accepted (as by the Python daemon), but until it is installed every run for this service's up/down changes fails and is retried`,
    );
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });

  it('lint exits 0 and lists the warning with file:line', async () => {
    const { setup, serviceFile, line } = setupWithMissingProgram();
    const result = await runCli(['lint', ...setup.args]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`warning: ${serviceFile}:${line}: [web] custom_bird_reconfigure_cmd`);
    expect(result.stdout).toMatch(/\[AHC_CONFIG_RECONFIGURE_CMD_NOT_FOUND\]$/m);
    expect(result.stdout).toMatch(/^\d+ files, 0 errors, 1 warnings$/m);
  });

  it('the daemon starts, and logs each failed run as an error naming the service and the program', async () => {
    const { setup, program } = setupWithMissingProgram();
    const daemon = DaemonProcess.start(setup.args);
    await daemon.waitForLine(/WARNING\s+MainThread\s+.*\[web\] custom_bird_reconfigure_cmd = .*does not exist on this host/);
    const at = await daemon.waitForLine(/custom_bird_reconfigure_cmd of web failed/, 15_000);
    const escaped = program.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    expect(daemon.lines[at]).toMatch(
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3} anycast-healthchecker\\[${daemon.pid}\\] ERROR\\s+MainThread\\s+custom_bird_reconfigure_cmd of web failed: command not found: ${escaped}$`,
      ),
    );
    expect(daemon.exit).toBeUndefined();
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});
