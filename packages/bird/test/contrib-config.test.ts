/** The example BIRD configurations in contrib/bird stay in step with the files we write. */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@ahc/command';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPrefixFile } from '../src/index';
import { makeTempDir, removeTempDir } from './fixture';

const CONTRIB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'contrib', 'bird');
const BIRD = process.env.AHC_TEST_BIRD ?? '/usr/sbin/bird';
const STATE_DIR = '/var/lib/anycast-healthchecker';

function prefixFile(variable: string, dummy: string, prefixes: string[]): string {
  return renderPrefixFile({ variable, dummy, prefixes, generatedAt: new Date(), pid: process.pid });
}

describe('contrib/bird example configurations', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('contrib');
    await mkdir(join(dir, '6'));
    await writeFile(join(dir, 'anycast-prefixes.conf'), prefixFile('ACAST_PS_ADVERTISE', '10.189.200.255/32', ['10.52.12.1/32']));
    await writeFile(join(dir, '6', 'anycast-prefixes.conf'), prefixFile('ACAST6_PS_ADVERTISE', '2001:db8::1/128', ['2001:db8:52::1/128']));
  });

  afterAll(async () => {
    await removeTempDir(dir);
  });

  it.each([
    [
      'bird2.conf',
      [`${STATE_DIR}/anycast-prefixes.conf`, `${STATE_DIR}/6/anycast-prefixes.conf`, 'ACAST_PS_ADVERTISE', 'ACAST6_PS_ADVERTISE'],
    ],
    ['bird1/bird.conf', [`${STATE_DIR}/anycast-prefixes.conf`, 'ACAST_PS_ADVERTISE']],
    ['bird1/bird6.conf', [`${STATE_DIR}/6/anycast-prefixes.conf`, 'ACAST6_PS_ADVERTISE']],
  ])('%s includes the default prefix files and uses the default variables', async (name, needles) => {
    const text = await readFile(join(CONTRIB, name), 'utf8');
    expect(text.startsWith('#')).toBe(true);
    for (const needle of needles) expect(text).toContain(needle);
    expect(text).toContain('export where match_route();');
  });

  it('bird2.conf parses with BIRD 2 (bird -p) next to rendered prefix files', async (ctx) => {
    if (!existsSync(BIRD)) ctx.skip(`${BIRD} is not installed`);
    const text = (await readFile(join(CONTRIB, 'bird2.conf'), 'utf8')).replaceAll(STATE_DIR, dir);
    await writeFile(join(dir, 'bird2.conf'), text);
    const result = await runCommand([BIRD, '-p', '-c', join(dir, 'bird2.conf')], { timeoutMs: 10_000 });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.code).toBe(0);
  });
});
