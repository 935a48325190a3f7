import { describe, expect, it } from 'vitest';
import { splitCommand } from '../src/split-command';

// Expected values are what Python's shlex.split (POSIX mode) returns for the same input.
const cases: Array<[string, string[]]> = [
  ['/usr/bin/curl --fail --silent http://10.52.12.1/', ['/usr/bin/curl', '--fail', '--silent', 'http://10.52.12.1/']],
  ['  spaced   out\targs  ', ['spaced', 'out', 'args']],
  ["sh -c 'exit 3'", ['sh', '-c', 'exit 3']],
  ['echo "a \\"quoted\\" word"', ['echo', 'a "quoted" word']],
  ['echo "keeps \\n as is"', ['echo', 'keeps \\n as is']],
  ["echo 'no \\escape in single'", ['echo', 'no \\escape in single']],
  ['echo a\\ b', ['echo', 'a b']],
  ['echo ab"cd"\'ef\'', ['echo', 'abcdef']],
  ['echo "" \'\'', ['echo', '', '']],
  ['echo hi # not a comment', ['echo', 'hi', '#', 'not', 'a', 'comment']],
  ['/bin/echo a #c', ['/bin/echo', 'a', '#c']],
  ['echo a#b', ['echo', 'a#b']],
  ['curl http://x/?a=1&b=%20', ['curl', 'http://x/?a=1&b=%20']],
  ['', []],
];

describe('splitCommand (like shlex.split, no expansion)', () => {
  for (const [input, expected] of cases) {
    it(`splits ${JSON.stringify(input)}`, () => {
      expect(splitCommand(input)).toEqual(expected);
    });
  }

  it('rejects an unclosed quote with a message quoting the line', () => {
    expect(() => splitCommand("sh -c 'exit 1")).toThrow(/no closing quotation/);
    expect(() => splitCommand('echo "abc')).toThrow(/no closing quotation/);
  });

  it('rejects a trailing backslash', () => {
    expect(() => splitCommand('echo \\')).toThrow(/backslash/);
  });
});
