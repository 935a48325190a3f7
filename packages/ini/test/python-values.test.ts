import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePythonBool, parsePythonFloat, parsePythonInt, type PythonValue } from '../src/index';
import { PYTHON_FLOAT_CASES, PYTHON_INT_CASES } from './python-cases';

function valueOf(result: PythonValue<number>): number | undefined {
  return result.ok ? result.value : undefined;
}

describe('parsePythonBool', () => {
  it.each(['1', 'yes', 'true', 'on', 'YES', 'True', 'oN'])('reads %j as true', (text) => {
    expect(parsePythonBool(text)).toEqual({ ok: true, value: true });
  });

  it.each(['0', 'no', 'false', 'off', 'NO', 'False', 'OFF'])('reads %j as false', (text) => {
    expect(parsePythonBool(text)).toEqual({ ok: true, value: false });
  });

  it.each(['', 'y', 'n', '2', 'enabled', ' true', 'true ', 't'])('rejects %j', (text) => {
    expect(parsePythonBool(text)).toEqual({ ok: false });
  });
});

describe('parsePythonInt', () => {
  it.each(PYTHON_INT_CASES)('reads %j like CPython int()', (text, expected) => {
    expect(valueOf(parsePythonInt(text))).toBe(expected);
  });

  it('returns 0, not -0, for "-0"', () => {
    expect(Object.is(valueOf(parsePythonInt('-0')), 0)).toBe(true);
  });

  it('accepts ASCII digits only (Python also accepts other Unicode decimal digits)', () => {
    expect(parsePythonInt('\u0661')).toEqual({ ok: false });
  });

  // Reference model: Python's grammar for int(str) in base 10, written as a scanner.
  function referenceInt(text: string): number | undefined {
    const body = text.replace(/^[ \t\n]+|[ \t\n]+$/g, '');
    let i = body[0] === '+' || body[0] === '-' ? 1 : 0;
    let digits = '';
    let afterDigit = false;
    for (; i < body.length; i += 1) {
      const ch = body[i] as string;
      if (ch >= '0' && ch <= '9') {
        digits += ch;
        afterDigit = true;
      } else if (ch === '_' && afterDigit) {
        afterDigit = false;
      } else {
        return undefined;
      }
    }
    if (!afterDigit) return undefined; // empty, or ends with "_"
    return (body[0] === '-' ? -1 : 1) * Number(digits) + 0;
  }

  it('agrees with a reference model on strings of digits, underscores, signs and spaces', () => {
    const unit = fc.constantFrom('0', '1', '7', '9', '_', '+', '-', ' ', '\t', '\n');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 12 }), (text) => {
        expect(valueOf(parsePythonInt(text))).toBe(referenceInt(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parsePythonFloat', () => {
  it.each(PYTHON_FLOAT_CASES)('reads %j like CPython float()', (text, expected) => {
    expect(valueOf(parsePythonFloat(text))).toBe(expected);
  });

  it('keeps the sign of negative zero, as Python does', () => {
    expect(Object.is(valueOf(parsePythonFloat('-0.0')), -0)).toBe(true);
  });

  it('reads every finite double written in JavaScript notation back exactly', () => {
    fc.assert(
      // -0 is left out: String(-0) is "0", which loses the sign before parsing.
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => !Object.is(v, -0)),
        (value) => {
          expect(valueOf(parsePythonFloat(String(value)))).toBe(value);
        },
      ),
    );
  });
});
