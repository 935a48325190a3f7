export { splitCommand, CommandSyntaxError } from './split-command';
export { runCommand, describeResult } from './run-command';
export type { CommandResult, RunCommandOptions } from './run-command';
