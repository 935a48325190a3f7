/**
 * Tell BIRD to reload its configuration (`birdc configure`) and judge the answer.
 *
 * What birdc prints (BIRD 2.0.12, observed; stdout unless noted):
 *   success:          "BIRD 2.0.12 ready." / "Reading configuration from bird.conf" / "Reconfigured", exit 0
 *   syntax error:     ... / "./prefixes.conf:1:43 syntax error, unexpected ',', expecting IP4 or IP6", exit 1
 *   missing file:     ... / "/etc/bird/missing.conf: No such file or directory", exit 1
 *   BIRD not running: stderr "Unable to connect to server control socket (/run/bird.ctl): No such file or directory", exit 1
 * While an earlier configuration is still being applied, BIRD 2.0.12 and 3.x answer
 * "Reconfiguration in progress" (or "Reconfiguration already in progress, queueing new config"),
 * exit 0: the configuration was accepted and is applied asynchronously. The caller must not
 * configure again before `configure status` says BIRD is done (configure-status.ts, docs/bird.md).
 * BIRD 1.x can exit 0 after a syntax error, so success needs the "Reconfigured" line too.
 */
import { ERR, describeError } from '@ahc/errors';
import { commandArgv, runCommand } from '@ahc/command';
import type { CommandLine, CommandResult, CommandRunner } from '@ahc/command';

export type ReconfigureStatus = 'applied' | 'in-progress' | 'failed';

/**
 * Why a reconfigure command failed, for code that counts failures by kind (status, metrics);
 * `reason` says the same in words and is what is logged.
 */
export type ReconfigureFailureKind =
  | 'invalid-command' // the command line cannot be split into words
  | 'not-found' // the program does not exist
  | 'permission-denied' // the program is not executable
  | 'spawn-failed' // the program could not be started for another reason
  | 'timed-out' // killed at the reconfigure timeout
  | 'aborted' // killed at shutdown
  | 'killed' // killed by a signal from elsewhere
  | 'config-rejected' // BIRD: a syntax error in the configuration
  | 'config-unreadable' // BIRD: the configuration could not be loaded (missing file, ...)
  | 'no-socket' // BIRD: birdc cannot reach the control socket
  | 'shutting-down' // BIRD: ignored, shutting down
  | 'exit-code' // a non-zero exit code and nothing more telling
  | 'not-confirmed'; // BIRD: exit code 0 but no "Reconfigured" line

/** What happened, one word: `applied`, `in-progress`, or why it failed. */
export type ReconfigureKind = Exclude<ReconfigureStatus, 'failed'> | ReconfigureFailureKind;

export interface ReconfigureOutcome {
  readonly status: ReconfigureStatus;
  /** `status` refined: why it failed, typed (`applied`/`in-progress` when it did not). */
  readonly kind: ReconfigureKind;
  /** Why, in words an operator understands. */
  readonly reason: string;
  /** stdout followed by stderr, trimmed. */
  readonly output: string;
  readonly durationMs: number;
  readonly result: CommandResult;
}

export interface ReconfigureOptions {
  /** Kill the command (and everything it started) after this many milliseconds. */
  readonly timeoutMs: number;
  /** Appended to the command's words (e.g. `['up']` for custom_bird_reconfigure_cmd). */
  readonly extraArgs?: readonly string[];
  /** Aborting kills the command at once (daemon shutdown). */
  readonly signal?: AbortSignal;
  /** Bytes kept of each of stdout and stderr (default 16384). */
  readonly maxOutputBytes?: number;
  /** What starts the command (default runCommand; the daemon passes its spawn helper's). */
  readonly run?: CommandRunner;
}

export type CustomReconfigureOptions = Omit<ReconfigureOptions, 'extraArgs'>;

const RECONFIGURED = 'Reconfigured';
const IN_PROGRESS = /^Reconfiguration (?:already )?in progress\b/;
const SHUTTING_DOWN = /^Reconfiguration ignored, shutting down/;
const NO_SOCKET = /^Unable to connect to server control socket\b/;
/** BIRD 2.x/3.x and later 1.x: `file:line:col message`; older 1.x: `file, line N: message`. */
const CONFIG_ERROR = /^(?:\S+:\d+:\d+ |\S+, line \d+: )/;
/** Printed before BIRD parses; whatever follows it, if not a success, is why it failed. */
const READING = /^Reading configuration from /;
const QUOTE_LIMIT = 600;

function combinedOutput(result: CommandResult): string {
  return [result.stdout.trim(), result.stderr.trim()].filter((part) => part !== '').join('\n');
}

function outputLines(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function quote(output: string): string {
  const text = outputLines(output).join(' | ');
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}...` : text;
}

function exitText(result: CommandResult): string {
  return result.code === null ? 'no exit code' : `exit code ${result.code}`;
}

/** Reasons shared by BIRD and custom commands: could not run, timed out, killed. */
interface Judged {
  readonly status: ReconfigureStatus;
  readonly kind: ReconfigureKind;
  readonly reason: string;
}

function failed(kind: ReconfigureFailureKind, reason: string): Judged {
  return { status: 'failed', kind, reason };
}

function runFailure(argv: readonly string[], result: CommandResult, timeoutMs: number, signal?: AbortSignal): Judged | null {
  const program = argv[0] ?? '';
  if (result.spawnError !== null) {
    switch (result.spawnError.code) {
      case 'ENOENT':
        return failed('not-found', `command not found: ${program}`);
      case 'EACCES':
        return failed('permission-denied', `permission denied running ${program}`);
      default:
        return failed('spawn-failed', `could not start ${program}: ${result.spawnError.message}`);
    }
  }
  const output = combinedOutput(result);
  const said = output === '' ? '' : `; output: ${quote(output)}`;
  if (result.timedOut) {
    return failed('timed-out', `timed out after ${timeoutMs} ms; the command and every process it started were killed${said}`);
  }
  if (result.signal !== null) {
    return signal?.aborted === true
      ? failed('aborted', `aborted (shutting down)${said}`)
      : failed('killed', `killed by ${result.signal}${said}`);
  }
  return null;
}

function syntheticResult(message: string): CommandResult {
  return {
    code: null,
    signal: null,
    timedOut: false,
    spawnError: { code: ERR.AHC_COMMAND_SYNTAX, message },
    stdout: '',
    stderr: '',
    truncated: false,
    durationMs: 0,
  };
}

async function execute(
  command: CommandLine,
  options: ReconfigureOptions,
): Promise<{ argv: string[]; result: CommandResult } | ReconfigureOutcome> {
  let argv: string[];
  try {
    argv = commandArgv(command);
  } catch (error) {
    const message = describeError(error);
    return {
      ...failed('invalid-command', `invalid command line: ${message}`),
      output: '',
      durationMs: 0,
      result: syntheticResult(message),
    };
  }
  argv.push(...(options.extraArgs ?? []));
  const result = await (options.run ?? runCommand)(argv, {
    timeoutMs: options.timeoutMs,
    maxOutputBytes: options.maxOutputBytes ?? 16_384,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return { argv, result };
}

/** Judge what a BIRD reconfigure command did. Exported for tests of recorded answers. */
export function classifyBirdReply(argv: readonly string[], result: CommandResult, timeoutMs: number, signal?: AbortSignal): Judged {
  const failure = runFailure(argv, result, timeoutMs, signal);
  if (failure !== null) return failure;
  const output = combinedOutput(result);
  const lines = outputLines(output);
  if (result.code === 0 && lines.includes(RECONFIGURED)) {
    return { status: 'applied', kind: 'applied', reason: 'BIRD answered "Reconfigured"' };
  }
  const progress = lines.find((line) => IN_PROGRESS.test(line));
  if (result.code === 0 && progress !== undefined) {
    return {
      status: 'in-progress',
      kind: 'in-progress',
      reason: `BIRD accepted the configuration and applies it asynchronously ("${progress}")`,
    };
  }
  const configError = lines.find((line) => CONFIG_ERROR.test(line));
  if (configError !== undefined) {
    return failed(
      'config-rejected',
      'BIRD rejected the configuration: the generated prefix file or the BIRD configuration around it is invalid ' +
        `(${exitText(result)}): ${configError}`,
    );
  }
  const reading = lines.findIndex((line) => READING.test(line));
  const afterReading = reading >= 0 ? lines[reading + 1] : undefined;
  const explained = (line: string): boolean => line === RECONFIGURED || IN_PROGRESS.test(line) || SHUTTING_DOWN.test(line);
  if (afterReading !== undefined && !explained(afterReading)) {
    return failed('config-unreadable', `BIRD could not load its configuration (${exitText(result)}): ${afterReading}`);
  }
  const noSocket = lines.find((line) => NO_SOCKET.test(line));
  if (noSocket !== undefined) {
    return failed('no-socket', `cannot reach BIRD; is it running? (${exitText(result)}): ${noSocket}`);
  }
  const shutdown = lines.find((line) => SHUTTING_DOWN.test(line));
  if (shutdown !== undefined) {
    return failed('shutting-down', `BIRD is shutting down and ignored the new configuration: ${shutdown}`);
  }
  const said = output === '' ? 'no output' : `output: ${quote(output)}`;
  if (result.code !== 0) return failed('exit-code', `${exitText(result)}; ${said}`);
  return failed('not-confirmed', `exit code 0 but no "Reconfigured" line from BIRD; ${said}`);
}

/**
 * Run the BIRD reconfigure command (e.g. `sudo /usr/sbin/birdc configure`), split like a POSIX
 * shell splits words and run without a shell. 'applied' needs exit code 0 and a line
 * `Reconfigured`; `Reconfiguration in progress` (BIRD 2.x/3.x, still applying) is 'in-progress'; anything else is
 * 'failed' with a reason. Never rejects.
 */
export async function runReconfigure(command: CommandLine, options: ReconfigureOptions): Promise<ReconfigureOutcome> {
  const ran = await execute(command, options);
  if ('status' in ran) return ran;
  const judged = classifyBirdReply(ran.argv, ran.result, options.timeoutMs, options.signal);
  return { ...judged, output: combinedOutput(ran.result), durationMs: ran.result.durationMs, result: ran.result };
}

/**
 * Run a service's `custom_bird_reconfigure_cmd` with `up` or `down` appended. Success is exit
 * code 0, whatever it prints (callers log the output). Never rejects.
 */
export async function runCustomReconfigure(
  command: CommandLine,
  direction: 'up' | 'down',
  options: CustomReconfigureOptions,
): Promise<ReconfigureOutcome> {
  const ran = await execute(command, { ...options, extraArgs: [direction] });
  if ('status' in ran) return ran;
  const { argv, result } = ran;
  const output = combinedOutput(result);
  const base = { output, durationMs: result.durationMs, result };
  const failure = runFailure(argv, result, options.timeoutMs, options.signal);
  if (failure !== null) return { ...failure, ...base };
  if (result.code === 0) return { status: 'applied', kind: 'applied', reason: 'exit code 0', ...base };
  const said = output === '' ? 'no output' : `output: ${quote(output)}`;
  return { ...failed('exit-code', `${exitText(result)}; ${said}`), ...base };
}
