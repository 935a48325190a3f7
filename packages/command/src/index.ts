export { splitCommand, CommandSyntaxError } from './split-command';
export { commandArgv } from './command';
export type { Command, CommandLine } from './command';
export { runCommand, describeResult } from './run-command';
export type { CommandResult, RunCommandOptions } from './run-command';
