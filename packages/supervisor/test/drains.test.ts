import { describe, expect, it } from 'vitest';
import { ALL_SERVICES, Drains } from '../src/drains';
import { parseDrainFile } from '../src/drain-file';

const at = (iso: string) => () => new Date(iso);

describe('Drains', () => {
  it('drains by command, keeps the first reason and time of a repeated drain, and undrains', () => {
    let now = '2026-12-01T10:00:00.000Z';
    const d = new Drains(() => new Date(now));
    expect(d.drain(['a'], 'maintenance')).toEqual(['a']);
    now = '2026-12-01T10:05:00.000Z';
    expect(d.drain(['a', 'b'], 'other')).toEqual(['b']);
    expect(d.drainsOf('a')).toEqual([{ source: 'command', all: false, reason: 'maintenance', since: '2026-12-01T10:00:00.000Z' }]);
    expect(d.isDrained('a') && d.isDrained('b') && !d.isDrained('c')).toBe(true);
    expect(d.undrain(['a', 'c'])).toEqual(['a']);
    expect(d.isDrained('a')).toBe(false);
    expect(d.isDrained('b')).toBe(true);
  });

  it('drain --all holds every service, added ones too; undrain of one does not end it, undrain --all ends every command drain', () => {
    const d = new Drains(at('2026-12-01T10:00:00.000Z'));
    d.drain(['a'], 'own');
    d.drain(ALL_SERVICES, 'all of them');
    expect(d.isDrained('never-seen')).toBe(true);
    expect(d.undrain(['a'])).toEqual(['a']);
    expect(d.isDrained('a')).toBe(true);
    expect(d.drainsOf('a')).toEqual([{ source: 'command', all: true, reason: 'all of them', since: '2026-12-01T10:00:00.000Z' }]);
    d.drain(['b'], 'own');
    expect(d.undrain(ALL_SERVICES).sort()).toEqual(['*', 'b']);
    expect(d.isDrained('a') || d.isDrained('b')).toBe(false);
  });

  it('keeps the drain file apart: command undrains leave it, and a name that stays in the file keeps its time', () => {
    let now = '2026-12-01T10:00:00.000Z';
    const d = new Drains(() => new Date(now));
    d.setFile({ kind: 'services', names: ['a', 'b'] }, 'drain file /run/x');
    now = '2026-12-01T11:00:00.000Z';
    d.setFile({ kind: 'services', names: ['a', 'c'] }, 'drain file /run/x');
    expect(d.drainsOf('a')).toEqual([{ source: 'file', all: false, reason: 'drain file /run/x', since: '2026-12-01T10:00:00.000Z' }]);
    expect(d.drainsOf('c')[0]?.since).toBe('2026-12-01T11:00:00.000Z');
    expect(d.isDrained('b')).toBe(false);
    d.undrain(ALL_SERVICES);
    expect(d.isDrained('a')).toBe(true);
    d.setFile({ kind: 'all' }, 'drain file /run/x', new Date('2026-12-01T09:00:00.000Z'));
    expect(d.drainsOf('z')).toEqual([{ source: 'file', all: true, reason: 'drain file /run/x', since: '2026-12-01T09:00:00.000Z' }]);
    d.setFile({ kind: 'absent' }, 'drain file /run/x');
    expect(d.isDrained('a') || d.isDrained('z')).toBe(false);
  });

  it('lists a service held by several drains: its own and --all by command, then the file', () => {
    const d = new Drains(at('2026-12-01T10:00:00.000Z'));
    d.setFile({ kind: 'services', names: ['a'] }, 'file');
    d.drain(ALL_SERVICES, 'all');
    d.drain(['a'], 'own');
    expect(d.drainsOf('a').map((x) => `${x.source}:${x.all}:${x.reason}`)).toEqual([
      'command:false:own',
      'command:true:all',
      'file:false:file',
    ]);
  });

  it('snapshots only the command drains, as plain data, and restores them, reporting what it leaves out', () => {
    const d = new Drains(at('2026-12-01T10:00:00.000Z'));
    d.drain(['a'], 'one');
    d.drain(ALL_SERVICES, 'all');
    d.setFile({ kind: 'all' }, 'file');
    const snap = d.snapshot();
    expect(JSON.parse(JSON.stringify(snap))).toEqual({
      a: { reason: 'one', since: '2026-12-01T10:00:00.000Z' },
      '*': { reason: 'all', since: '2026-12-01T10:00:00.000Z' },
    });
    const e = new Drains();
    const r = e.restore(
      { ...snap, gone: { reason: 'x', since: '2026-12-01T10:00:00.000Z' }, bad: { reason: 1 }, worse: 'no' },
      (n) => n === 'a',
    );
    expect([...r.restored].sort()).toEqual(['*', 'a']);
    expect(r.ignored).toEqual(['gone: not a configured service', 'bad: not {reason, since}', 'worse: not {reason, since}']);
    expect(e.snapshot()).toEqual(snap);
    expect(new Drains().restore([1, 2], () => true)).toEqual({ restored: [], ignored: ['the saved drains are not an object'] });
    expect(new Drains().restore(null, () => true).restored).toEqual([]);
  });

  it('tells subscribers the new snapshot after each change of the command drains, and only then', () => {
    const d = new Drains(at('2026-12-01T10:00:00.000Z'));
    const seen: string[] = [];
    const off = d.onCommandChange((snap) => seen.push(Object.keys(snap).sort().join(',')));
    d.drain(['a'], 'r');
    d.drain(['a'], 'again'); // no change
    d.setFile({ kind: 'all' }, 'file'); // not a command drain
    d.drain(ALL_SERVICES, 'all');
    d.undrain(['zz']); // no change
    d.undrain(['a']);
    d.restore({ b: { reason: 'x', since: '2026-12-01T09:00:00.000Z' } }, () => true);
    d.forget('b');
    off();
    d.undrain(ALL_SERVICES);
    expect(seen).toEqual(['a', '*,a', '*', '*,b', '*']);
  });

  it('forgets the command drain of a service no longer configured', () => {
    const d = new Drains();
    d.drain(['a'], 'r');
    expect(d.forget('a')).toBe(true);
    expect(d.forget('a')).toBe(false);
    expect(d.isDrained('a')).toBe(false);
  });
});

describe('parseDrainFile', () => {
  it('drains every service when the file names none (an empty file, blank lines, comments only)', () => {
    expect(parseDrainFile('')).toEqual({ kind: 'all' });
    expect(parseDrainFile('\n  \n# maintenance until 12:00\n')).toEqual({ kind: 'all' });
  });

  it('names one service per line, trimmed, once each, skipping blank and # lines', () => {
    expect(parseDrainFile('web\n  dns  \n\n# not me\nweb\nmy svc\r\n')).toEqual({ kind: 'services', names: ['web', 'dns', 'my svc'] });
  });
});
