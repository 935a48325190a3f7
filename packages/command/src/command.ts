import { splitCommand } from './split-command';

/** A command as configured: the text an operator wrote and its words, split once when the
 * configuration is compiled. */
export interface Command {
  readonly text: string;
  readonly argv: readonly string[];
}

/** A command already split (the daemon's path), or a command line still to split (tests, tools). */
export type CommandLine = string | Command;

/** The words of a command line; a string is split here (CommandSyntaxError when it cannot be). */
export function commandArgv(command: CommandLine): string[] {
  return typeof command === 'string' ? splitCommand(command) : [...command.argv];
}
