/** Stable error codes of the INI reader; code matches on these, never on the message. */
export const INI_ERROR_CODES = [
  'AHC_INI_MISSING_SECTION_HEADER',
  'AHC_INI_DUPLICATE_SECTION',
  'AHC_INI_DUPLICATE_OPTION',
  'AHC_INI_PARSE',
  'AHC_INI_INTERPOLATION_SYNTAX',
  'AHC_INI_INTERPOLATION_MISSING',
  'AHC_INI_INTERPOLATION_DEPTH',
] as const;

export type IniErrorCode = (typeof INI_ERROR_CODES)[number];

export interface IniErrorDetails {
  readonly file?: string;
  readonly line?: number;
  readonly section?: string;
  readonly option?: string;
}

/** A configuration file that configparser would reject, with where it went wrong. */
export class IniError extends Error {
  readonly code: IniErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly section?: string;
  readonly option?: string;

  constructor(code: IniErrorCode, message: string, details: IniErrorDetails = {}) {
    super(message);
    this.name = 'IniError';
    this.code = code;
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
