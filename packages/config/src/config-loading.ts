import type { IniDocument } from '@ahc/ini';
import { compileConfig } from './compile';
import type { CompileOptions } from './compile';
import type { CompiledConfig } from './compiled-config';
import { loadConfigDocument } from './load';
import type { ConfigSources } from './load';

export interface LoadedConfig {
  readonly config: CompiledConfig;
  /** The merged document, for `-P` (print the effective configuration). */
  readonly document: IniDocument;
  /** The files read, in merge order. */
  readonly files: readonly string[];
}

/**
 * Read the files of `sources` and compile them, or throw the first ConfigError: what the daemon
 * (start and SIGHUP), `-c`, `-P` and `status` do. `lint` collects every problem instead.
 */
export function loadCompiledConfig(sources: ConfigSources, options: CompileOptions = {}): LoadedConfig {
  const { document, files } = loadConfigDocument(sources);
  return { config: compileConfig(document, files, options), document, files };
}
