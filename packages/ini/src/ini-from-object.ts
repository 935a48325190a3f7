import { ERR } from '@ahc/errors';
import { DEFAULT_SECTION, type IniDocument, type IniOption, type IniSection } from './ini-document';
import { IniError } from './ini-error';

/**
 * Build a document from plain data, like ConfigParser.read_dict(): option names are lower-cased,
 * values are taken as they are (not stripped), the key "DEFAULT" fills the defaults. Two keys
 * of one section that differ only in case are a duplicate option, as in Python.
 * Options get line 0, meaning "not from a file line"; `file` labels where the data came from.
 */
export function iniFromObject(obj: Record<string, Record<string, string>>, file: string): IniDocument {
  let defaults: ReadonlyMap<string, IniOption> = new Map();
  const sections = new Map<string, IniSection>();
  for (const [sectionName, values] of Object.entries(obj)) {
    const options = new Map<string, IniOption>();
    for (const [key, value] of Object.entries(values)) {
      const name = key.toLowerCase();
      if (options.has(name)) {
        throw new IniError(
          ERR.AHC_INI_DUPLICATE_OPTION,
          `${file}: option '${name}' in section [${sectionName}] is given twice (names are case-insensitive)`,
          { file, section: sectionName, option: name },
        );
      }
      options.set(name, { name, value, file, line: 0 });
    }
    if (sectionName === DEFAULT_SECTION) defaults = options;
    else sections.set(sectionName, { name: sectionName, file, line: 0, options });
  }
  return { defaults, sections };
}
