import { isErrorCode } from '@ahc/errors';
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_CONFIG_DIR, DEFAULT_CONFIG_FILE, effectiveNotes, loadCompiledConfig, renderDefaults, renderEffective } from '@ahc/config';
import type { CompiledConfig, ConfigSources } from '@ahc/config';
import type { IniDocument } from '@ahc/ini';
import { NAGIOS, renderNagiosFailure } from '@ahc/status';
import { runDaemon } from './daemon';
import { runStatus } from './status-command';
import { runLint } from './lint-command';
import { CONTROL_EXIT, runControl } from './control-command';
import type { ControlCommandRequest } from './control-command';
import { PROGRAM, VERSION_LINE } from './version';

export interface CliArgs {
  command: 'daemon' | 'status' | 'lint' | 'drain' | 'undrain' | 'reload';
  file: string;
  dir: string | undefined;
  serviceFile: string | undefined;
  check: boolean;
  print: boolean;
  printConf: boolean;
  format: 'table' | 'json' | 'nagios';
  timeoutMs: number;
  /** drain/undrain: the services named, --all, and drain's --reason. */
  services: string[];
  all: boolean;
  reason: string | undefined;
}

const USAGE = `A healthchecker for Anycasted services.

Usage:
  $0 [-f FILE] [-c] [-p] [-P] [-d DIR | -F FILE]
  $0 status [-f FILE] [-d DIR | -F FILE] [--json | --nagios] [-t SECONDS]
  $0 lint [-f FILE] [-d DIR | -F FILE] [--json]
  $0 drain [-f FILE] [-d DIR | -F FILE] (SERVICE... | --all) [--reason TEXT] [-t SECONDS]
  $0 undrain [-f FILE] [-d DIR | -F FILE] (SERVICE... | --all) [-t SECONDS]
  $0 reload [-f FILE] [-d DIR | -F FILE] [-t SECONDS]

drain, undrain and reload talk to the daemon over its control socket and exit 0 when done,
${CONTROL_EXIT.REFUSED} when the daemon refused (unknown service, still drained, invalid configuration),
${CONTROL_EXIT.NO_DAEMON} when no daemon listens, ${CONTROL_EXIT.DENIED} on permission denied, ${CONTROL_EXIT.NO_ANSWER} when it does not answer in time.`;

/** -c, -p, -P: only the daemon command (the default) has them. */
function daemonOptions<T>(y: Argv<T>) {
  return y
    .option('check', { alias: 'c', type: 'boolean', default: false, describe: 'validate the configuration, print OK and exit' })
    .option('print', { alias: 'p', type: 'boolean', default: false, describe: 'print the built-in defaults' })
    .option('print-conf', { alias: 'P', type: 'boolean', default: false, describe: 'print the effective configuration, defaults applied' });
}

function timeoutOption<T>(y: Argv<T>, seconds: number, describe = 'give up waiting for the daemon after this many seconds') {
  return y
    .option('timeout', {
      alias: 't',
      type: 'number',
      default: seconds,
      describe,
      requiresArg: true,
    })
    .check((a) => {
      if (!(typeof a.timeout === 'number' && Number.isFinite(a.timeout) && a.timeout > 0))
        throw new Error('--timeout needs a number of seconds greater than 0');
      return true;
    });
}

/** drain and undrain: SERVICE... or --all, not both. */
function drainTargets<T>(y: Argv<T>, verb: string) {
  return y
    .positional('services', { type: 'string', array: true, describe: `the services to ${verb} (section names)` })
    .option('all', { type: 'boolean', default: false, describe: `${verb} every service` })
    .check((a) => {
      const named = Array.isArray(a.services) ? a.services.length : 0;
      if (a.all === true && named > 0) throw new Error(`name services or give --all, not both`);
      if (a.all !== true && named === 0) throw new Error(`name the services to ${verb}, or give --all`);
      return true;
    });
}

const NAGIOS_USAGE = `usage: ${PROGRAM} status --nagios [-f FILE] [-d DIR or -F FILE] [-t SECONDS]`;

/**
 * `status --nagios` is run by a monitoring system: a usage error there is one line on stdout
 * and exit code 3 (UNKNOWN), as the Nagios plugin guidelines ask, not yargs' help on stderr.
 */
function nagiosUsageError(message: string | null, error: Error | undefined): never {
  const why = message ?? error?.message ?? 'invalid arguments';
  process.stdout.write(`${renderNagiosFailure(NAGIOS.UNKNOWN, `${why}; ${NAGIOS_USAGE}`).line}\n`);
  process.exit(NAGIOS.UNKNOWN);
}

function isNagiosStatus(argv: readonly string[]): boolean {
  return argv.includes('status') && argv.some((a) => a === '--nagios' || a.startsWith('--nagios='));
}

export function parseArgs(argv: string[]): CliArgs {
  let command: CliArgs['command'] = 'daemon';
  const cli = yargs(argv)
    .scriptName(PROGRAM)
    .usage(USAGE)
    .command('$0', 'run the daemon in the foreground (or -c, -p, -P)', (y) => daemonOptions(y))
    .command(
      'status',
      "show the running daemon's checks and workers (from its status socket)",
      (y) =>
        timeoutOption(
          y.option('json', { type: 'boolean', describe: 'print the full status as JSON' }).option('nagios', {
            type: 'boolean',
            describe: 'Nagios plugin mode: one line with perf data, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN',
          }),
          5,
          'give up after this many seconds (the whole command)',
        ).conflicts('json', 'nagios'),
      () => {
        command = 'status';
      },
    )
    .command(
      'lint',
      'report every problem of the configuration at once (file:line), for CI and packaging hooks',
      (y) => y.option('json', { type: 'boolean', describe: 'print the problems as JSON' }),
      () => {
        command = 'lint';
      },
    )
    .command(
      'drain [services..]',
      "withdraw services' prefixes whatever their checks say, until undrained (over the control socket)",
      (y) =>
        timeoutOption(drainTargets(y, 'drain'), 10).option('reason', {
          type: 'string',
          describe: 'why, shown in status and the log',
          requiresArg: true,
        }),
      () => {
        command = 'drain';
      },
    )
    .command(
      'undrain [services..]',
      'end drains made by drain (--all: every one); the drain file is ended by removing it',
      (y) => timeoutOption(drainTargets(y, 'undrain'), 10),
      () => {
        command = 'undrain';
      },
    )
    .command(
      'reload',
      'reload the configuration and print what changed, or why it is invalid (over the control socket)',
      (y) => timeoutOption(y, 30),
      () => {
        command = 'reload';
      },
    )
    .option('file', {
      alias: 'f',
      type: 'string',
      default: DEFAULT_CONFIG_FILE,
      describe: 'read daemon settings from FILE',
      requiresArg: true,
    })
    .option('dir', {
      alias: 'd',
      type: 'string',
      describe: `read service checks from every *.conf in DIR [default: ${DEFAULT_CONFIG_DIR}]`,
      requiresArg: true,
    })
    .option('service-file', {
      alias: 'F',
      type: 'string',
      describe: 'read a single service check from FILE instead of DIR',
      requiresArg: true,
    })
    .conflicts('dir', 'service-file')
    .version('version', 'show the version and the Node.js version', VERSION_LINE)
    .alias('version', 'v')
    .help('help', 'show this help')
    .alias('help', 'h')
    .strict()
    .wrap(100)
    .exitProcess(true);
  const parsed = (isNagiosStatus(argv) ? cli.fail(nagiosUsageError) : cli).parseSync();
  const format = parsed.json === true ? 'json' : parsed.nagios === true ? 'nagios' : 'table';
  return {
    command,
    file: parsed.file,
    dir: parsed['service-file'] === undefined ? (parsed.dir ?? DEFAULT_CONFIG_DIR) : undefined,
    serviceFile: parsed['service-file'],
    // Only the daemon command defines these (subcommands refuse them as unknown arguments).
    check: parsed.check === true,
    print: parsed.print === true,
    printConf: parsed['print-conf'] === true,
    format,
    timeoutMs: Math.round((typeof parsed.timeout === 'number' ? parsed.timeout : 5) * 1000),
    services: Array.isArray(parsed.services) ? parsed.services.map(String) : [],
    all: parsed.all === true,
    reason: typeof parsed.reason === 'string' ? parsed.reason : undefined,
  };
}

function sourcesOf(args: CliArgs): ConfigSources {
  return {
    file: args.file,
    ...(args.dir === undefined ? {} : { dir: args.dir }),
    ...(args.serviceFile === undefined ? {} : { serviceFile: args.serviceFile }),
  };
}

/** A configuration error ends the program here: one line, exit code 1, no stack trace. */
function invalid(message: string): never {
  process.stderr.write(`Invalid configuration: ${message}\n`);
  process.exit(1);
}

function load(args: CliArgs): { config: CompiledConfig; document: IniDocument } {
  try {
    const { config, document } = loadCompiledConfig(sourcesOf(args));
    return { config, document };
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    if (isErrorCode(e.code)) invalid(String(e.message));
    throw error;
  }
}

/**
 * -c and -P, or the daemon's configuration. The parsed document stays in this frame: were it a
 * local of main(), which awaits the daemon, every file's text and entries would be held for the
 * daemon's whole life (0.5 MiB at 1000 services).
 */
function checkOrPrint(args: CliArgs): CompiledConfig | number {
  const { config, document } = load(args);
  if (args.check) {
    // What this host lacks (a custom_bird_reconfigure_cmd program) is not -c's business: the
    // Python daemon says nothing, and configurations are checked on build hosts.
    for (const w of config.warnings) if (w.hostOnly !== true) process.stderr.write(`warning: ${w.message}\n`);
    process.stdout.write('OK\n');
    return 0;
  }
  if (args.printConf) {
    process.stdout.write(renderEffective(document, effectiveNotes(document, config)));
    return 0;
  }
  return config;
}

export async function main(argv = hideBin(process.argv)): Promise<number> {
  const args = parseArgs(argv);
  if (args.command === 'status') return runStatus({ sources: sourcesOf(args), format: args.format, timeoutMs: args.timeoutMs });
  if (args.command === 'lint') return runLint(sourcesOf(args), args.format === 'json');
  if (args.command === 'drain' || args.command === 'undrain' || args.command === 'reload') {
    const request: ControlCommandRequest =
      args.command === 'reload'
        ? { command: 'reload' }
        : args.command === 'drain'
          ? { command: 'drain', services: args.services, all: args.all, reason: args.reason }
          : { command: 'undrain', services: args.services, all: args.all };
    return runControl({ sources: sourcesOf(args), request, timeoutMs: args.timeoutMs });
  }
  if (args.print) {
    process.stdout.write(renderDefaults());
    return 0;
  }
  const config = checkOrPrint(args);
  if (typeof config === 'number') return config;
  try {
    return await runDaemon(config, sourcesOf(args));
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    if (isErrorCode(e.code)) {
      process.stderr.write(`${PROGRAM}: ${String(e.message)}\n`);
      return 1;
    }
    throw error;
  }
}
