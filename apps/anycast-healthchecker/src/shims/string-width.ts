/**
 * Stands in for the `string-width` package inside the bundle (esbuild alias in scripts/build.mjs).
 * yargs and cliui measure help text with it, and the package creates an `Intl.Segmenter` when it
 * is imported, which pulls ICU's segmentation data into memory: about 2.6 MiB of resident memory
 * that the daemon would carry for its whole life, for a `--help` it never prints. Here the
 * terminal width is counted per code point: ANSI escapes, control, format and combining
 * characters take no column, East Asian wide and fullwidth characters and emoji take two, the
 * rest one. That is exact for this program's help texts (ASCII) and close for any other text.
 */
import { eastAsianWidth } from 'get-east-asian-width';

// eslint-disable-next-line no-control-regex -- ANSI escape sequences start with a control character
const ANSI = /[\u001b\u009b][[\]()#;?]*(?:\d{1,4}(?:[;:]\d{0,4})*)?[\dA-PR-TZcf-nq-uy=><~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
const ZERO_WIDTH = /^[\p{Cc}\p{Cf}\p{Mn}\p{Me}\p{Default_Ignorable_Code_Point}]$/u;
const EMOJI = /^\p{Extended_Pictographic}$/u;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export interface StringWidthOptions {
  readonly ambiguousIsNarrow?: boolean;
  readonly countAnsiEscapeCodes?: boolean;
}

export default function stringWidth(text: string, options: StringWidthOptions = {}): number {
  if (typeof text !== 'string' || text === '') return 0;
  const plain = options.countAnsiEscapeCodes === true ? text : text.replace(ANSI, '');
  if (PRINTABLE_ASCII.test(plain)) return plain.length;
  let width = 0;
  for (const ch of plain) {
    if (ZERO_WIDTH.test(ch)) continue;
    if (EMOJI.test(ch) && (ch.codePointAt(0) ?? 0) > 0xff) {
      width += 2;
      continue;
    }
    width += eastAsianWidth(ch.codePointAt(0) ?? 0, { ambiguousAsWide: options.ambiguousIsNarrow === false });
  }
  return width;
}
