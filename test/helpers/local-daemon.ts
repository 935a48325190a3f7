// The real daemon outside the namespace test bed: its [daemon] file with a reconfigure command
// per family (a distinct command per family gives each its own reconfigure queue), services with
// `ip_check_disabled`, and the CLI spawned as a plain child (optionally through a wrapper such
// as `setpriv` to run it as another user).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonProcess, renderService, type DaemonFiles, type ServiceSpec } from './daemon-process.js';

export interface LocalDaemonConfig {
  /** Directory for the daemon's own files (config, services.d, pidfile, status socket). */
  readonly dir: string;
  readonly prefixFile4: string;
  readonly prefixFile6: string;
  readonly reconfigure4: string;
  /** Default: the same command as IPv4 (then both families share one queue). */
  readonly reconfigure6?: string;
  /** Abstract socket name; unique per concurrently running daemon. */
  readonly instanceLock: string;
  readonly loglevel?: string;
  /** Extra `key = value` lines for [daemon] (keys not set above). */
  readonly extra?: Readonly<Record<string, string>>;
}

export interface LocalDaemonFiles extends DaemonFiles {
  readonly statusSocket: string;
}

export interface LocalService extends ServiceSpec {
  /** `ip_check_disabled = true`: no need for the prefix on an interface. */
  readonly ipCheckDisabled?: boolean;
}

export function writeLocalDaemonConfig(input: LocalDaemonConfig): LocalDaemonFiles {
  const confFile = join(input.dir, 'anycast-healthchecker.conf');
  const servicesDir = join(input.dir, 'services.d');
  const pidfile = join(input.dir, 'ahc.pid');
  const statusSocket = join(input.dir, 'status.sock');
  mkdirSync(servicesDir, { recursive: true });
  writeFileSync(
    confFile,
    [
      '[daemon]',
      'ipv4 = true',
      'ipv6 = true',
      `bird_conf = ${input.prefixFile4}`,
      `bird6_conf = ${input.prefixFile6}`,
      `bird_reconfigure_cmd = ${input.reconfigure4}`,
      `bird6_reconfigure_cmd = ${input.reconfigure6 ?? input.reconfigure4}`,
      `pidfile = ${pidfile}`,
      ...(input.extra?.state_dir === undefined ? [`state_dir = ${join(input.dir, 'state')}`] : []),
      `loglevel = ${input.loglevel ?? 'info'}`,
      'purge_ip_prefixes = true',
      `instance_lock = ${input.instanceLock}`,
      `status_socket = ${statusSocket}`,
      ...Object.entries(input.extra ?? {}).map(([k, v]) => `${k} = ${v}`),
      '',
    ].join('\n'),
  );
  return { confFile, servicesDir, pidfile, statusSocket };
}

/**
 * Services checked every 0.1 s (timeout 0.08 s, rise and fail 1, no IP check) by `test -e` on
 * their health file, written to `servicesDir` with every health file created: all start healthy.
 */
export function writeHealthyServices(
  servicesDir: string,
  services: readonly { readonly name: string; readonly prefix: string }[],
  healthFile: (service: string) => string,
): void {
  writeLocalServices(
    servicesDir,
    services.map((s) => ({
      name: s.name,
      ipPrefix: s.prefix,
      checkCmd: `/usr/bin/test -e ${healthFile(s.name)}`,
      checkInterval: 0.1,
      checkTimeout: 0.08,
      checkRise: 1,
      checkFail: 1,
      ipCheckDisabled: true,
    })),
  );
  for (const s of services) writeFileSync(healthFile(s.name), '');
}

/** One `<name>.conf` per service in `servicesDir`. */
export function writeLocalServices(servicesDir: string, services: readonly LocalService[]): void {
  mkdirSync(servicesDir, { recursive: true });
  for (const s of services) {
    const extra = s.ipCheckDisabled === true ? 'ip_check_disabled = true\n' : '';
    writeFileSync(join(servicesDir, `${s.name}.conf`), `${renderService(s)}${extra}`);
  }
}

export interface LocalDaemon {
  readonly daemon: DaemonProcess;
  /** Resolves after the child's output streams closed: every line has been read. */
  readonly closed: Promise<void>;
}

/** Spawn `bin -f CONF -d DIR`, behind `wrapper` (e.g. `['setpriv', '--reuid=65534', ...]`) if given. */
export function spawnLocalDaemon(
  bin: string,
  files: DaemonFiles,
  options: { wrapper?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): LocalDaemon {
  const argv = [...(options.wrapper ?? []), bin, '-f', files.confFile, '-d', files.servicesDir];
  const [program, ...args] = argv as [string, ...string[]];
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env === undefined ? {} : { env: options.env }) });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { daemon: new DaemonProcess(child), closed };
}
