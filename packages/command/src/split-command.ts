import { AhcError, ERR } from '@ahc/errors';

/**
 * Split a command line into words the way a POSIX shell (and Python's shlex.split) does,
 * without any expansion: single quotes are literal, double quotes honour \" \\ \$ \` and
 * backslash-newline, a backslash outside quotes escapes the next character. `#` is an ordinary
 * character (shlex.split's default, comments=False). The result is run without a shell.
 */
export class CommandSyntaxError extends AhcError {
  override name = 'CommandSyntaxError';
  constructor(message: string) {
    super(ERR.AHC_COMMAND_SYNTAX, message);
  }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i] as string;
    if (WHITESPACE.has(ch)) {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
      i += 1;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw new CommandSyntaxError(`no closing quotation in: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      inWord = true;
      i += 1;
      let closed = false;
      while (i < line.length) {
        const c = line[i] as string;
        if (c === '"') {
          closed = true;
          i += 1;
          break;
        }
        if (c === '\\' && i + 1 < line.length) {
          const next = line[i + 1] as string;
          if (next === '"' || next === '\\' || next === '$' || next === '`') {
            word += next;
            i += 2;
            continue;
          }
          if (next === '\n') {
            i += 2;
            continue;
          }
        }
        word += c;
        i += 1;
      }
      if (!closed) throw new CommandSyntaxError(`no closing quotation in: ${line}`);
    } else if (ch === '\\') {
      if (i + 1 >= line.length) throw new CommandSyntaxError(`no escaped character after a trailing backslash in: ${line}`);
      const next = line[i + 1] as string;
      if (next !== '\n') {
        word += next;
        inWord = true;
      }
      i += 2;
    } else {
      word += ch;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) words.push(word);
  return words;
}
