import { ERR } from '@ahc/errors';
import { accessSync, constants } from 'node:fs';
import { isDirectory, isFile } from '@ahc/fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import type { ConfigLocation } from './config-error';
import type { Command, DaemonConfig, ServiceConfig } from './compiled-config';
import type { ProblemList } from './compile';
import { DAEMON_SECTION } from './defaults';
import { resolveGroup } from './group';

type Locate = (option: string, section: string) => ConfigLocation;

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why `program` cannot be run, or null when it can. Looks it up like execvp, without running it. */
export function programProblem(program: string, path = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'): string | null {
  const candidates = program.includes('/')
    ? [resolve(program)]
    : path
        .split(delimiter)
        .filter((d) => d !== '')
        .map((d) => join(d, program));
  for (const candidate of candidates) {
    if (!isFile(candidate)) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return null;
    } catch {
      if (program.includes('/')) return `${candidate} is not executable`;
    }
  }
  return program.includes('/') ? `${program} does not exist` : `${program} was not found in PATH (${path})`;
}

function checkCommand(cmd: Command, option: string, section: string, locate: Locate, problems: ProblemList): void {
  const program = cmd.argv[0] ?? '';
  const why = programProblem(program);
  if (why !== null) problems.error(ERR.AHC_CONFIG_COMMAND_NOT_FOUND, `cannot run the command: ${why}`, locate(option, section));
}

/**
 * A missing custom_bird_reconfigure_cmd program is only a warning: the Python daemon accepts it,
 * and configurations are often validated on a build host that lacks the program. The daemon
 * reports the failure, under the service's name, each time it tries to run it.
 */
function checkCustomReconfigure(cmd: Command, section: string, locate: Locate, problems: ProblemList): void {
  const why = programProblem(cmd.argv[0] ?? '');
  if (why === null) return;
  problems.warning(
    ERR.AHC_CONFIG_RECONFIGURE_CMD_NOT_FOUND,
    `${why} on this host; accepted (as by the Python daemon), ` +
      "but until it is installed every run for this service's up/down changes fails and is retried",
    locate('custom_bird_reconfigure_cmd', section),
    { hostOnly: true },
  );
}

function checkWritableDir(path: string, option: string, locate: Locate, problems: ProblemList): void {
  const dir = dirname(resolve(path));
  if (!isDirectory(dir)) problems.error(ERR.AHC_CONFIG_MISSING_DIR, `directory ${dir} does not exist`, locate(option, DAEMON_SECTION));
  else if (!writable(dir))
    problems.error(ERR.AHC_CONFIG_NOT_WRITABLE, `directory ${dir} is not writable by this user`, locate(option, DAEMON_SECTION));
}

/** Checks against this machine: directories exist and are writable, check programs exist and
 * are executable (custom reconfigure programs are only warned about). Nothing is created or run. */
export function checkFilesystem(daemon: DaemonConfig, services: readonly ServiceConfig[], locate: Locate, problems: ProblemList): void {
  checkWritableDir(daemon.pidfile, 'pidfile', locate, problems);
  for (const fam of daemon.bird) {
    const option = fam.family === 4 ? 'bird_conf' : 'bird6_conf';
    checkWritableDir(fam.path, option, locate, problems);
    if (isDirectory(fam.path))
      problems.error(ERR.AHC_CONFIG_INVALID, `${fam.path} is a directory, a file is needed`, locate(option, DAEMON_SECTION));
  }
  const log = daemon.logging;
  if (log.logFile !== null) checkWritableDir(log.logFile, 'log_file', locate, problems);
  if (log.stderrFile !== null) checkWritableDir(log.stderrFile, 'stderr_file', locate, problems);
  if (daemon.prometheus.enabled && !isDirectory(daemon.prometheus.textfileDir)) {
    problems.error(
      ERR.AHC_CONFIG_MISSING_DIR,
      `directory ${daemon.prometheus.textfileDir} does not exist`,
      locate('prometheus_collector_textfile_dir', DAEMON_SECTION),
    );
  }
  if (daemon.controlGroup !== null && resolveGroup(daemon.controlGroup) === null) {
    problems.error(
      ERR.AHC_CONFIG_UNKNOWN_GROUP,
      `group ${daemon.controlGroup} does not exist on this host (the control socket is given to it)`,
      locate('control_group', DAEMON_SECTION),
    );
  }
  for (const s of services) {
    checkCommand(s.checkCmd, 'check_cmd', s.name, locate, problems);
    if (s.customReconfigureCmd !== null) checkCustomReconfigure(s.customReconfigureCmd, s.name, locate, problems);
  }
}
