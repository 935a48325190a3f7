/**
 * The parsed form of one or more INI files, as Python's configparser holds it after read():
 * raw (uninterpolated) values, lower-cased option names, case-sensitive section names, and the
 * DEFAULT section kept apart because every other section inherits it.
 */
export interface IniOption {
  /** Lower-cased option name (Python's optionxform). */
  readonly name: string;
  /** Raw, uninterpolated value; continuation lines joined with "\n", trailing empty lines removed. */
  readonly value: string;
  /** File the option was read from (or the label given to iniFromObject). */
  readonly file: string;
  /** 1-based line of the `key = value` line; 0 when the option did not come from a file. */
  readonly line: number;
}

export interface IniSection {
  readonly name: string;
  /** Where the section was first seen. */
  readonly file: string;
  readonly line: number;
  /** Options in the order they were first defined. */
  readonly options: ReadonlyMap<string, IniOption>;
}

export interface IniDocument {
  /** Options of [DEFAULT]; inherited by every section. */
  readonly defaults: ReadonlyMap<string, IniOption>;
  /** Sections other than [DEFAULT], in the order they were first seen. */
  readonly sections: ReadonlyMap<string, IniSection>;
}

/** The name of the section whose options every other section inherits. */
export const DEFAULT_SECTION = 'DEFAULT';
