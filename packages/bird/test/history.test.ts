import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archivePrefixFile, historyStamp } from '../src/index';
import { makeTempDir, removeTempDir } from './fixture';

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await makeTempDir('history');
  path = join(dir, 'anycast-prefixes.conf');
});

afterEach(async () => {
  await removeTempDir(dir);
});

const NOW = new Date(Date.UTC(2026, 10, 24, 10, 0, 0, 123));

async function historyContents(): Promise<string[]> {
  const names = (await readdir(join(dir, 'history'))).filter((name) => name.startsWith('anycast-prefixes.conf.'));
  return Promise.all(names.map((name) => readFile(join(dir, 'history', name), 'utf8')));
}

describe('historyStamp', () => {
  it('prints UTC as YYYYmmdd-HHMMSS.ffffff', () => {
    expect(historyStamp(NOW)).toBe('20261124-100000.123000');
  });
});

describe('archivePrefixFile', () => {
  it('copies the current file into history/ beside it, named after the file and the time', async () => {
    await writeFile(path, 'version 1\n');
    const result = await archivePrefixFile(path, 10, NOW);
    expect(result).toEqual({ archived: join(dir, 'history', 'anycast-prefixes.conf.20261124-100000.123000'), removed: [] });
    expect(await readFile(result.archived as string, 'utf8')).toBe('version 1\n');
  });

  it('does nothing but create history/ when there is no file yet', async () => {
    expect(await archivePrefixFile(path, 10, NOW)).toEqual({ archived: null, removed: [] });
    expect(await readdir(join(dir, 'history'))).toEqual([]);
  });

  it('keeps names unique and ordered for many copies within one millisecond', async () => {
    for (let i = 0; i < 12; i += 1) {
      await writeFile(path, `version ${i}\n`);
      await archivePrefixFile(path, 100, NOW);
    }
    const names = (await readdir(join(dir, 'history'))).sort();
    expect(names).toHaveLength(12);
    expect(names).toContain('anycast-prefixes.conf.20261124-100000.123000');
    expect(names).toContain('anycast-prefixes.conf.20261124-100000.123000-11');
  });

  it('keeps only the newest `keep` copies, also across counter suffixes', async () => {
    for (let i = 0; i < 15; i += 1) {
      await writeFile(path, `version ${i}\n`);
      const result = await archivePrefixFile(path, 4, NOW);
      expect(result.removed).toHaveLength(i >= 4 ? 1 : 0);
    }
    expect((await historyContents()).sort()).toEqual(['version 11\n', 'version 12\n', 'version 13\n', 'version 14\n']);
  });

  it('removes every excess copy at once when keep is lowered', async () => {
    for (let i = 0; i < 6; i += 1) {
      await writeFile(path, `version ${i}\n`);
      await archivePrefixFile(path, 10, new Date(NOW.getTime() + i * 1000));
    }
    await writeFile(path, 'version 6\n');
    const result = await archivePrefixFile(path, 2, new Date(NOW.getTime() + 6000));
    expect(result.removed).toHaveLength(5);
    expect((await historyContents()).sort()).toEqual(['version 5\n', 'version 6\n']);
  });

  it('treats a copy made after the clock went back as the newest', async () => {
    await writeFile(path, 'before\n');
    await archivePrefixFile(path, 1, NOW);
    await writeFile(path, 'after the clock went back\n');
    await archivePrefixFile(path, 1, new Date(NOW.getTime() - 3_600_000));
    expect(await historyContents()).toEqual(['after the clock went back\n']);
  });

  it('keeps nothing when keep is 0', async () => {
    await writeFile(path, 'x\n');
    await archivePrefixFile(path, 2, NOW);
    expect(await archivePrefixFile(path, 0, NOW)).toMatchObject({ archived: null });
    expect(await historyContents()).toEqual([]);
  });

  it('leaves other files in history/ alone (another prefix file, notes)', async () => {
    await mkdir(join(dir, 'history'));
    await writeFile(join(dir, 'history', 'README'), 'notes');
    await writeFile(join(dir, 'history', 'other.conf.20200101-000000.000000'), 'other');
    await writeFile(path, 'x\n');
    await archivePrefixFile(path, 1, NOW);
    await archivePrefixFile(path, 1, NOW);
    expect((await readdir(join(dir, 'history'))).sort()).toEqual([
      'README',
      'anycast-prefixes.conf.20261124-100000.123000-1',
      'other.conf.20200101-000000.000000',
    ]);
  });

  it('archives the content behind a symlink into history/ beside the link', async () => {
    await mkdir(join(dir, 'real'));
    await writeFile(join(dir, 'real', 'target.conf'), 'through the link\n');
    await symlink('real/target.conf', path);
    const result = await archivePrefixFile(path, 3, NOW);
    expect(result.archived).toBe(join(dir, 'history', 'anycast-prefixes.conf.20261124-100000.123000'));
    expect(await readFile(result.archived as string, 'utf8')).toBe('through the link\n');
  });

  it('fails with AHC_BIRD_HISTORY when history/ cannot be created', async () => {
    await writeFile(join(dir, 'history'), 'a file where the directory should be');
    await writeFile(path, 'x\n');
    await expect(archivePrefixFile(path, 3, NOW)).rejects.toMatchObject({
      code: 'AHC_BIRD_HISTORY',
      message: expect.stringContaining(join(dir, 'history')),
    });
  });

  it('rejects a negative or fractional keep', async () => {
    await expect(archivePrefixFile(path, -1, NOW)).rejects.toThrow(RangeError);
    await expect(archivePrefixFile(path, 1.5, NOW)).rejects.toThrow(RangeError);
  });
});
