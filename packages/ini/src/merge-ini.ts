import type { IniDocument, IniOption, IniSection } from './ini-document';

/**
 * Combine two documents the way successive ConfigParser.read() calls do: an option of `next`
 * replaces the same option of the same section in `base` (keeping its position), new options
 * and sections are appended. Duplicates are only an error within one file, so none here.
 */
export function mergeIni(base: IniDocument, next: IniDocument): IniDocument {
  const sections = new Map<string, IniSection>(base.sections);
  for (const [name, section] of next.sections) {
    const existing = sections.get(name);
    sections.set(name, existing === undefined ? section : { ...existing, options: mergeOptions(existing.options, section.options) });
  }
  return { defaults: mergeOptions(base.defaults, next.defaults), sections };
}

function mergeOptions(base: ReadonlyMap<string, IniOption>, next: ReadonlyMap<string, IniOption>): ReadonlyMap<string, IniOption> {
  // Map.set on an existing key keeps its position, exactly like a Python dict.
  const options = new Map(base);
  for (const [name, option] of next) options.set(name, option);
  return options;
}
