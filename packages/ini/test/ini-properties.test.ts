import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getValue, iniFromObject, mergeIni, parseIni, type IniDocument } from '../src/index';
import { rawValues } from './helpers';

// ---- (1) render, then parse ------------------------------------------------------------------

interface OptionModel {
  name: string;
  lines: string[]; // value lines; "" is a blank line inside the value
}
interface SectionModel {
  name: string;
  options: OptionModel[];
}

const isTrimmed = (text: string): boolean => text === text.trim();

const sectionName = fc
  .string({ unit: fc.constantFrom('a', 'B', '0', '-', '_', '.', ' ', '[', ']', '#', ';', '=', ':', '%'), minLength: 1, maxLength: 8 })
  .filter((name) => name !== 'DEFAULT');

const optionName = fc
  .string({ unit: fc.constantFrom('a', 'z', '0', '_', '-', '.', ' ', '#', ';', '[', ']', '%'), minLength: 1, maxLength: 8 })
  .filter((name) => isTrimmed(name) && !/^[[#;]/.test(name));

const valueText = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', ' ', '\t', '=', ':', '#', ';', '%', '[', ']', '(', ')', 'é'),
  maxLength: 10,
});
const firstLine = valueText.filter(isTrimmed);
const continuationLine = fc.oneof(
  fc.constant(''),
  valueText.filter((line) => line !== '' && isTrimmed(line) && !/^[#;]/.test(line)),
);
const valueLines = fc
  .tuple(firstLine, fc.array(continuationLine, { maxLength: 3 }))
  .map(([first, rest]) => [first, ...rest])
  .filter((lines) => lines.length === 1 || (lines[0] !== '' && lines.at(-1) !== ''));

const optionsModel = fc.uniqueArray(fc.record({ name: optionName, lines: valueLines }), {
  selector: (option) => option.name,
  maxLength: 4,
});
const documentModel = fc.record({
  defaults: optionsModel,
  sections: fc.uniqueArray(fc.record({ name: sectionName, options: optionsModel }), {
    selector: (section) => section.name,
    maxLength: 4,
  }),
});

const renderStyle = fc.record({
  separator: fc.constantFrom('=', ' = ', ': ', ':', '\t=  '),
  indent: fc.constantFrom('  ', '\t', '    '),
  newline: fc.constantFrom('\n', '\r\n'),
  comments: fc.boolean(),
});

/** Render the model as an INI file; returns the text and the expected line of every header/option. */
function render(
  model: { defaults: OptionModel[]; sections: SectionModel[] },
  style: { separator: string; indent: string; newline: string; comments: boolean },
): { text: string; lineOf: Map<string, number> } {
  const out: string[] = [];
  const lineOf = new Map<string, number>();
  const emit = (line: string, key?: string): void => {
    out.push(line);
    if (key !== undefined) lineOf.set(key, out.length);
    if (style.comments) out.push(out.length % 2 === 0 ? '# a comment' : `${style.indent}; indented comment`);
  };
  const blocks: SectionModel[] = [{ name: 'DEFAULT', options: model.defaults }, ...model.sections];
  for (const section of blocks) {
    emit(`[${section.name}]`, section.name);
    for (const option of section.options) {
      const [first, ...rest] = option.lines;
      emit(`${option.name}${style.separator}${first ?? ''}`, `${section.name}/${option.name}`);
      for (const line of rest) emit(line === '' ? '' : `${style.indent}${line}`);
    }
  }
  return { text: out.join(style.newline) + style.newline, lineOf };
}

function expectedValues(options: OptionModel[]): Array<[string, string]> {
  return options.map((option) => [option.name, option.lines.join('\n')]);
}

describe('properties', () => {
  it('parsing a rendered document gives back its sections, options, values and lines', () => {
    fc.assert(
      fc.property(documentModel, renderStyle, (model, style) => {
        const { text, lineOf } = render(model, style);
        const doc = parseIni(text, 'f.conf');
        expect([...doc.sections.keys()]).toEqual(model.sections.map((section) => section.name));
        expect(rawValues(doc, 'DEFAULT')).toEqual(expectedValues(model.defaults));
        for (const section of model.sections) {
          expect(rawValues(doc, section.name)).toEqual(expectedValues(section.options));
          expect(doc.sections.get(section.name)?.line).toBe(lineOf.get(section.name));
          for (const option of section.options) {
            expect(doc.sections.get(section.name)?.options.get(option.name)?.line).toBe(lineOf.get(`${section.name}/${option.name}`));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  // ---- (2) "%%" escaping and references ----------------------------------------------------

  it('any text with "%" doubled reads back as the original text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const doc = iniFromObject({ s: { k: text.replaceAll('%', '%%') } }, '<test>');
        expect(getValue(doc, 's', 'k')).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('a value built from escaped literals and %(name)s references expands to their concatenation', () => {
    const literal = fc.string({ unit: fc.constantFrom('a', '%', '(', ')', 's', ' ', '$') });
    const part = fc.oneof(
      literal.map((text) => ({ text })),
      fc.constantFrom('x', 'y').map((ref) => ({ ref })),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 6 }), literal, literal, (parts, x, y) => {
        const escape = (text: string): string => text.replaceAll('%', '%%');
        const raw = parts.map((p) => ('ref' in p ? `%(${p.ref.toUpperCase()})s` : escape(p.text))).join('');
        const expected = parts.map((p) => ('ref' in p ? (p.ref === 'x' ? x : y) : p.text)).join('');
        const doc = iniFromObject({ DEFAULT: { y: escape(y) }, s: { x: escape(x), k: raw } }, '<test>');
        expect(getValue(doc, 's', 'k')).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  // ---- (3) merge: the last file wins ---------------------------------------------------------

  it('merging any sequence of documents keeps, for each option, the value of the last document defining it', () => {
    const sectionKey = fc.constantFrom('DEFAULT', 'a', 'b', 'c');
    const optionKey = fc.constantFrom('x', 'y', 'z');
    const file = fc.dictionary(sectionKey, fc.dictionary(optionKey, fc.string({ maxLength: 3 })));
    fc.assert(
      fc.property(fc.array(file, { minLength: 1, maxLength: 5 }), (files) => {
        const docs = files.map((obj, index) => iniFromObject(obj, `file${index}`));
        const merged = docs.reduce((base, next) => mergeIni(base, next));
        const firstSeen = (pick: (obj: (typeof files)[number]) => string[]): string[] => [...new Set(files.flatMap(pick))];

        expect([...merged.sections.keys()]).toEqual(firstSeen((obj) => Object.keys(obj).filter((s) => s !== 'DEFAULT')));
        for (const section of ['DEFAULT', ...merged.sections.keys()]) {
          expect(rawValues(merged, section).map(([name]) => name)).toEqual(firstSeen((obj) => Object.keys(obj[section] ?? {})));
          for (const [name, value] of rawValues(merged, section)) {
            const last = files.findLastIndex((obj) => obj[section]?.[name] !== undefined);
            expect(value).toBe(files[last]?.[section]?.[name]);
            expect(optionsOf(merged, section).get(name)?.file).toBe(`file${last}`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

function optionsOf(doc: IniDocument, section: string): IniDocument['defaults'] {
  return section === 'DEFAULT' ? doc.defaults : (doc.sections.get(section)?.options ?? new Map());
}
