import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DrainFileWatch } from '../src/drain-file';
import type { DrainFileContent } from '../src/drains';
import { captureLogger } from '../../../test/helpers/capture-logger';
import { until } from './fixture';

// The drain file followed by the real fs.watch on a real directory. The safety re-read is set
// to a minute where the test proves that events alone are enough.

const watches: DrainFileWatch[] = [];
afterEach(() => {
  for (const w of watches.splice(0)) w.close();
});

function follow(path: string, recheckMs = 60_000, known: readonly string[] = ['a', 'b', 'c']) {
  const { log, lines } = captureLogger();
  const seen: Array<{ content: DrainFileContent; since: Date | undefined }> = [];
  const watch = new DrainFileWatch({
    path,
    log,
    recheckMs,
    onChange: (content, since) => seen.push({ content, since }),
    unknown: (names) => names.filter((n) => !known.includes(n)),
  });
  watches.push(watch);
  watch.start();
  const last = (): DrainFileContent | undefined => seen.at(-1)?.content;
  return { watch, seen, lines, last };
}

describe('the drain file watch', () => {
  it('reads the file at start with its modification time, then follows create, edit, rename and delete at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-drain-'));
    const path = join(dir, 'drain');
    writeFileSync(path, 'a\n');
    utimesSync(path, new Date('2026-12-01T08:00:00Z'), new Date('2026-12-01T08:00:00Z'));
    const f = follow(path);
    expect(f.seen[0]).toEqual({ content: { kind: 'services', names: ['a'] }, since: new Date('2026-12-01T08:00:00Z') });
    const quick = 1500; // well under the one-minute re-read: only events can be this fast
    writeFileSync(path, 'a\nb\n');
    await until(() => f.last()?.kind === 'services' && (f.last() as { names: readonly string[] }).names.length === 2, quick, 'the edit');
    rmSync(path);
    await until(() => f.last()?.kind === 'absent', quick, 'the delete');
    expect(f.lines.some((l) => l.includes(`drain file ${path} is gone: its drains end`))).toBe(true);
    // A maintenance script writes beside it and renames into place.
    writeFileSync(join(dir, 'drain.tmp'), '');
    renameSync(join(dir, 'drain.tmp'), path);
    await until(() => f.last()?.kind === 'all', quick, 'the rename into place');
    expect(f.watch.state()).toMatchObject({ path, content: { kind: 'all' }, watch: 'events', lastProblem: null });
    // Events for other files of the directory change nothing.
    const count = f.seen.length;
    writeFileSync(join(dir, 'unrelated'), 'x');
    writeFileSync(path, '');
    await new Promise((r) => setTimeout(r, 200));
    expect(f.seen.length).toBe(count);
  });

  it('logs names that are not configured services, and drains the known ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-drain-'));
    const path = join(dir, 'drain');
    writeFileSync(path, 'a\nnope\n');
    const f = follow(path);
    expect(f.last()).toEqual({ kind: 'services', names: ['a', 'nope'] });
    expect(f.lines.some((l) => l.includes('AHC_DRAIN_FILE') && l.includes('names nope, not configured service(s); ignored'))).toBe(true);
  });

  it('waits for a missing directory without failing, and follows the file once the directory exists', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ahc-drain-'));
    const dir = join(root, 'run');
    const path = join(dir, 'drain');
    const f = follow(path, 100);
    expect(f.last()).toEqual({ kind: 'absent' });
    expect(f.watch.state().watch).toBe('polling');
    expect(f.lines.some((l) => l.includes('WARNING') && l.includes(`cannot watch ${dir}`))).toBe(true);
    mkdirSync(dir);
    writeFileSync(path, 'b\n');
    await until(() => f.last()?.kind === 'services', 3000, 'the file in the new directory');
    await until(() => f.watch.state().watch === 'events', 3000, 'the directory watched');
    rmSync(path);
    await until(() => f.last()?.kind === 'absent', 1500, 'the delete, by event');
  });

  it('drains every service while the path exists but cannot be read, and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahc-drain-'));
    const path = join(dir, 'drain');
    mkdirSync(path); // EISDIR: it exists, its names cannot be read
    const f = follow(path);
    expect(f.last()).toEqual({ kind: 'all' });
    expect(f.watch.state().lastProblem).toMatch(/cannot read drain file/);
    expect(f.lines.some((l) => l.includes('ERROR') && l.includes('it exists, so every service is drained'))).toBe(true);
    rmSync(path, { recursive: true });
    writeFileSync(path, 'c\n');
    await until(() => f.last()?.kind === 'services', 1500, 'readable again');
    expect(f.watch.state().lastProblem).toBeNull();
  });
});
