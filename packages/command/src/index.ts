export { splitCommand, CommandSyntaxError } from './split-command';
export { commandArgv } from './command';
export type { Command, CommandLine } from './command';
export { runCommand, describeResult } from './run-command';
export type { CommandResult, CommandRunner, RunCommandOptions } from './run-command';
export { SpawnHelper, resultFromDone } from './spawn-helper-client';
export type { SpawnHelperLog, SpawnHelperOptions, SpawnHelperState } from './spawn-helper-client';
export { ReplyDecoder, SpawnProtocolError, decodeReply, encodeCancel, encodeReply, encodeRun, DONE_KINDS } from './spawn-protocol';
export type { DoneKind, DoneReply, RunRequest, SpawnReply, StartedReply } from './spawn-protocol';
