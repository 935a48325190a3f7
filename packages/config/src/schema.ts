import * as z from 'zod/mini';
import {
  birdVariable,
  boolValue,
  listenAddressValue,
  commandValue,
  httpProtocolValue,
  intValue,
  logLevelValue,
  nonEmpty,
  onDisabledValue,
  onWorkerFailureValue,
  pathValue,
  prefixListValue,
  prefixValue,
  secondsValue,
  workerThreadsValue,
  groupValue,
} from './value-schemas';

/** The [daemon] section. Every option of docs/configuration.md has its default in defaults.ts, so it is
 * present; the optional ones have no default. */
export const daemonSchema = z.object({
  ipv4: boolValue,
  ipv6: boolValue,
  bird_conf: pathValue,
  bird6_conf: pathValue,
  bird_variable: birdVariable,
  bird6_variable: birdVariable,
  bird_reconfigure_cmd: commandValue,
  bird6_reconfigure_cmd: commandValue,
  dummy_ip_prefix: prefixValue(4),
  dummy_ip6_prefix: prefixValue(6),
  bird_keep_changes: boolValue,
  bird6_keep_changes: boolValue,
  bird_changes_counter: intValue(1),
  bird6_changes_counter: intValue(1),
  purge_ip_prefixes: boolValue,
  pidfile: pathValue,
  loglevel: logLevelValue,
  log_file: z.optional(pathValue),
  stderr_file: z.optional(pathValue),
  log_maxbytes: intValue(0),
  log_backups: intValue(0),
  log_server: z.optional(nonEmpty),
  log_server_port: intValue(1, 65535),
  json_stdout: boolValue,
  json_log_file: boolValue,
  json_log_server: boolValue,
  log_format_journalctl: boolValue,
  splay_startup: z.optional(secondsValue(true)),
  prometheus_exporter: boolValue,
  prometheus_collector_textfile_dir: pathValue,
  prometheus_exporter_interval: secondsValue(),
  json_logging: z.optional(boolValue),
  http_server: z.optional(nonEmpty),
  http_server_port: z.optional(intValue(1, 65535)),
  http_server_protocol: z.optional(httpProtocolValue),
  http_server_timeout: z.optional(secondsValue()),
  // Ours, beyond the Python daemon (docs/configuration.md):
  worker_threads: z.optional(workerThreadsValue),
  bird_reconfigure_timeout: z.optional(secondsValue()),
  instance_lock: z.optional(nonEmpty),
  status_socket: z.optional(pathValue),
  prometheus_listen: z.optional(listenAddressValue),
  bird_verify_cmd: z.optional(commandValue),
  bird6_verify_cmd: z.optional(commandValue),
  on_worker_failure: z.optional(onWorkerFailureValue),
  control_socket: z.optional(pathValue),
  control_group: z.optional(groupValue),
  drain_file: z.optional(pathValue),
  state_dir: z.optional(pathValue),
  state_max_age: z.optional(secondsValue(true)),
  withdraw_on_shutdown: z.optional(boolValue),
  withdraw_on_shutdown_timeout: z.optional(secondsValue()),
  release_startup_pages: z.optional(boolValue),
});
export type DaemonOptions = z.output<typeof daemonSchema>;

/** A service section, DEFAULT merged in. */
export const serviceSchema = z.object({
  check_cmd: commandValue,
  ip_prefix: prefixListValue,
  interface: nonEmpty,
  check_interval: secondsValue(),
  check_timeout: secondsValue(),
  check_rise: intValue(1),
  check_fail: intValue(1),
  check_disabled: boolValue,
  on_disabled: onDisabledValue,
  ip_check_disabled: boolValue,
  custom_bird_reconfigure_cmd: z.optional(commandValue),
  custom_bird_reconfigure_cmd_timeout: secondsValue(),
});
export type ServiceOptions = z.output<typeof serviceSchema>;

/** Every option name we know, for lint's typo warnings. */
export const KNOWN_DAEMON_OPTIONS: ReadonlySet<string> = new Set(Object.keys(daemonSchema.shape));
export const KNOWN_SERVICE_OPTIONS: ReadonlySet<string> = new Set(Object.keys(serviceSchema.shape));
