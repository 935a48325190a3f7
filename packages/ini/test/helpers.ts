import { expect } from 'vitest';
import { IniError, type IniDocument } from '../src/index';

/** The raw values of one section ("DEFAULT" for the defaults) as a plain object, in order. */
export function rawValues(doc: IniDocument, section: string): Array<[string, string]> {
  const options = section === 'DEFAULT' ? doc.defaults : doc.sections.get(section)?.options;
  return [...(options ?? new Map())].map(([name, option]) => [name, option.value]);
}

/** Run `action`, expect it to throw an IniError, and return that error. */
export function iniErrorOf(action: () => unknown): IniError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(IniError);
    return error as IniError;
  }
  throw new Error('expected an IniError, but nothing was thrown');
}
