import { ERR, codeOf } from '@ahc/errors';
import type { ErrorCode } from '@ahc/errors';
import { findOption, getValue } from '@ahc/ini';
import type { IniDocument } from '@ahc/ini';
import { prefixFamilies } from '@ahc/protocol';
import type * as z from 'zod/mini';
import { ConfigError, configError } from './config-error';
import type { ConfigLocation } from './config-error';
import type { BirdFamilyConfig, CompiledConfig, ConfigProblem, DaemonConfig, ServiceConfig } from './compiled-config';
import { DAEMON_SECTION, DEFAULT_STATE_DIR, DEFAULT_STATE_MAX_AGE, DEFAULT_WITHDRAW_ON_SHUTDOWN_TIMEOUT } from './defaults';
import { KNOWN_DAEMON_OPTIONS, KNOWN_SERVICE_OPTIONS, daemonSchema, serviceSchema } from './schema';
import type { DaemonOptions, ServiceOptions } from './schema';
import { checkFilesystem } from './filesystem-checks';

const ms = (seconds: number): number => Math.round(seconds * 1000);

/** Beside the pidfile, so two daemons with their own pidfiles never share a status socket. */
export function defaultStatusSocket(pidfile: string): string {
  return pidfile.endsWith('.pid') ? `${pidfile.slice(0, -4)}.sock` : `${pidfile}.sock`;
}

/** Beside the status socket: `X.sock` has its control socket at `X.control.sock`. */
export function defaultControlSocket(statusSocket: string): string {
  return statusSocket.endsWith('.sock') ? `${statusSocket.slice(0, -5)}.control.sock` : `${statusSocket}.control`;
}

/** Problems found so far; the first error is what `-c` and the daemon report. */
export class ProblemList {
  readonly items: ConfigProblem[] = [];
  error(code: ErrorCode, reason: string, loc: ConfigLocation): void {
    const e = configError(code, reason, loc);
    this.items.push({ severity: 'error', code, message: e.message, ...stripValue(loc) });
  }
  warning(code: ErrorCode, reason: string, loc: ConfigLocation, options: { hostOnly?: true } = {}): void {
    const e = configError(code, reason, loc);
    this.items.push({ severity: 'warning', code, message: e.message, ...stripValue(loc), ...options });
  }
  get errors(): ConfigProblem[] {
    return this.items.filter((p) => p.severity === 'error');
  }
}

function stripValue(loc: ConfigLocation): Omit<ConfigLocation, 'value'> {
  const { value: _value, ...rest } = loc;
  return rest;
}

function locate(doc: IniDocument, section: string, option: string): ConfigLocation {
  const opt = findOption(doc, section, option);
  return opt === undefined ? { section, option } : { file: opt.file, line: opt.line, section, option, value: opt.value };
}

/**
 * Interpolated values of the options the schema knows, or null after recording a problem for
 * each that fails to interpolate. Like the Python daemon, which reads options one by one, other
 * options are not expanded: `[DEFAULT] check_cmd = curl http://%(vip)s/` is fine although
 * [daemon] has no `vip`, and so is a `%` in an option nobody reads.
 */
function readSection(doc: IniDocument, section: string, known: ReadonlySet<string>, problems: ProblemList): Record<string, string> | null {
  const values: Record<string, string> = {};
  let ok = true;
  for (const option of known) {
    try {
      const value = getValue(doc, section, option);
      if (value !== undefined) values[option] = value;
    } catch (error) {
      problems.error(codeOf(error, ERR.AHC_CONFIG_INTERPOLATION), (error as Error).message, locate(doc, section, option));
      ok = false;
    }
  }
  return ok ? values : null;
}

function parseSection<S extends z.ZodMiniType>(
  schema: S,
  doc: IniDocument,
  section: string,
  values: Record<string, string>,
  problems: ProblemList,
): z.output<S> | null {
  const result = schema.safeParse(values);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const option = String(issue.path[0] ?? '');
    const loc = locate(doc, section, option);
    if (values[option] === undefined) {
      // Nothing to point at but the section: name the file (and header line) that defines it.
      const where = doc.sections.get(section);
      problems.error(
        ERR.AHC_CONFIG_MISSING_OPTION,
        `option ${option} is required but missing`,
        where === undefined ? { section, option } : { file: where.file, line: where.line, section, option },
      );
    } else {
      problems.error(ERR.AHC_CONFIG_INVALID, issue.message, loc);
    }
  }
  return null;
}

function birdFamilies(d: DaemonOptions): BirdFamilyConfig[] {
  const out: BirdFamilyConfig[] = [];
  if (d.ipv4) {
    out.push({
      family: 4,
      path: d.bird_conf,
      variable: d.bird_variable,
      dummy: d.dummy_ip_prefix.prefix,
      reconfigureCmd: d.bird_reconfigure_cmd,
      keepChanges: d.bird_keep_changes,
      changesCounter: d.bird_changes_counter,
      verifyCmd: d.bird_verify_cmd ?? null,
    });
  }
  if (d.ipv6) {
    out.push({
      family: 6,
      path: d.bird6_conf,
      variable: d.bird6_variable,
      dummy: d.dummy_ip6_prefix.prefix,
      reconfigureCmd: d.bird6_reconfigure_cmd,
      keepChanges: d.bird6_keep_changes,
      changesCounter: d.bird6_changes_counter,
      verifyCmd: d.bird6_verify_cmd ?? null,
    });
  }
  return out;
}

function daemonConfig(d: DaemonOptions, enabledChecks: number): DaemonConfig {
  return {
    ipv4: d.ipv4,
    ipv6: d.ipv6,
    bird: birdFamilies(d),
    purgeIpPrefixes: d.purge_ip_prefixes,
    pidfile: d.pidfile,
    logging: {
      level: d.loglevel,
      logFile: d.log_file ?? null,
      stderrFile: d.stderr_file ?? null,
      maxBytes: d.log_maxbytes,
      backups: d.log_backups,
      server: d.log_server ?? null,
      serverPort: d.log_server_port,
      jsonStdout: d.json_stdout,
      jsonLogFile: d.json_log_file,
      jsonLogServer: d.json_log_server,
      journalctl: d.log_format_journalctl,
      jsonLogging: d.json_logging ?? false,
      httpServer: d.http_server ?? null,
      httpServerPort: d.http_server_port ?? null,
      httpServerProtocol: d.http_server_protocol ?? 'http',
      httpServerTimeoutMs: ms(d.http_server_timeout ?? 0.5),
    },
    splayStartupMs: ms(d.splay_startup ?? 0),
    prometheus: {
      enabled: d.prometheus_exporter,
      textfileDir: d.prometheus_collector_textfile_dir,
      intervalMs: ms(d.prometheus_exporter_interval),
      listen: d.prometheus_listen ?? null,
    },
    ...resolveWorkerThreads(d.worker_threads ?? 'auto', enabledChecks),
    reconfigureTimeoutMs: ms(d.bird_reconfigure_timeout ?? 2),
    instanceLock: d.instance_lock ?? 'anycast-healthchecker',
    statusSocket: d.status_socket ?? defaultStatusSocket(d.pidfile),
    onWorkerFailure: d.on_worker_failure ?? 'keep',
    controlSocket: d.control_socket ?? defaultControlSocket(d.status_socket ?? defaultStatusSocket(d.pidfile)),
    controlGroup: d.control_group ?? null,
    drainFile: d.drain_file ?? null,
    state: { dir: d.state_dir ?? DEFAULT_STATE_DIR, maxAgeMs: ms(d.state_max_age ?? DEFAULT_STATE_MAX_AGE) },
    withdrawOnShutdown: {
      enabled: d.withdraw_on_shutdown ?? false,
      timeoutMs: ms(d.withdraw_on_shutdown_timeout ?? DEFAULT_WITHDRAW_ON_SHUTDOWN_TIMEOUT),
    },
    releaseStartupPages: d.release_startup_pages ?? true,
  };
}

function serviceConfig(name: string, file: string, s: ServiceOptions): ServiceConfig {
  return {
    name,
    file,
    checkCmd: s.check_cmd,
    prefixes: s.ip_prefix,
    interface: s.interface,
    intervalMs: ms(s.check_interval),
    timeoutMs: ms(s.check_timeout),
    rise: s.check_rise,
    fail: s.check_fail,
    disabled: s.check_disabled,
    onDisabled: s.on_disabled,
    ipCheckDisabled: s.ip_check_disabled,
    customReconfigureCmd: s.custom_bird_reconfigure_cmd ?? null,
    customReconfigureTimeoutMs: ms(s.custom_bird_reconfigure_cmd_timeout),
  };
}

function crossChecks(
  doc: IniDocument,
  daemon: DaemonConfig,
  dummies: { v4: string; v6: string },
  services: ServiceConfig[],
  problems: ProblemList,
): void {
  const owners = new Map<string, string>();
  for (const s of services) {
    const loc = locate(doc, s.name, 'ip_prefix');
    // Each prefix of the list under the rules of a lone prefix; a lone prefix's messages are as before.
    const seen = new Set<string>();
    for (const { prefix, family } of s.prefixes) {
      if (seen.has(prefix)) {
        problems.error(ERR.AHC_CONFIG_DUPLICATE_PREFIX, `lists ${prefix} more than once (compared normalised); list each prefix once`, loc);
        continue;
      }
      seen.add(prefix);
      if ((family === 4 && !daemon.ipv4) || (family === 6 && !daemon.ipv6)) {
        const what = s.prefixes.length === 1 ? 'is' : `lists ${prefix},`;
        const reason = `${what} an IPv${family} prefix but IPv${family} is disabled in [daemon] (set ipv${family} = true)`;
        problems.error(ERR.AHC_CONFIG_FAMILY_DISABLED, reason, loc);
      }
      const other = owners.get(prefix);
      if (other !== undefined) {
        problems.error(
          ERR.AHC_CONFIG_DUPLICATE_PREFIX,
          `${prefix} is already used by service [${other}]; each prefix needs exactly one check`,
          loc,
        );
      } else {
        owners.set(prefix, s.name);
      }
      if (prefix === dummies.v4 || prefix === dummies.v6) {
        problems.error(ERR.AHC_CONFIG_DUMMY_PREFIX_USED, `${prefix} is the dummy prefix, which must never be used by a service`, loc);
      }
    }
    if (s.customReconfigureCmd !== null && prefixFamilies(s.prefixes).length > 1) {
      problems.error(
        ERR.AHC_CONFIG_INVALID,
        'is set, but ip_prefix lists IPv4 and IPv6 prefixes: the custom command is run once per change of one BIRD file, ' +
          'so a service with its own command needs prefixes of one family (split the service in two)',
        locate(doc, s.name, 'custom_bird_reconfigure_cmd'),
      );
    }
    if (!s.disabled && s.timeoutMs > s.intervalMs) {
      problems.warning(
        ERR.AHC_CONFIG_TIMEOUT_OVER_INTERVAL,
        `check_timeout (${s.timeoutMs / 1000}s) is longer than check_interval (${s.intervalMs / 1000}s): checks will skip ticks`,
        locate(doc, s.name, 'check_timeout'),
      );
    }
  }
  const enabled = services.filter((s) => !s.disabled).length;
  // (auto never picks per-service for this many: only an explicit per-service gets here)
  if (daemon.workerThreads === 'per-service' && enabled > PER_SERVICE_THREADS_ADVISED) {
    problems.warning(
      ERR.AHC_CONFIG_MANY_THREADS,
      `${enabled} enabled services with worker_threads = per-service start ${enabled} worker threads, each about 9 MiB of memory; ` +
        `checks that fire together then compete for the CPU and their decisions spread out. Set worker_threads = 2 in [daemon] ` +
        `for this many services (docs/design.md, "Memory")`,
      locate(doc, DAEMON_SECTION, 'worker_threads'),
    );
  }
}

/**
 * `worker_threads = auto` (the default): one thread per check, the design's model, while the
 * threads are few; beyond AUTO_PER_SERVICE_MAX enabled checks, AUTO_POOLED_THREADS threads host
 * them all. docs/design.md ("Memory" and "Which mode by default") has the measured table behind
 * both numbers.
 */
export const AUTO_PER_SERVICE_MAX = 16;
export const AUTO_POOLED_THREADS = 2;

export function resolveWorkerThreads(
  setting: 'auto' | 'per-service' | number,
  enabledChecks: number,
): { workerThreads: 'per-service' | number; workerThreadsReason: string } {
  if (setting === 'per-service') return { workerThreads: setting, workerThreadsReason: 'worker_threads = per-service' };
  if (typeof setting === 'number') return { workerThreads: setting, workerThreadsReason: `worker_threads = ${setting}` };
  const checks = `${enabledChecks} enabled check${enabledChecks === 1 ? '' : 's'}`;
  return enabledChecks <= AUTO_PER_SERVICE_MAX
    ? {
        workerThreads: 'per-service',
        workerThreadsReason: `worker_threads = auto: ${checks}, one thread each up to ${AUTO_PER_SERVICE_MAX}`,
      }
    : {
        workerThreads: AUTO_POOLED_THREADS,
        workerThreadsReason: `worker_threads = auto: ${checks}, more than ${AUTO_PER_SERVICE_MAX}, so ${AUTO_POOLED_THREADS} threads host them all`,
      };
}

/**
 * Beyond this many enabled services per-service mode is advised against: measured on 2 cores,
 * 50 per-service threads decide a mass failure within 0.3 s, 200 need over 10 s and ~1 GiB.
 */
export const PER_SERVICE_THREADS_ADVISED = 64;

export interface CompileOptions {
  /** Check paths and programs on this machine (the daemon and -c do; unit tests may not). */
  readonly filesystem?: boolean;
}

/** All problems of a configuration document (lint shows all of them). */
export function collectProblems(
  doc: IniDocument,
  files: readonly string[],
  options: CompileOptions = {},
): { config: CompiledConfig | null; problems: ConfigProblem[] } {
  const problems = new ProblemList();
  const daemonValues = readSection(doc, DAEMON_SECTION, KNOWN_DAEMON_OPTIONS, problems);
  const daemonOpts = daemonValues === null ? null : parseSection(daemonSchema, doc, DAEMON_SECTION, daemonValues, problems);
  const services: ServiceConfig[] = [];
  for (const section of doc.sections.values()) {
    if (section.name === DAEMON_SECTION) continue;
    const values = readSection(doc, section.name, KNOWN_SERVICE_OPTIONS, problems);
    if (values === null) continue;
    const opts = parseSection(serviceSchema, doc, section.name, values, problems);
    if (opts !== null) services.push(serviceConfig(section.name, section.file, opts));
  }
  if (daemonOpts === null) return { config: null, problems: problems.items };
  const daemon = daemonConfig(daemonOpts, services.filter((s) => !s.disabled).length);
  crossChecks(doc, daemon, { v4: daemonOpts.dummy_ip_prefix.prefix, v6: daemonOpts.dummy_ip6_prefix.prefix }, services, problems);
  if (options.filesystem ?? true) checkFilesystem(daemon, services, (option, section) => locate(doc, section, option), problems);
  if (problems.errors.length > 0) return { config: null, problems: problems.items };
  const config: CompiledConfig = deepFreeze({
    daemon,
    services,
    files: [...files],
    warnings: problems.items.filter((p) => p.severity === 'warning'),
  });
  return { config, problems: problems.items };
}

/** Compile or throw the first error (what the daemon, -c and -P do). */
export function compileConfig(doc: IniDocument, files: readonly string[], options: CompileOptions = {}): CompiledConfig {
  const { config, problems } = collectProblems(doc, files, options);
  if (config === null) {
    const first = problems.find((p) => p.severity === 'error');
    throw new ConfigError(first?.code ?? ERR.AHC_CONFIG_INVALID, first?.message ?? 'invalid configuration', first ?? {});
  }
  return config;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
