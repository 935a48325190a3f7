import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_CONFIG_DIR, DEFAULT_CONFIG_FILE, compileConfig, loadConfigDocument, renderDefaults, renderEffective } from '@ahc/config';
import type { CompiledConfig, ConfigSources } from '@ahc/config';
import type { IniDocument } from '@ahc/ini';
import { runDaemon } from './daemon';
import { PROGRAM, VERSION } from './version';

export interface CliArgs {
  file: string;
  dir: string | undefined;
  serviceFile: string | undefined;
  check: boolean;
  print: boolean;
  printConf: boolean;
}

export function parseArgs(argv: string[]): CliArgs {
  const parsed = yargs(argv)
    .scriptName(PROGRAM)
    .usage(`A healthchecker for Anycasted services.\n\nUsage: $0 [-f FILE] [-c] [-p] [-P] [-d DIR | -F FILE]`)
    .option('file', { alias: 'f', type: 'string', default: DEFAULT_CONFIG_FILE, describe: 'read daemon settings from FILE', requiresArg: true })
    .option('dir', { alias: 'd', type: 'string', describe: `read service checks from every *.conf in DIR [default: ${DEFAULT_CONFIG_DIR}]`, requiresArg: true })
    .option('service-file', { alias: 'F', type: 'string', describe: 'read a single service check from FILE instead of DIR', requiresArg: true })
    .option('check', { alias: 'c', type: 'boolean', default: false, describe: 'validate the configuration, print OK and exit' })
    .option('print', { alias: 'p', type: 'boolean', default: false, describe: 'print the built-in defaults' })
    .option('print-conf', { alias: 'P', type: 'boolean', default: false, describe: 'print the effective configuration, defaults applied' })
    .conflicts('dir', 'service-file')
    .version('version', 'show the version', VERSION)
    .alias('version', 'v')
    .help('help', 'show this help')
    .alias('help', 'h')
    .strict()
    .wrap(100)
    .exitProcess(true)
    .parseSync();
  return {
    file: parsed.file,
    dir: parsed['service-file'] === undefined ? (parsed.dir ?? DEFAULT_CONFIG_DIR) : undefined,
    serviceFile: parsed['service-file'],
    check: parsed.check,
    print: parsed.print,
    printConf: parsed['print-conf'],
  };
}

/** A configuration error ends the program here: one line, exit code 1, no stack trace. */
function invalid(message: string): never {
  process.stderr.write(`Invalid configuration: ${message}\n`);
  process.exit(1);
}

function load(args: CliArgs): { config: CompiledConfig; document: IniDocument } {
  const sources: ConfigSources = {
    file: args.file,
    ...(args.dir === undefined ? {} : { dir: args.dir }),
    ...(args.serviceFile === undefined ? {} : { serviceFile: args.serviceFile }),
  };
  try {
    const { document, files } = loadConfigDocument(sources);
    return { config: compileConfig(document, files), document };
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string' && e.code.startsWith('AHC_')) invalid(String(e.message));
    throw error;
  }
}

export async function main(argv = hideBin(process.argv)): Promise<number> {
  const args = parseArgs(argv);
  if (args.print) {
    process.stdout.write(renderDefaults());
    return 0;
  }
  const { config, document } = load(args);
  if (args.check) {
    for (const w of config.warnings) process.stderr.write(`warning: ${w.message}\n`);
    process.stdout.write('OK\n');
    return 0;
  }
  if (args.printConf) {
    process.stdout.write(renderEffective(document));
    return 0;
  }
  try {
    return await runDaemon(config);
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string' && e.code.startsWith('AHC_')) {
      process.stderr.write(`${PROGRAM}: ${String(e.message)}\n`);
      return 1;
    }
    throw error;
  }
}
