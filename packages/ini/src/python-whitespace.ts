/**
 * Python's idea of whitespace, which differs from JavaScript's: str.strip() and the `\s` of the
 * re module also strip U+001C..U+001F and U+0085, and do not strip U+FEFF.
 */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const LEADING = new RegExp(`^[${PY_SPACE}]+`);
const TRAILING = new RegExp(`[${PY_SPACE}]+$`);
const NON_SPACE = new RegExp(`[^${PY_SPACE}]`);

/** Like Python's str.strip() with no argument. */
export function pyStrip(text: string): string {
  return text.replace(LEADING, '').replace(TRAILING, '');
}

/** Like Python's str.rstrip() with no argument. */
export function pyRstrip(text: string): string {
  return text.replace(TRAILING, '');
}

/** Index of the first character that is not Python whitespace (0 for a blank line). */
export function pyIndent(text: string): number {
  const index = text.search(NON_SPACE);
  return index === -1 ? 0 : index;
}

/**
 * int() and float() strip a slightly different set: ASCII whitespace plus Unicode spaces, but
 * not U+001C..U+001F (checked against CPython 3.11).
 */
const NUMBER_SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const NUMBER_SURROUNDING = new RegExp(`^[${NUMBER_SPACE}]+|[${NUMBER_SPACE}]+$`, 'g');

/** Strip what Python's int() and float() ignore around a number. */
export function pyNumberStrip(text: string): string {
  return text.replace(NUMBER_SURROUNDING, '');
}
