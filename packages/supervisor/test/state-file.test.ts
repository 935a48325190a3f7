// The state file's codec (docs/operations.md, "State across restarts"): what is written reads back
// the same, and any other text is refused with the kind of problem and a reason for the log.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STATE_FORMAT, STATE_PROGRAM, decodeStateFile, encodeStateFile } from '../src/state-file';
import type { StateFile } from '../src/state-file';

const time = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString());
const name = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s !== '__proto__');
const prefix = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 32 })).map(([a, l]) => `10.${a}.0.0/${l}`);

const serviceEntry = fc.record({
  state: fc.constantFrom('up' as const, 'down' as const),
  prefixes: fc.array(prefix, { minLength: 1, maxLength: 3 }),
  since: time,
  seenAt: time,
});
const drainEntry = fc.record({
  reason: fc.string({ maxLength: 40 }),
  since: time,
  source: fc.constantFrom('command' as const, 'file' as const),
});

const stateFile: fc.Arbitrary<StateFile> = fc
  .record({
    version: fc.string({ maxLength: 10 }),
    pidfile: fc.string({ minLength: 1, maxLength: 40 }),
    pid: fc.integer({ min: 1, max: 4_194_304 }),
    savedAt: time,
    withdrawnAtShutdown: fc.boolean(),
    services: fc.dictionary(name, serviceEntry, { maxKeys: 8 }),
    drains: fc.option(fc.dictionary(fc.oneof(name, fc.constant('*')), drainEntry, { minKeys: 1, maxKeys: 4 }), { nil: undefined }),
  })
  .map(({ drains, ...rest }) => ({ program: STATE_PROGRAM, format: STATE_FORMAT, ...rest, ...(drains === undefined ? {} : { drains }) }));

const sample: StateFile = {
  program: STATE_PROGRAM,
  format: STATE_FORMAT,
  version: '0.1.0',
  pidfile: '/run/ahc.pid',
  pid: 42,
  savedAt: '2026-12-01T14:00:00.000Z',
  withdrawnAtShutdown: false,
  services: { web: { state: 'up', prefixes: ['10.52.12.1/32'], since: '2026-12-01T13:00:00.000Z', seenAt: '2026-12-01T13:59:58.123Z' } },
  drains: { '*': { reason: 'maintenance', since: '2026-12-01T13:30:00.000Z', source: 'command' } },
};

/** The sample with one field replaced (or removed with undefined), as text. */
const withField = (path: string[], value: unknown): string => {
  const copy = JSON.parse(JSON.stringify(sample)) as Record<string, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[path.at(-1) as string] = value;
  return JSON.stringify(copy);
};

describe('state file codec', () => {
  it('reads back every state it writes, drains included', () => {
    fc.assert(
      fc.property(stateFile, (state) => {
        expect(decodeStateFile(encodeStateFile(state))).toEqual({ ok: true, state });
      }),
    );
  });

  it('refuses every truncation of a written file, never returning a partial state', () => {
    const text = encodeStateFile(sample);
    for (let n = 0; n < text.trimEnd().length; n += 1) {
      const decoded = decodeStateFile(text.slice(0, n));
      expect(decoded.ok, `truncated to ${n} bytes`).toBe(false);
      if (!decoded.ok) expect(['empty', 'corrupt']).toContain(decoded.kind);
    }
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const decoded = decodeStateFile(text);
        if (!decoded.ok) expect(decoded.reason).not.toBe('');
      }),
    );
  });

  it.each([
    ['', 'empty', 'the file is empty'],
    ['  \n', 'empty', 'the file is empty'],
    ['{"program": "anycast-healthchecker", "format": 1, "serv', 'corrupt', 'not JSON'],
    ['\u0000\u0000\u0000', 'corrupt', 'not JSON'],
    ['[1, 2]', 'foreign', 'not a state file of anycast-healthchecker'],
    ['{"hello": "world"}', 'foreign', 'not a state file of anycast-healthchecker'],
    [withField(['program'], 'other-daemon'), 'foreign', 'no "program": "anycast-healthchecker"'],
    [withField(['format'], 2), 'newer', 'written in format 2 by a newer version (0.1.0); this version reads format 1'],
    [withField(['format'], '1'), 'invalid', 'format is "1", not a format number'],
    [withField(['savedAt'], 1796000000000), 'invalid', 'savedAt is not a time'],
    [withField(['savedAt'], 'yesterday'), 'invalid', 'savedAt is not a time'],
    [withField(['withdrawnAtShutdown'], 'no'), 'invalid', 'withdrawnAtShutdown is not true or false'],
    [withField(['services'], []), 'invalid', 'services is not an object'],
    [withField(['services', 'web', 'state'], 'unknown'), 'invalid', 'services.web.state is "unknown", not "up" or "down"'],
    [withField(['services', 'web', 'prefixes'], []), 'invalid', 'services.web.prefixes is not a list of prefixes'],
    [withField(['services', 'web', 'seenAt'], null), 'invalid', 'services.web.seenAt is not a time'],
    [withField(['drains', '*', 'source'], 'cron'), 'invalid', 'drains.*.source is "cron", not "command" or "file"'],
    [withField(['drains', '*', 'reason'], 3), 'invalid', 'drains.*.reason is not a string'],
  ])('refuses %j as %s, saying %j', (text, kind, reason) => {
    const decoded = decodeStateFile(text);
    expect(decoded).toMatchObject({ ok: false, kind });
    if (!decoded.ok) expect(decoded.reason).toContain(reason);
  });

  it('reads a file without a drains section, and drops an empty one', () => {
    const { drains: _drains, ...noDrains } = sample;
    expect(decodeStateFile(JSON.stringify(noDrains))).toEqual({ ok: true, state: noDrains });
    expect(decodeStateFile(withField(['drains'], {}))).toEqual({ ok: true, state: noDrains });
  });

  it('ignores fields it does not know (a newer daemon of the same format may add some)', () => {
    expect(decodeStateFile(withField(['comment'], 'hello'))).toEqual({ ok: true, state: sample });
  });
});
