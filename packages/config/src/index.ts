export { compileConfig, collectProblems } from './compile';
export type { CompileOptions } from './compile';
export type {
  BirdFamilyConfig,
  Command,
  CompiledConfig,
  ConfigProblem,
  DaemonConfig,
  LoggingConfig,
  ServiceConfig,
} from './compiled-config';
export { ConfigError, describeLocation } from './config-error';
export type { ConfigLocation } from './config-error';
export { DAEMON_DEFAULTS, DAEMON_SECTION, DEFAULT_CONFIG_DIR, DEFAULT_CONFIG_FILE, DEFAULT_SECTION, SERVICE_DEFAULTS } from './defaults';
export { BUILT_IN, listConfigFiles, loadConfigDocument } from './load';
export type { ConfigSources, LoadedDocument } from './load';
export { loadCompiledConfig } from './config-loading';
export type { LoadedConfig } from './config-loading';
export { describeWorkerMode, effectiveNotes, renderDefaults, renderEffective } from './print';
export { AUTO_PER_SERVICE_MAX, AUTO_POOLED_THREADS, resolveWorkerThreads } from './compile';
export { KNOWN_DAEMON_OPTIONS, KNOWN_SERVICE_OPTIONS } from './schema';
export { programProblem } from './filesystem-checks';
export { resolveGroup } from './group';
export { defaultControlSocket } from './compile';
export { lintConfig } from './lint';
export type { LintReport } from './lint';
