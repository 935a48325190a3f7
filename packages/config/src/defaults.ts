/**
 * Built-in defaults (docs/configuration.md), in the order `-p` prints them. Options without a default
 * (log_file, stderr_file, log_server, splay_startup, http_server*, and our own additions such
 * as worker_threads) are absent here: like the Python daemon, `-p`/`-P` show only what is set.
 */
export const DEFAULT_SECTION = 'DEFAULT';
export const DAEMON_SECTION = 'daemon';

export const SERVICE_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  interface: 'lo',
  check_interval: '10',
  check_timeout: '2',
  check_rise: '2',
  check_fail: '2',
  check_disabled: 'true',
  on_disabled: 'withdraw',
  ip_check_disabled: 'false',
  custom_bird_reconfigure_cmd_timeout: '2',
});

const LIB_DIR = '/var/lib/anycast-healthchecker';

export const DAEMON_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  ipv4: 'true',
  ipv6: 'false',
  bird_conf: `${LIB_DIR}/anycast-prefixes.conf`,
  bird6_conf: `${LIB_DIR}/6/anycast-prefixes.conf`,
  bird_variable: 'ACAST_PS_ADVERTISE',
  bird6_variable: 'ACAST6_PS_ADVERTISE',
  bird_reconfigure_cmd: 'sudo /usr/sbin/birdc configure',
  bird6_reconfigure_cmd: 'sudo /usr/sbin/birdc6 configure',
  dummy_ip_prefix: '10.189.200.255/32',
  dummy_ip6_prefix: '2001:db8::1/128',
  bird_keep_changes: 'false',
  bird6_keep_changes: 'false',
  bird_changes_counter: '128',
  bird6_changes_counter: '128',
  purge_ip_prefixes: 'false',
  pidfile: '/var/run/anycast-healthchecker/anycast-healthchecker.pid',
  loglevel: 'debug',
  log_server_port: '514',
  json_stdout: 'false',
  json_log_file: 'false',
  json_log_server: 'false',
  log_maxbytes: '104857600',
  log_backups: '8',
  log_format_journalctl: 'false',
  prometheus_exporter: 'false',
  prometheus_collector_textfile_dir: '/var/cache/textfile_collector/',
  prometheus_exporter_interval: '10',
});

/**
 * Our additions' defaults (docs/configuration.md), applied when compiling; like every option of
 * ours they are not in DAEMON_DEFAULTS, so `-p`/`-P` of a 0.9.10 configuration print what they
 * always did.
 */
export const DEFAULT_STATE_DIR = `${LIB_DIR}/state`;
/** Seconds: how recent a service's last confirmed state must be to be restored at start. */
export const DEFAULT_STATE_MAX_AGE = 120;
/** Seconds: the bound on the withdraw at shutdown (the systemd unit's TimeoutStopSec is above it). */
export const DEFAULT_WITHDRAW_ON_SHUTDOWN_TIMEOUT = 10;

export const DEFAULT_CONFIG_FILE = '/etc/anycast-healthchecker.conf';
export const DEFAULT_CONFIG_DIR = '/etc/anycast-healthchecker.d';
