import { z } from 'zod';
import {
  birdVariable, boolValue, commandValue, httpProtocolValue, intValue, logLevelValue, nonEmpty, onDisabledValue,
  pathValue, prefixValue, secondsValue, workerThreadsValue,
} from './value-schemas';

/** The [daemon] section. Every option of SPEC §3 has its default in defaults.ts, so it is
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
  log_file: pathValue.optional(),
  stderr_file: pathValue.optional(),
  log_maxbytes: intValue(0),
  log_backups: intValue(0),
  log_server: nonEmpty.optional(),
  log_server_port: intValue(1, 65535),
  json_stdout: boolValue,
  json_log_file: boolValue,
  json_log_server: boolValue,
  log_format_journalctl: boolValue,
  splay_startup: secondsValue(true).optional(),
  prometheus_exporter: boolValue,
  prometheus_collector_textfile_dir: pathValue,
  prometheus_exporter_interval: secondsValue(),
  json_logging: boolValue.optional(),
  http_server: nonEmpty.optional(),
  http_server_port: intValue(1, 65535).optional(),
  http_server_protocol: httpProtocolValue.optional(),
  http_server_timeout: secondsValue().optional(),
  // Ours, beyond the Python daemon (docs/configuration.md):
  worker_threads: workerThreadsValue.optional(),
  bird_reconfigure_timeout: secondsValue().optional(),
  instance_lock: nonEmpty.optional(),
});
export type DaemonOptions = z.output<typeof daemonSchema>;

/** A service section, DEFAULT merged in. */
export const serviceSchema = z.object({
  check_cmd: commandValue,
  ip_prefix: prefixValue(),
  interface: nonEmpty,
  check_interval: secondsValue(),
  check_timeout: secondsValue(),
  check_rise: intValue(1),
  check_fail: intValue(1),
  check_disabled: boolValue,
  on_disabled: onDisabledValue,
  ip_check_disabled: boolValue,
  custom_bird_reconfigure_cmd: commandValue.optional(),
  custom_bird_reconfigure_cmd_timeout: secondsValue(),
});
export type ServiceOptions = z.output<typeof serviceSchema>;

/** Every option name we know, for lint's typo warnings. */
export const KNOWN_DAEMON_OPTIONS: ReadonlySet<string> = new Set(Object.keys(daemonSchema.shape));
export const KNOWN_SERVICE_OPTIONS: ReadonlySet<string> = new Set(Object.keys(serviceSchema.shape));
