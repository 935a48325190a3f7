/**
 * Against a real BIRD 1.6 (Debian's `bird` package unpacked beside bird2, see test/run): BIRD 1
 * exits 0 even when the new configuration has a syntax error, so only the `Reconfigured` line
 * tells success. Skipped with the reason when the unpacked binaries are not there.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@ahc/command';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyConfigureStatus, renderPrefixFile, runReconfigure, verifyBirdVariable, waitForConfigureIdle } from '../src/index';
import { isProcessAlive, makeTempDir, removeTempDir, waitFor } from './fixture';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = process.env.AHC_TEST_BIRD1_DIR ?? join(ROOT, 'node_modules/.cache/bird1/usr/sbin');
const BIRD = join(DIR, 'bird');
const BIRDC = join(DIR, 'birdc');
const present = existsSync(BIRD) && existsSync(BIRDC);
const suite = present ? 'real BIRD 1.6' : `real BIRD 1.6 (skipped: ${BIRD} not found; test/run unpacks it)`;

describe.skipIf(!present)(suite, () => {
  let dir = '';
  let pid = 0;
  const sock = () => join(dir, 'bird.ctl');
  const file = () => join(dir, 'anycast-prefixes.conf');
  const write = (prefixes: string[]) =>
    writeFile(
      file(),
      renderPrefixFile({ variable: 'ACAST_PS_ADVERTISE', dummy: '10.189.200.255/32', prefixes, generatedAt: new Date(), pid: process.pid }),
    );

  beforeAll(async () => {
    dir = await makeTempDir('ahc-bird1-');
    await write(['10.52.12.1/32']);
    await writeFile(
      join(dir, 'bird.conf'),
      `router id 192.0.2.1;\ninclude "${file()}";\nprotocol device {}\nfunction match_route() { return net ~ ACAST_PS_ADVERTISE; }\n`,
    );
    const r = await runCommand([BIRD, '-c', join(dir, 'bird.conf'), '-s', sock(), '-P', join(dir, 'bird.pid')], { timeoutMs: 5000 });
    expect(r.code).toBe(0);
    await waitFor('BIRD 1.6 started', () => existsSync(join(dir, 'bird.pid')) && existsSync(sock()), 5000);
    const { readFileSync } = await import('node:fs');
    pid = Number(readFileSync(join(dir, 'bird.pid'), 'utf8').trim());
  });

  afterAll(async () => {
    // BIRD 1.6 may write its pidfile before it forks into the background: ask it to go down.
    if (dir !== '') await runCommand([BIRDC, '-s', sock(), 'down'], { timeoutMs: 5000 });
    if (pid > 0 && isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
    if (dir !== '') await removeTempDir(dir);
  });

  it('applies a generated file: exit 0 and "Reconfigured"', async () => {
    await write(['10.52.12.1/32', '10.52.12.2/32']);
    const o = await runReconfigure(`${BIRDC} -s ${sock()} configure`, { timeoutMs: 5000 });
    expect(o.status).toBe('applied');
    const v = await verifyBirdVariable(
      `${BIRDC} -s ${sock()} eval`,
      'ACAST_PS_ADVERTISE',
      ['10.189.200.255/32', '10.52.12.1/32', '10.52.12.2/32'],
      { timeoutMs: 5000 },
    );
    expect(v.status).toBe('match');
  });

  it('reports a syntax error as failed although BIRD 1 exits 0', async () => {
    await writeFile(file(), 'define ACAST_PS_ADVERTISE = [ 10.189.200.255/32,, ];\n');
    const o = await runReconfigure(`${BIRDC} -s ${sock()} configure`, { timeoutMs: 5000 });
    expect(o.result.code).toBe(0);
    expect(o.status).toBe('failed');
    expect(o.reason).toMatch(/syntax error/);
    await write(['10.52.12.1/32']);
    expect((await runReconfigure(`${BIRDC} -s ${sock()} configure`, { timeoutMs: 5000 })).status).toBe('applied');
  });

  it('has no configure status: its answer is unknown, and a wait on it ends at once', async () => {
    const argv = [BIRDC, '-s', sock(), 'configure', 'status'];
    const r = await runCommand(argv, { timeoutMs: 5000 });
    expect(r.stdout).toMatch(/syntax error/);
    expect(classifyConfigureStatus(r)).toBe('unknown');
    expect(await waitForConfigureIdle(argv, { deadlineMs: 5000, timeoutMs: 5000 })).toEqual({ ended: 'unknown', polls: 1 });
  });
});
