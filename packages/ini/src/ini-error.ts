import { AhcError, ERR } from '@ahc/errors';

/** Stable error codes of the INI reader (their part of the one table in @ahc/errors); code
 * matches on these, never on the message. */
export const INI_ERROR_CODES = [
  ERR.AHC_INI_MISSING_SECTION_HEADER,
  ERR.AHC_INI_DUPLICATE_SECTION,
  ERR.AHC_INI_DUPLICATE_OPTION,
  ERR.AHC_INI_PARSE,
  ERR.AHC_INI_INTERPOLATION_SYNTAX,
  ERR.AHC_INI_INTERPOLATION_MISSING,
  ERR.AHC_INI_INTERPOLATION_DEPTH,
] as const;

export type IniErrorCode = (typeof INI_ERROR_CODES)[number];

export interface IniErrorDetails {
  readonly file?: string;
  readonly line?: number;
  readonly section?: string;
  readonly option?: string;
}

/** A configuration file that configparser would reject, with where it went wrong. */
export class IniError extends AhcError<IniErrorDetails> {
  override name = 'IniError';
  declare readonly code: IniErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly section?: string;
  readonly option?: string;

  constructor(code: IniErrorCode, message: string, details: IniErrorDetails = {}) {
    super(code, message, { details });
    if (details.file !== undefined) this.file = details.file;
    if (details.line !== undefined) this.line = details.line;
    if (details.section !== undefined) this.section = details.section;
    if (details.option !== undefined) this.option = details.option;
  }
}

/** `file:line` for messages; just `file` when the line is unknown (0). */
export function location(file: string, line: number): string {
  return line > 0 ? `${file}:${line}` : file;
}
