// FileBirdIo on a real file: a read after its own write is answered from what it wrote while the
// file is unchanged (one stat instead of reading it), and every kind of change made behind its
// back is read from the file: an edit in place, a file renamed over it, a deletion, a symlink
// pointed elsewhere.
import { mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBirdIo } from '../src/bird-io';
import { ReconfigureQueue } from '../src/reconfigure-queue';
import { DUMMY, VARIABLE, birdConfig } from './reconciler-fixture';

const WEB = '10.52.12.1/32';
const DNS = '10.52.12.2/32';

let dir: string;
let abort: AbortController;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ahc-fbio-'));
  abort = new AbortController();
});

afterEach(() => {
  abort.abort();
  rmSync(dir, { recursive: true, force: true });
});

function io(path: string): FileBirdIo {
  const bird = birdConfig({ path });
  return new FileBirdIo(bird, new ReconfigureQueue('/bin/true', 5000), abort.signal);
}

/** A FileBirdIo for `name` in the test's directory, after one write of its own (fsynced). */
async function afterOwnWrite(prefixes: readonly string[], name = 'anycast-prefixes.conf'): Promise<{ path: string; bio: FileBirdIo }> {
  const path = join(dir, name);
  const bio = io(path);
  await (
    await bio.write(prefixes)
  ).durable;
  return { path, bio };
}

const handWritten = (prefixes: readonly string[]): string =>
  `define ${VARIABLE} =\n    [\n${prefixes.map((p) => `        ${p}`).join(',\n')}\n    ];\n`;

describe('FileBirdIo', () => {
  it('writes the file, and its durable settles with null once the directory is synced', async () => {
    const path = join(dir, 'anycast-prefixes.conf');
    const bio = io(path);
    const written = await bio.write([DUMMY, WEB]);
    // In place before `durable` settles: BIRD may be told at once.
    expect(readFileSync(path, 'utf8')).toContain(`${WEB}\n`);
    await expect(written.durable).resolves.toBeNull();
    await expect(bio.read()).resolves.toEqual({ variable: VARIABLE, prefixes: [DUMMY, WEB] });
  });

  it('reads an edit in place made after its write', async () => {
    const { path, bio } = await afterOwnWrite([DUMMY, WEB]);
    await bio.read();
    writeFileSync(path, handWritten([DUMMY, WEB, DNS]));
    await expect(bio.read()).resolves.toEqual({ variable: VARIABLE, prefixes: [DUMMY, WEB, DNS] });
  });

  it('reads a file renamed over its own, even one of the same size', async () => {
    const { path, bio } = await afterOwnWrite([DUMMY, WEB]);
    // Same length as what it wrote: only the inode tells them apart.
    const own = readFileSync(path, 'utf8');
    const other = own.replace(WEB, DNS);
    expect(other.length).toBe(own.length);
    writeFileSync(join(dir, 'other'), other);
    renameSync(join(dir, 'other'), path);
    await expect(bio.read()).resolves.toEqual({ variable: VARIABLE, prefixes: [DUMMY, DNS] });
  });

  it('reads a deleted file as missing, and one written again as it is', async () => {
    const { path, bio } = await afterOwnWrite([DUMMY, WEB]);
    unlinkSync(path);
    await expect(bio.read()).resolves.toBeNull();
    writeFileSync(path, handWritten([DUMMY]));
    await expect(bio.read()).resolves.toEqual({ variable: VARIABLE, prefixes: [DUMMY] });
  });

  it('through a symlink: reads the new target when the link is pointed elsewhere', async () => {
    const link = join(dir, 'anycast-prefixes.conf');
    symlinkSync(join(dir, 'a.conf'), link);
    const bio = io(link);
    await (
      await bio.write([DUMMY, WEB])
    ).durable;
    expect(readFileSync(join(dir, 'a.conf'), 'utf8')).toContain(WEB);
    await expect(bio.read()).resolves.toEqual({ variable: VARIABLE, prefixes: [DUMMY, WEB] });
    writeFileSync(join(dir, 'b.conf'), handWritten([DUMMY, DNS]));
    unlinkSync(link);
    symlinkSync(join(dir, 'b.conf'), link);
    await expect(bio.read()).resolves.toEqual({ variable: VARIABLE, prefixes: [DUMMY, DNS] });
  });
});
