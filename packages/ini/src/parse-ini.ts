import { ERR } from '@ahc/errors';
import { DEFAULT_SECTION, type IniDocument, type IniOption, type IniSection } from './ini-document';
import { IniError } from './ini-error';
import { pyIndent, pyRstrip, pyStrip } from './python-whitespace';

/**
 * Parse one INI file the way Python 3.11's ConfigParser.read() does with default settings:
 * strict, `=` and `:` as separators, whole-line `#`/`;` comments only, indented continuation
 * lines, blank lines kept inside values, option names lower-cased, section names as written.
 * Values stay raw; interpolation happens when they are read (see interpolation.ts).
 */

/**
 * Python's SECTCRE `\[(?P<header>.+)\]` applied with re.match: anchored at the start only and
 * greedy, so `[a]b] x` is section `a]b` and anything after the last `]` is ignored.
 */
const SECTION_HEADER = /^\[(.+)\]/s;
const SEPARATOR = /[=:]/;
const COMMENT_PREFIXES = ['#', ';'];

interface DraftOption {
  readonly name: string;
  readonly lines: string[];
  readonly file: string;
  readonly line: number;
}

interface DraftSection {
  readonly name: string;
  readonly line: number;
  readonly options: Map<string, DraftOption>;
}

export function parseIni(text: string, file: string): IniDocument {
  // Universal newlines, as Python's open() in text mode; a UTF-8 byte order mark is dropped.
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const defaults: DraftSection = { name: DEFAULT_SECTION, line: 0, options: new Map() };
  const sections = new Map<string, DraftSection>();
  let current: DraftSection | undefined;
  let option: DraftOption | undefined; // the option that continuation lines extend
  let indentLevel = 0;
  const unparsable: Array<{ line: number; section: string; message: string }> = [];

  for (let index = 0; index < lines.length; index += 1) {
    const raw = lines[index] as string;
    const line = index + 1;
    const stripped = pyStrip(raw);
    // A whole-line comment is skipped even inside a multi-line value, and does not end it.
    if (COMMENT_PREFIXES.some((prefix) => stripped.startsWith(prefix))) continue;
    if (stripped === '') {
      option?.lines.push(''); // kept if an indented line follows, dropped at the end otherwise
      continue;
    }
    const indent = pyIndent(raw);
    if (option !== undefined && indent > indentLevel) {
      option.lines.push(stripped);
      continue;
    }
    indentLevel = indent;

    const header = SECTION_HEADER.exec(stripped);
    if (header !== null) {
      current = openSection(header[1] as string, line);
      option = undefined;
      continue;
    }
    if (current === undefined) {
      throw new IniError(
        ERR.AHC_INI_MISSING_SECTION_HEADER,
        `${file}:${line}: ${quote(stripped)} comes before the first section header; ` +
          'every option must follow a [section] or [DEFAULT] line',
        { file, line },
      );
    }
    option = addOption(current, stripped, line, option);
  }
  if (unparsable.length > 0) {
    // Python reports every unparsable line of a file at once, after reading all of it.
    const message = unparsable.map((problem) => problem.message).join('\n');
    const [first] = unparsable;
    throw new IniError(ERR.AHC_INI_PARSE, message, { file, line: first?.line, section: first?.section });
  }

  return {
    defaults: finishOptions(defaults.options),
    sections: new Map(
      [...sections].map(([name, draft]): [string, IniSection] => [
        name,
        { name, file, line: draft.line, options: finishOptions(draft.options) },
      ]),
    ),
  };

  function openSection(name: string, line: number): DraftSection {
    // [DEFAULT] may appear several times; its options must still be unique.
    if (name === DEFAULT_SECTION) return defaults;
    const first = sections.get(name);
    if (first !== undefined) {
      throw new IniError(ERR.AHC_INI_DUPLICATE_SECTION, `${file}:${line}: section [${name}] is already defined at line ${first.line}`, {
        file,
        line,
        section: name,
      });
    }
    const section: DraftSection = { name, line, options: new Map() };
    sections.set(name, section);
    return section;
  }

  function addOption(section: DraftSection, text: string, line: number, previous: DraftOption | undefined): DraftOption | undefined {
    const at = text.search(SEPARATOR);
    if (at === -1) {
      const hint = previous === undefined ? '' : '; to continue the previous value, indent this line more than the option';
      unparsable.push({
        line,
        section: section.name,
        message:
          `${file}:${line}: cannot parse ${quote(text)} in section [${section.name}]: ` +
          `expected 'name = value', 'name: value', '[section]' or a comment starting with '#' or ';'${hint}`,
      });
      return previous; // like Python: continuation lines still extend the previous option
    }
    const name = pyRstrip(text.slice(0, at)).toLowerCase();
    if (name === '') {
      unparsable.push({
        line,
        section: section.name,
        message: `${file}:${line}: option name missing before '${text[at] ?? ''}' in ${quote(text)} in section [${section.name}]`,
      });
      // Python still records the nameless option (so a second one is a duplicate), lets no line
      // continue it, and fails at the end of the file.
    }
    const first = section.options.get(name);
    if (first !== undefined) {
      throw new IniError(
        ERR.AHC_INI_DUPLICATE_OPTION,
        `${file}:${line}: option '${name}' in section [${section.name}] is already defined at line ${first.line}`,
        { file, line, section: section.name, option: name },
      );
    }
    const draft: DraftOption = { name, lines: [pyStrip(text.slice(at + 1))], file, line };
    section.options.set(name, draft);
    return name === '' ? undefined : draft;
  }
}

function finishOptions(drafts: ReadonlyMap<string, DraftOption>): ReadonlyMap<string, IniOption> {
  const options = new Map<string, IniOption>();
  for (const [name, draft] of drafts) {
    // Python joins the lines and rstrip()s the result, which drops trailing blank lines.
    options.set(name, { name, value: pyRstrip(draft.lines.join('\n')), file: draft.file, line: draft.line });
  }
  return options;
}

function quote(text: string): string {
  return `'${text}'`;
}
