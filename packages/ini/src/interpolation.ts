import { ERR } from '@ahc/errors';
import type { IniDocument } from './ini-document';
import { IniError, location } from './ini-error';
import { resolveOption, type ResolvedOption } from './find-option';

/**
 * Python's BasicInterpolation: `%%` is a literal `%`, `%(name)s` is the value of option `name`
 * (lower-cased) of the same section or DEFAULT, expanded again if it contains `%`. Any other `%`
 * is an error. Nesting deeper than 10 levels is an error (in practice: a reference loop).
 */
const MAX_DEPTH = 10;
const REFERENCE = /^%\(([^)]+)\)s/;

/** The interpolated value of a resolved option as seen from `section`. */
export function interpolate(doc: IniDocument, section: string, target: ResolvedOption): string {
  const top = target.option.name;
  const out: string[] = [];
  expand(target, 1, [top]);
  return out.join('');

  function expand(source: ResolvedOption, depth: number, trail: readonly string[]): void {
    const where = `${location(source.option.file, source.option.line)}: option '${source.option.name}' in section [${source.section}]`;
    const context = source === target ? '' : ` (while expanding option '${top}' in section [${section}])`;
    const fail = (code: IniError['code'], message: string): IniError =>
      new IniError(code, `${where} ${message}${context}`, {
        file: source.option.file,
        line: source.option.line,
        section,
        option: top,
      });

    if (depth > MAX_DEPTH) {
      throw new IniError(
        ERR.AHC_INI_INTERPOLATION_DEPTH,
        `${location(target.option.file, target.option.line)}: option '${top}' in section [${section}] ${describeNesting(trail)}`,
        { file: target.option.file, line: target.option.line, section, option: top },
      );
    }
    let rest = source.option.value;
    while (rest !== '') {
      const at = rest.indexOf('%');
      if (at === -1) {
        out.push(rest);
        return;
      }
      out.push(rest.slice(0, at));
      rest = rest.slice(at);
      if (rest[1] === '%') {
        out.push('%');
        rest = rest.slice(2);
      } else if (rest[1] === '(') {
        const match = REFERENCE.exec(rest);
        if (match === null) {
          throw fail(
            ERR.AHC_INI_INTERPOLATION_SYNTAX,
            `has an unfinished reference near ${excerpt(rest)}: write '%(name)s', or '%%' for a literal '%'`,
          );
        }
        const name = (match[1] as string).toLowerCase();
        rest = rest.slice(match[0].length);
        const referenced = resolveOption(doc, section, name);
        if (referenced === undefined) {
          throw fail(
            ERR.AHC_INI_INTERPOLATION_MISSING,
            `refers to '%(${name})s', but there is no option '${name}' in section [${section}] or [DEFAULT]`,
          );
        }
        if (referenced.option.value.includes('%')) expand(referenced, depth + 1, [...trail, name]);
        else out.push(referenced.option.value);
      } else {
        throw fail(ERR.AHC_INI_INTERPOLATION_SYNTAX, `has a lone '%' near ${excerpt(rest)}: write '%%' for a literal '%'`);
      }
    }
  }
}

/** Name the loop when the chain of references repeats itself, else show the chain. */
function describeNesting(trail: readonly string[]): string {
  const repeat = trail.findIndex((name, index) => trail.indexOf(name) < index);
  if (repeat === -1) {
    return `nests %(name)s references deeper than ${MAX_DEPTH} levels (${trail.join(' -> ')})`;
  }
  const loop = trail.slice(trail.indexOf(trail[repeat] as string), repeat + 1);
  return `contains a reference loop: ${loop.join(' -> ')}`;
}

function excerpt(text: string): string {
  return text.length > 30 ? `'${text.slice(0, 30)}...'` : `'${text}'`;
}
