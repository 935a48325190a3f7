// The files one benchmark daemon runs from: a [daemon] config whose every path points into a
// temporary directory, and N identical cheap services (`/bin/true` every 10 s, no IP check).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type WorkerMode = 'per-service' | number;

export interface DaemonFixture {
  readonly confFile: string;
  readonly servicesDir: string;
  readonly serviceNames: readonly string[];
}

export interface DaemonFixtureInput {
  /** An empty directory owned by this case. */
  readonly dir: string;
  readonly services: number;
  readonly mode: WorkerMode;
  /** Abstract unix socket name; unique per concurrently running daemon. */
  readonly instanceLock: string;
}

/** `svc-007` style names, so log columns line up and sort in order. */
export function serviceName(index: number): string {
  return `svc-${String(index + 1).padStart(3, '0')}`;
}

/** A distinct /32 per service inside 10.52.0.0/16. */
export function servicePrefix(index: number): string {
  return `10.52.${Math.floor(index / 250)}.${(index % 250) + 1}/32`;
}

function renderDaemonConfig(dir: string, input: DaemonFixtureInput): string {
  return [
    '[daemon]',
    `pidfile = ${join(dir, 'ahc.pid')}`,
    `state_dir = ${join(dir, 'state')}`,
    `bird_conf = ${join(dir, 'anycast-prefixes.conf')}`,
    'bird_reconfigure_cmd = /bin/echo Reconfigured',
    'loglevel = info',
    `instance_lock = ${input.instanceLock}`,
    `worker_threads = ${input.mode}`,
    '',
  ].join('\n');
}

function renderService(index: number): string {
  return [
    `[${serviceName(index)}]`,
    'check_cmd = /bin/true',
    'check_interval = 10',
    'check_timeout = 2',
    'check_disabled = false',
    'ip_check_disabled = true',
    `ip_prefix = ${servicePrefix(index)}`,
    '',
  ].join('\n');
}

/** Write `ahc.conf` and `services.d/<name>.conf` for each service under `input.dir`. */
export function writeDaemonFixture(input: DaemonFixtureInput): DaemonFixture {
  const confFile = join(input.dir, 'ahc.conf');
  const servicesDir = join(input.dir, 'services.d');
  mkdirSync(servicesDir, { recursive: true });
  writeFileSync(confFile, renderDaemonConfig(input.dir, input));
  const serviceNames: string[] = [];
  for (let i = 0; i < input.services; i += 1) {
    serviceNames.push(serviceName(i));
    writeFileSync(join(servicesDir, `${serviceName(i)}.conf`), renderService(i));
  }
  return { confFile, servicesDir, serviceNames };
}
