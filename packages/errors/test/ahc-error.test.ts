import { describe, expect, it } from 'vitest';
import { AhcError, ERR, ERROR_CODES, codeOf, describeError, errnoCode, isErrorCode } from '../src/index';

class ExampleError extends AhcError<{ readonly path: string }> {
  override name = 'ExampleError';
}

describe('AhcError', () => {
  it('carries a code of the table, its own name, details and cause', () => {
    const cause = new Error('ENOSPC');
    const error = new ExampleError(ERR.AHC_BIRD_WRITE, 'cannot write /x', { cause, details: { path: '/x' } });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('AHC_BIRD_WRITE');
    expect(error.name).toBe('ExampleError');
    expect(error.message).toBe('cannot write /x');
    expect(error.details).toEqual({ path: '/x' });
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('ExampleError: cannot write /x');
  });

  it('has no cause property when none is given', () => {
    expect(Object.hasOwn(new AhcError(ERR.AHC_INTERNAL, 'x'), 'cause')).toBe(false);
  });
});

describe('the code table', () => {
  it('maps every code to itself', () => {
    for (const code of ERROR_CODES) expect(ERR[code]).toBe(code);
    expect(Object.keys(ERR)).toEqual([...ERROR_CODES]);
    expect(Object.isFrozen(ERR)).toBe(true);
  });

  it('tells its codes from OS error codes', () => {
    expect(isErrorCode('AHC_PROTOCOL')).toBe(true);
    expect(isErrorCode('ENOENT')).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
    expect(codeOf(new AhcError(ERR.AHC_INI_PARSE, 'x'), ERR.AHC_CONFIG_SYNTAX)).toBe('AHC_INI_PARSE');
    expect(codeOf(Object.assign(new Error('x'), { code: 'ENOENT' }), ERR.AHC_CONFIG_SYNTAX)).toBe('AHC_CONFIG_SYNTAX');
    expect(codeOf(null, ERR.AHC_INTERNAL)).toBe('AHC_INTERNAL');
  });
});

describe('errnoCode and describeError', () => {
  it('read the code and message of anything thrown', () => {
    expect(errnoCode(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('EACCES');
    expect(errnoCode(new Error('x'))).toBeNull();
    expect(errnoCode(null)).toBeNull();
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('text')).toBe('text');
  });
});
