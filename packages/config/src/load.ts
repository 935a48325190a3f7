import { ERR, codeOf } from '@ahc/errors';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDirectory, isFile } from '@ahc/fs';
import { iniFromObject, mergeIni, parseIni } from '@ahc/ini';
import type { IniDocument } from '@ahc/ini';
import { ConfigError } from './config-error';
import { DAEMON_DEFAULTS, DAEMON_SECTION, DEFAULT_SECTION, SERVICE_DEFAULTS } from './defaults';

export interface ConfigSources {
  /** The daemon settings file (-f). */
  readonly file: string;
  /** Directory of service files (-d); every `*.conf` in it, in sorted order. */
  readonly dir?: string;
  /** A single service file (-F), instead of dir. */
  readonly serviceFile?: string;
}

export interface LoadedDocument {
  readonly document: IniDocument;
  /** The files read, in the order they were merged. */
  readonly files: readonly string[];
}

export const BUILT_IN = '<built-in defaults>';

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(ERR.AHC_CONFIG_UNREADABLE, `${path}: cannot read: ${(error as Error).message}`, { file: path });
  }
}

/** The files the daemon reads for these sources, in merge order. */
export function listConfigFiles(sources: ConfigSources): string[] {
  if (!isFile(sources.file)) {
    throw new ConfigError(ERR.AHC_CONFIG_MISSING_FILE, `${sources.file} configuration file either isn't readable or doesn't exist`, {
      file: sources.file,
    });
  }
  const files = [sources.file];
  if (sources.serviceFile !== undefined) {
    if (!isFile(sources.serviceFile)) {
      throw new ConfigError(ERR.AHC_CONFIG_MISSING_FILE, `${sources.serviceFile} configuration file for a service check doesn't exist`, {
        file: sources.serviceFile,
      });
    }
    files.push(sources.serviceFile);
  } else if (sources.dir !== undefined) {
    // The Python daemon's words when the directory is missing (or no directory); one it cannot
    // list it reads as empty, where we say why instead.
    if (!isDirectory(sources.dir)) {
      throw new ConfigError(
        ERR.AHC_CONFIG_MISSING_DIR,
        `${sources.dir} directory with configuration files for service checks doesn't exist`,
        {
          file: sources.dir,
        },
      );
    }
    let names: string[];
    try {
      names = readdirSync(sources.dir);
    } catch (error) {
      throw new ConfigError(
        ERR.AHC_CONFIG_MISSING_DIR,
        `${sources.dir} directory with configuration files for service checks isn't readable: ${(error as Error).message}`,
        { file: sources.dir },
      );
    }
    // Like the Python daemon's glob('*.conf'): hidden files (editor and backup leftovers) are skipped.
    for (const name of names.filter((n) => n.endsWith('.conf') && !n.startsWith('.')).sort()) {
      const path = join(sources.dir, name);
      if (isFile(path)) files.push(path);
    }
  }
  return files;
}

/** Built-in defaults, then every file in order, merged like successive ConfigParser.read(). */
export function loadConfigDocument(sources: ConfigSources): LoadedDocument {
  const files = listConfigFiles(sources);
  let document = iniFromObject({ [DEFAULT_SECTION]: { ...SERVICE_DEFAULTS }, [DAEMON_SECTION]: { ...DAEMON_DEFAULTS } }, BUILT_IN);
  for (const file of files) {
    const text = readText(file);
    let parsed: IniDocument;
    try {
      parsed = parseIni(text, file);
    } catch (error) {
      const e = error as Error & { line?: number };
      throw new ConfigError(codeOf(error, ERR.AHC_CONFIG_SYNTAX), e.message, { file, ...(e.line === undefined ? {} : { line: e.line }) });
    }
    document = mergeIni(document, parsed);
  }
  return { document, files };
}
