// BIRD's commands go through the spawn helper once it runs (docs/design.md, "Spawning checks:
// the ahc-spawn helper"): a reconfigure command that records its parent process sees the daemon
// at the start-up repair (the helper is not started yet), then ahc-spawn; with
// AHC_SPAWN_HELPER=none the daemon throughout. Real daemon, real helper, real commands.
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, ensureBuilt, killDaemons, makeTempDir, pollUntil, removeTempDirs, writeDaemonSetup } from './harness';

beforeAll(ensureBuilt);
afterEach(async () => {
  await killDaemons();
  removeTempDirs();
});

/** A daemon whose reconfigure command appends its parent's comm to `parents`, and a service (db, UP at its first check) whose custom command does the same to `custom`. */
function setup(): { args: readonly string[]; parents: string; custom: string } {
  const commands = makeTempDir('commands');
  const parents = join(commands, 'parents');
  const custom = join(commands, 'custom-parents');
  const reconfigure = join(commands, 'recording-reconfigure.sh');
  writeFileSync(reconfigure, `#!/bin/sh\ncat /proc/$PPID/comm >> ${parents}\necho Reconfigured\n`);
  chmodSync(reconfigure, 0o755);
  const announce = join(commands, 'announce.sh');
  writeFileSync(announce, `#!/bin/sh\necho "$1 $(cat /proc/$PPID/comm)" >> ${custom}\n`);
  chmodSync(announce, 0o755);
  const s = writeDaemonSetup(
    [
      { name: 'web', prefix: '10.52.33.1/32' },
      { name: 'db', prefix: '10.52.33.2/32' },
    ],
    { bird_reconfigure_cmd: reconfigure },
  );
  appendFileSync(join(s.dir, 'db.conf'), `custom_bird_reconfigure_cmd = ${announce}\n`);
  return { args: s.args, parents, custom };
}

const lines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : []);

/** Start the daemon and wait until it ran two reconfigures and the custom command; returns the parents they saw. */
async function runUntilCommands(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ daemon: DaemonProcess; parents: string[]; custom: string[] }> {
  const s = setup();
  const daemon = DaemonProcess.start(s.args, env);
  await pollUntil(
    'two reconfigures',
    () => (lines(s.parents).length >= 2 ? true : undefined),
    15_000,
    () => daemon.tail(),
  );
  await pollUntil(
    'the custom command',
    () => (lines(s.custom).length >= 1 ? true : undefined),
    15_000,
    () => daemon.tail(),
  );
  return { daemon, parents: lines(s.parents), custom: lines(s.custom) };
}

describe("BIRD's commands and the spawn helper", () => {
  it('the start-up repair is run by the daemon, the reconfigures and custom commands after it by ahc-spawn', async () => {
    const { daemon, parents, custom } = await runUntilCommands();
    const [repair, ...later] = parents;
    expect(repair).not.toBe('ahc-spawn');
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((p) => p === 'ahc-spawn')).toBe(true);
    expect(custom[0]).toBe('up ahc-spawn');
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });

  it('with AHC_SPAWN_HELPER=none every command is run by the daemon itself', async () => {
    const { daemon, parents, custom } = await runUntilCommands({ ...process.env, AHC_SPAWN_HELPER: 'none' });
    expect(parents.some((p) => p === 'ahc-spawn')).toBe(false);
    expect(custom[0]?.startsWith('up ')).toBe(true);
    expect(custom[0]).not.toBe('up ahc-spawn');
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});
