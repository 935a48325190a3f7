import { ERR } from '@ahc/errors';
import { resolveGroup } from '@ahc/config';
import type { CompiledConfig } from '@ahc/config';
import type { Logger } from '@ahc/logging';
import { CONTROL_PROTOCOL_VERSION, ControlServer, controlError, describeDrain } from '@ahc/status';
import type { ControlHandler, ControlReply, ControlRequest } from '@ahc/status';
import { ALL_SERVICES } from '@ahc/supervisor';
import type { Drain, Supervisor } from '@ahc/supervisor';
import { describeReload } from './reload';
import type { ReloadOutcome } from './reload';

export interface ControlDeps {
  readonly supervisor: Supervisor;
  readonly log: Logger;
  /** The daemon's reload (SIGHUP's path), once start-up is complete. */
  readonly reload: () => Promise<ReloadOutcome>;
  readonly stopping: () => boolean;
}

function describeOne(d: Drain): string {
  return describeDrain({ ...d, ageSeconds: Math.max(0, (Date.now() - Date.parse(d.since)) / 1000) });
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

/**
 * The control socket's answers (docs/operations.md, "Control"). Every request is logged with
 * what it asked, and every refusal with why; a refusal changes nothing.
 */
export function controlHandler(deps: ControlDeps): ControlHandler {
  const { supervisor, log } = deps;
  const refuse = (request: string, reply: ControlReply & { ok: false }): ControlReply => {
    log.warning(`control: ${request} refused: ${reply.error.message}`);
    return reply;
  };

  /** The refusal of a request naming services that are not configured, or null when all are. */
  const refuseUnknown = (names: readonly string[], text: string, verb: string): ControlReply | null => {
    const unknown = supervisor.unknownServices(names);
    if (unknown.length === 0) return null;
    return refuse(
      text,
      controlError(ERR.AHC_CONTROL_UNKNOWN_SERVICE, `no such service: ${unknown.join(', ')}; nothing was ${verb}`, unknown),
    );
  };
  /** `web (drained by …; …), db (…)`: each service with the drains that hold it. */
  const withDrains = (names: readonly string[]): string =>
    names.map((n) => `${n} (${supervisor.drains.drainsOf(n).map(describeOne).join('; ')})`).join(', ');

  const drain = (r: Extract<ControlRequest, { command: 'drain' }>, text: string): ControlReply => {
    const refused = refuseUnknown(r.services, text, 'drained');
    if (refused !== null) return refused;
    const changed = supervisor.drain(r.all ? ALL_SERVICES : r.services, r.reason);
    const already = r.all ? [] : r.services.filter((n) => !changed.includes(n));
    const message =
      `${changed.length === 0 ? 'nothing newly drained' : `drained ${list(changed)}: withdrawn until undrained`}` +
      `${already.length > 0 ? `; already drained: ${withDrains(already)}` : ''}` +
      `${r.all ? '; every service is drained, services added later too' : ''}`;
    log.info(`control: ${text}: ${message}`);
    return { version: CONTROL_PROTOCOL_VERSION, ok: true, command: 'drain', changed, drained: supervisor.drainedServices(), message };
  };

  const undrain = (r: Extract<ControlRequest, { command: 'undrain' }>, text: string): ControlReply => {
    const refused = refuseUnknown(r.services, text, 'undrained');
    if (refused !== null) return refused;
    const changed = supervisor.undrain(r.all ? ALL_SERVICES : r.services);
    const asked = r.all ? supervisor.registry.all().map((s) => s.config.name) : r.services;
    const held = asked.filter((n) => supervisor.drains.isDrained(n));
    const message = changed.length === 0 ? 'nothing newly undrained' : `undrained ${list(changed)}`;
    if (held.length > 0) {
      const why = withDrains(held);
      return refuse(
        text,
        controlError(
          ERR.AHC_CONTROL_STILL_DRAINED,
          `${message}; still drained by another drain: ${why}${why.includes('drain file') ? '; remove the drain file (or its line) to end it' : '; undrain --all ends a drain of every service'}`,
          held,
        ),
      );
    }
    log.info(`control: ${text}: ${message}`);
    return { version: CONTROL_PROTOCOL_VERSION, ok: true, command: 'undrain', changed, drained: supervisor.drainedServices(), message };
  };

  const reload = async (text: string): Promise<ControlReply> => {
    log.info(`control: ${text}`);
    const outcome = await deps.reload();
    switch (outcome.kind) {
      case 'reloaded': {
        const s = outcome.summary;
        return {
          version: CONTROL_PROTOCOL_VERSION,
          ok: true,
          command: 'reload',
          added: s.added,
          removed: s.removed,
          changed: s.changed,
          unchanged: s.unchanged,
          daemonChanges: s.daemonChanges,
          message: `configuration reloaded: ${describeReload(s)}`,
        };
      }
      case 'invalid':
        return refuse(
          text,
          controlError(
            ERR.AHC_CONTROL_RELOAD_INVALID,
            'the new configuration is invalid; the running configuration is kept',
            outcome.reasons,
          ),
        );
      case 'pending':
      case 'stopping':
        return refuse(text, controlError(ERR.AHC_CONTROL_BUSY, 'the daemon is stopping; nothing was reloaded'));
    }
  };

  return async (request) => {
    const text = `${request.command} ${JSON.stringify(request)}`;
    if (deps.stopping()) return refuse(text, controlError(ERR.AHC_CONTROL_BUSY, 'the daemon is stopping; nothing was changed'));
    switch (request.command) {
      case 'drain':
        return drain(request, text);
      case 'undrain':
        return undrain(request, text);
      case 'reload':
        return reload(text);
    }
  };
}

/**
 * Listen on the control socket, mode 0660, group `control_group`. Null (logged) when it cannot
 * be created: checks and routes matter more than drains. Throws (AHC_CONTROL_SOCKET_IN_USE) when
 * another live daemon answers on it.
 */
export async function startControlSocket(config: CompiledConfig, handler: ControlHandler, log: Logger): Promise<ControlServer | null> {
  const path = config.daemon.controlSocket;
  const group = config.daemon.controlGroup;
  const gid = group === null ? null : resolveGroup(group);
  if (group !== null && gid === null) {
    log.error(
      `${ERR.AHC_CONTROL_SOCKET}: control_group ${group} does not exist on this host; running without a control socket (drain, undrain and reload refused)`,
    );
    return null;
  }
  const server = new ControlServer(path, gid, handler);
  try {
    await server.listen();
  } catch (error) {
    const e = error as { code?: string; message: string };
    if (e.code === ERR.AHC_CONTROL_SOCKET_IN_USE) throw error;
    log.error(`${e.message}; running without a control socket (drain, undrain and reload refused; SIGHUP still reloads)`);
    return null;
  }
  log.info(`control socket listening on ${path} (mode 0660${group === null ? '' : `, group ${group}`})`);
  return server;
}
