/** Test fixtures: configuration files in a temp directory, loaded and compiled like the daemon does. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ConfigError, loadCompiledConfig } from '../src/index';
import type { CompiledConfig, ConfigSources } from '../src/index';

const made: string[] = [];

export function makeTempDir(label = 'config'): string {
  const dir = mkdtempSync(join(tmpdir(), `ahc-${label}-`));
  made.push(dir);
  return dir;
}

/** For afterEach/afterAll: remove every temp directory made so far. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface ConfigTree {
  /** The temp directory everything lives in. */
  readonly root: string;
  /** The daemon file (-f). */
  readonly file: string;
  /** The service directory (-d). */
  readonly dir: string;
  /** Path of a file in the service directory. */
  service(name: string): string;
}

/** Options of a [daemon] section that work on this machine: every path in the temp dir. */
export function goodDaemonOptions(root: string): Record<string, string> {
  return {
    pidfile: join(root, 'run', 'ahc.pid'),
    bird_conf: join(root, 'bird', 'anycast-prefixes.conf'),
    bird6_conf: join(root, 'bird', 'anycast-prefixes6.conf'),
    bird_reconfigure_cmd: '/bin/true',
    bird6_reconfigure_cmd: '/bin/true',
  };
}

export const GOOD_SERVICE = ['[web]', 'check_cmd = /bin/true', 'ip_prefix = 10.52.12.1/32', 'check_disabled = false', ''].join('\n');

export function daemonText(options: Record<string, string>, extra = ''): string {
  return `[daemon]\n${Object.entries(options)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n')}\n${extra}`;
}

/**
 * A configuration tree: a daemon file with working paths (`daemon` overrides or adds options),
 * and the given files in the service directory (name -> text). A `null` daemon override removes
 * the option.
 */
export function writeTree(
  services: Record<string, string> = { 'web.conf': GOOD_SERVICE },
  daemon: Record<string, string | null> = {},
  daemonExtra = '',
): ConfigTree {
  const root = makeTempDir();
  for (const sub of ['run', 'bird', 'services.d']) mkdirSync(join(root, sub));
  const options: Record<string, string> = goodDaemonOptions(root);
  for (const [key, value] of Object.entries(daemon)) {
    if (value === null) delete options[key];
    else options[key] = value;
  }
  const file = join(root, 'anycast-healthchecker.conf');
  writeFileSync(file, daemonText(options, daemonExtra));
  const dir = join(root, 'services.d');
  for (const [name, text] of Object.entries(services)) writeFileSync(join(dir, name), text);
  return { root, file, dir, service: (name) => join(dir, name) };
}

export function sourcesOf(tree: ConfigTree): ConfigSources {
  return { file: tree.file, dir: tree.dir };
}

/** Load and compile with the filesystem checks on, as the daemon and `-c` do. */
export function compileSources(sources: ConfigSources): CompiledConfig {
  return loadCompiledConfig(sources).config;
}

export function compileTree(tree: ConfigTree): CompiledConfig {
  return compileSources(sourcesOf(tree));
}

/** Run `action`, expect a ConfigError, and return it. */
export function configErrorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

/** Expect a ConfigError with `code` whose message contains every one of `parts`. */
export function expectConfigError(action: () => unknown, code: string, parts: readonly string[]): ConfigError {
  const error = configErrorOf(action);
  expect({ code: error.code, message: error.message }).toMatchObject({ code });
  for (const part of parts) expect(error.message).toContain(part);
  return error;
}

/** The Python daemon's options with a default, in every section (docs/configuration.md, [DEFAULT] table). */
export const PYTHON_SERVICE_DEFAULT_OPTIONS = [
  'interface',
  'check_interval',
  'check_timeout',
  'check_rise',
  'check_fail',
  'check_disabled',
  'on_disabled',
  'ip_check_disabled',
  'custom_bird_reconfigure_cmd_timeout',
] as const;

/** The Python daemon's [daemon] options that `-P` prints for its README example (docs/configuration.md). */
export const PYTHON_DAEMON_PRINTED_OPTIONS = [
  'ipv4',
  'ipv6',
  'bird_conf',
  'bird6_conf',
  'bird_variable',
  'bird6_variable',
  'bird_reconfigure_cmd',
  'bird6_reconfigure_cmd',
  'dummy_ip_prefix',
  'dummy_ip6_prefix',
  'bird_keep_changes',
  'bird6_keep_changes',
  'bird_changes_counter',
  'bird6_changes_counter',
  'purge_ip_prefixes',
  'pidfile',
  'loglevel',
  'log_file',
  'stderr_file',
  'log_maxbytes',
  'log_backups',
  'log_server_port',
  'json_stdout',
  'json_log_file',
  'json_log_server',
  'log_format_journalctl',
  'prometheus_exporter',
  'prometheus_collector_textfile_dir',
  'prometheus_exporter_interval',
] as const;
