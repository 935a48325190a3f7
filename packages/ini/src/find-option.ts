import { DEFAULT_SECTION, type IniDocument, type IniOption } from './ini-document';

/** An option as a section sees it, with the section that actually holds it. */
export interface ResolvedOption {
  readonly option: IniOption;
  /** The section the option was found in: the one asked for, or DEFAULT. */
  readonly section: string;
}

/**
 * The raw record behind `section`'s option `name` (case-insensitive): the section's own option,
 * else the DEFAULT one. Undefined when the section or the option does not exist. For error
 * messages that must point at a file and line.
 */
export function findOption(doc: IniDocument, section: string, name: string): IniOption | undefined {
  return resolveOption(doc, section, name)?.option;
}

export function resolveOption(doc: IniDocument, section: string, name: string): ResolvedOption | undefined {
  const key = name.toLowerCase();
  if (section !== DEFAULT_SECTION) {
    const own = doc.sections.get(section);
    if (own === undefined) return undefined;
    const option = own.options.get(key);
    if (option !== undefined) return { option, section };
  }
  const inherited = doc.defaults.get(key);
  return inherited === undefined ? undefined : { option: inherited, section: DEFAULT_SECTION };
}
