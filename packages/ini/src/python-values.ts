import { pyNumberStrip } from './python-whitespace';

/**
 * Readers for option values that behave like the Python functions the original daemon used,
 * so that a config accepted there is accepted here and vice versa.
 */
export type PythonValue<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

const FAILED = { ok: false } as const;

/** ConfigParser.BOOLEAN_STATES; matched case-insensitively, without stripping. */
const BOOLEAN_STATES: ReadonlyMap<string, boolean> = new Map([
  ['1', true],
  ['yes', true],
  ['true', true],
  ['on', true],
  ['0', false],
  ['no', false],
  ['false', false],
  ['off', false],
]);

/** Like ConfigParser.getboolean(): 1/yes/true/on and 0/no/false/off, any case. */
export function parsePythonBool(text: string): PythonValue<boolean> {
  const value = BOOLEAN_STATES.get(text.toLowerCase());
  return value === undefined ? FAILED : { ok: true, value };
}

/** Decimal digits with single underscores between them (PEP 515). */
const DIGITS = '[0-9](?:_?[0-9])*';
const INT = new RegExp(`^[+-]?${DIGITS}$`);
const FLOAT = new RegExp(`^[+-]?(?:(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:e[+-]?${DIGITS})?|inf|infinity|nan)$`, 'i');

/**
 * Like Python's int(text) in base 10: surrounding whitespace, an optional sign, digits with single
 * underscores between them; leading zeros are allowed ("010" is 10). Values beyond 2^53 lose
 * precision, as any JavaScript number does.
 */
export function parsePythonInt(text: string): PythonValue<number> {
  const stripped = pyNumberStrip(text);
  if (!INT.test(stripped)) return FAILED;
  return { ok: true, value: Number(stripped.replaceAll('_', '')) + 0 }; // + 0 turns -0 into 0
}

/**
 * Like Python's float(text): integers, decimals (".5", "5."), exponents, underscores between
 * digits, and inf/infinity/nan in any case with an optional sign. Infinity and NaN are returned
 * as they are; callers decide whether a non-finite number is acceptable.
 */
export function parsePythonFloat(text: string): PythonValue<number> {
  const stripped = pyNumberStrip(text);
  if (!FLOAT.test(stripped)) return FAILED;
  const unsigned = stripped.replace(/^[+-]/, '').toLowerCase();
  const sign = stripped.startsWith('-') ? -1 : 1;
  if (unsigned === 'nan') return { ok: true, value: Number.NaN };
  if (unsigned.startsWith('inf')) return { ok: true, value: sign * Number.POSITIVE_INFINITY };
  return { ok: true, value: Number(stripped.replaceAll('_', '')) };
}
