import { describe, expect, it } from 'vitest';
import stringWidth from '../src/shims/string-width';

describe('string-width stand-in (help layout without Intl.Segmenter)', () => {
  it('counts printable ASCII by length and skips ANSI colour codes', () => {
    expect(stringWidth('')).toBe(0);
    expect(stringWidth('-f, --file FILE')).toBe(15);
    expect(stringWidth('\u001b[1mbold\u001b[22m and \u001b[31mred\u001b[39m')).toBe(12);
    expect(stringWidth('\u001b[31mred\u001b[39m', { countAnsiEscapeCodes: true })).toBe(11); // the ESC bytes themselves take no column
  });

  it('gives wide and fullwidth characters and emoji two columns, combining marks none', () => {
    expect(stringWidth('日本語')).toBe(6);
    expect(stringWidth('ＡＢ')).toBe(4);
    expect(stringWidth('e\u0301te\u0301')).toBe(3);
    expect(stringWidth('ok 👍')).toBe(5);
    expect(stringWidth('a\u200bb')).toBe(2);
  });

  it('the bundle carries neither Intl.Segmenter (ICU segmentation data) nor prom-client', async () => {
    const { readFile } = await import('node:fs/promises');
    const bundle = await readFile(new URL('../dist/main.mjs', import.meta.url), 'utf8');
    expect(bundle).not.toContain('Intl.Segmenter');
    expect(bundle).not.toContain('prom-client');
  });
});
