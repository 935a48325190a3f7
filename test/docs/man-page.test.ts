// docs/anycast-healthchecker.8 against the built program: every option each command's --help
// lists is described in the right part of the man page, and the exit codes match the code.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(root, 'node_modules', '.bin', 'anycast-healthchecker');
const page = readFileSync(join(root, 'docs', 'anycast-healthchecker.8'), 'utf8');

/** The text of a `.SH NAME` section, up to the next one. */
function section(name: string): string {
  const start = page.indexOf(`\n.SH ${name}\n`);
  if (start === -1) throw new Error(`the man page has no section ${name}`);
  const end = page.indexOf('\n.SH ', start + 1);
  return page.slice(start, end === -1 ? undefined : end);
}

/** Under COMMANDS, the entry of one command: from its `.B NAME` tag line to the next command's. */
function commandEntry(name: string): string {
  const commands = section('COMMANDS');
  const start = commands.indexOf(`\n.TP\n.B ${name}\n`);
  if (start === -1) throw new Error(`COMMANDS has no entry for ${name}`);
  const next = commands.slice(start + 1).search(/\n\.TP\n\.B [a-z]+\n/);
  return next === -1 ? commands.slice(start) : commands.slice(start, start + 1 + next);
}

async function longOptions(args: readonly string[]): Promise<string[]> {
  const { stdout } = await promisify(execFile)(CLI, [...args, '--help']);
  return [...stdout.matchAll(/^ {2}(?:-\w, )?\s*--([\w-]+)/gm)].map((m) => m[1] as string);
}

const roff = (option: string): string => `\\-\\-${option.replaceAll('-', '\\-')}`;
const GLOBAL = ['file', 'dir', 'service-file', 'version', 'help'];

describe('docs/anycast-healthchecker.8', () => {
  it('describes every option of the daemon command under OPTIONS', async () => {
    const options = await longOptions([]);
    expect(options).toContain('check');
    const text = section('OPTIONS');
    expect(options.filter((o) => !text.includes(roff(o)))).toEqual([]);
  });

  it.each(['status', 'lint'])('describes every option of %s in its COMMANDS entry, and has it in the SYNOPSIS', async (command) => {
    const own = (await longOptions([command])).filter((o) => !GLOBAL.includes(o));
    expect(own).toContain('json');
    const entry = commandEntry(command);
    expect(own.filter((o) => !entry.includes(roff(o)))).toEqual([]);
    expect(section('SYNOPSIS')).toContain(`.B anycast-healthchecker ${command}\n`);
  });

  it.each(['drain', 'undrain', 'reload'])('describes every option of %s in its COMMANDS entry, and has it in the SYNOPSIS', async (command) => {
    const own = (await longOptions([command])).filter((o) => !GLOBAL.includes(o));
    expect(own).toContain('timeout');
    const entry = commandEntry(command);
    expect(own.filter((o) => !entry.includes(roff(o)))).toEqual([]);
    expect(section('SYNOPSIS')).toContain(`.B anycast-healthchecker ${command}\n`);
  });

  it('gives the exit codes of drain, undrain and reload that the code uses, and --help says the same', async () => {
    const source = readFileSync(join(root, 'apps', 'anycast-healthchecker', 'src', 'control-command.ts'), 'utf8');
    const table = /export const CONTROL_EXIT = \{([\s\S]*?)\} as const;/.exec(source)?.[1] ?? '';
    const codes = Object.fromEntries([...table.matchAll(/^\s+([A-Z_]+): (\d+),/gm)].map((m) => [m[1], Number(m[2])]));
    expect(codes).toEqual({ OK: 0, REFUSED: 1, NO_DAEMON: 3, DENIED: 4, NO_ANSWER: 5 });
    const exits = section('EXIT STATUS');
    const control = exits.slice(exits.indexOf('.BR drain ,'));
    for (const [code, words] of [
      [codes.OK, 'Done.'],
      [codes.REFUSED, 'The daemon refused'],
      [codes.NO_DAEMON, 'No daemon'],
      [codes.DENIED, 'Permission denied'],
      [codes.NO_ANSWER, 'No answer'],
    ] as const) {
      expect(control).toContain(`\n.B ${code}\n${words}`);
    }
    const { stdout } = await promisify(execFile)(CLI, ['--help']);
    expect(stdout).toMatch(new RegExp(`${codes.REFUSED} when the daemon refused[\\s\\S]*${codes.NO_DAEMON} when no daemon listens, ${codes.DENIED} on permission denied, ${codes.NO_ANSWER} when it does not answer in time`));
  });

  it('gives the exit codes the program uses: 1 for a refused start or a failed daemon, 2 for an error escaping main', () => {
    const exits = section('EXIT STATUS');
    const main = readFileSync(join(root, 'apps', 'anycast-healthchecker', 'src', 'main.ts'), 'utf8');
    const daemon = readFileSync(join(root, 'apps', 'anycast-healthchecker', 'src', 'daemon.ts'), 'utf8');
    // The rejection handler of main(): its code is the one documented for unexpected errors.
    const internal = /internal error: [\s\S]{0,300}?(?:process\.exit|exitAfterOutput)\((\d+)\)/.exec(main)?.[1];
    expect(internal).toBe('2');
    expect(exits).toMatch(new RegExp(`\\n\\.B ${internal}\\nAn unexpected error outside the running daemon`));
    // The running daemon's internal error and startup failure stop it with code 1.
    expect(daemon).toMatch(/internal error, exiting: [\s\S]{0,400}?stop\([^,()]+, 1\)/);
    expect(daemon).toMatch(/cannot start: [^\n]*\n\s*stop\([^,()]+, 1\)/);
    const one = exits.slice(exits.indexOf('\n.B 1\n'), exits.indexOf('\n.B 2\n'));
    expect(one).toContain('internal error, exiting: ...');
    expect(one).toContain('cannot start: ...');
  });
});
