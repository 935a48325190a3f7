// The bundle's stand-in for Node's `assert` (src/shims/assert.ts): what yargs asks of it, and
// that the built bundle takes it instead of Node's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { notStrictEqual, strictEqual } from '../src/shims/assert';
import { APP_DIR, ensureBuilt } from './harness';

describe('the assert shim', () => {
  beforeAll(ensureBuilt);

  it('passes equal values and throws an AssertionError for others, with the message given', () => {
    expect(() => strictEqual('a', 'a')).not.toThrow();
    expect(() => strictEqual(Number.NaN, Number.NaN)).not.toThrow();
    expect(() => strictEqual(1, '1', 'not the same')).toThrow(
      expect.objectContaining({ name: 'AssertionError', code: 'ERR_ASSERTION', message: 'not the same' }),
    );
    expect(() => notStrictEqual(1, 2)).not.toThrow();
    expect(() => notStrictEqual(undefined, undefined)).toThrow(/strictly unequal/);
    const own = new TypeError('own');
    expect(() => strictEqual(1, 2, own)).toThrow(own);
  });

  it("is what the bundle imports: Node's assert is not loaded", () => {
    const bundle = readFileSync(join(APP_DIR, 'dist', 'main.mjs'), 'utf8');
    expect(bundle).not.toMatch(/from "(node:)?assert"/);
  });
});
