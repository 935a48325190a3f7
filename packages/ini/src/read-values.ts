import { DEFAULT_SECTION, type IniDocument } from './ini-document';
import { resolveOption, type ResolvedOption } from './find-option';
import { interpolate } from './interpolation';

/**
 * The interpolated value of `option` (case-insensitive) in `section`, falling back to DEFAULT,
 * like ConfigParser.get(). Undefined when the section or the option does not exist.
 */
export function getValue(doc: IniDocument, section: string, option: string): string | undefined {
  const resolved = resolveOption(doc, section, option);
  return resolved === undefined ? undefined : interpolate(doc, section, resolved);
}

/**
 * All interpolated values of a section, like `config[section].items()`: the section's own options
 * in order, then the DEFAULT options it does not override, in order. For "DEFAULT", the defaults.
 * Empty for a section that does not exist.
 */
export function sectionValues(doc: IniDocument, section: string): Array<[name: string, value: string]> {
  const own = doc.sections.get(section);
  if (own === undefined && section !== DEFAULT_SECTION) return [];
  const resolved: ResolvedOption[] = [
    ...[...(own?.options.values() ?? [])].map((option) => ({ option, section })),
    ...[...doc.defaults.values()]
      .filter((option) => own?.options.has(option.name) !== true)
      .map((option) => ({ option, section: DEFAULT_SECTION })),
  ];
  return resolved.map((entry): [string, string] => [entry.option.name, interpolate(doc, section, entry)]);
}
