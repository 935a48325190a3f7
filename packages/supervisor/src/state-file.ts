/**
 * The state file (`state_dir`/state.json, docs/operations.md, "State across restarts"): what one
 * daemon leaves for the next one. Pure: types, the encoder and a decoder that takes any text and
 * either returns a valid state or says, in words for the log, why it is not one. Nothing here
 * touches the disk (state-store.ts does) or decides what to restore (state-restore.ts).
 */

/** Marks the file as ours, so a foreign JSON file in the directory is recognised as such. */
export const STATE_PROGRAM = 'anycast-healthchecker';
/** The format this code writes. A file with a higher one comes from a newer daemon. */
export const STATE_FORMAT = 1;
export const STATE_FILE_NAME = 'state.json';

/** A service's last decided state, as the daemon that wrote the file knew it. */
export interface ServiceStateEntry {
  readonly state: 'up' | 'down';
  /** The service's prefixes when it decided: a restore needs the same ones (else the entry is stale). */
  readonly prefixes: readonly string[];
  /** When the state was decided (ISO 8601); for people, not used to restore. */
  readonly since: string;
  /**
   * The last moment a check confirmed the state (ISO 8601): the last check result while
   * the service was in it. A restore needs it younger than `state_max_age`; it moves only with a
   * check, so daemons that restart over and over without checking never keep a state alive.
   */
  readonly seenAt: string;
}

/**
 * One drain as the state file keeps it, under a service name or `*` (all services). The drain
 * model itself (who drains, the drain file) is not here: this is only its persisted form.
 */
export interface StateDrainEntry {
  readonly reason: string;
  /** When it was drained (ISO 8601). */
  readonly since: string;
  /** Who drained it: the control socket's `drain` command, or the drain file. */
  readonly source: 'command' | 'file';
}

export interface StateFile {
  readonly program: typeof STATE_PROGRAM;
  readonly format: typeof STATE_FORMAT;
  /** The version of the daemon that wrote it (for people). */
  readonly version: string;
  /**
   * The pidfile of the daemon that wrote it: a daemon restores only its own file, so two daemons
   * (or test runs) that share a `state_dir` never take each other's states.
   */
  readonly pidfile: string;
  readonly pid: number;
  /** When it was written (ISO 8601). */
  readonly savedAt: string;
  /**
   * Set by the last write of a daemon that withdrew its prefixes at shutdown
   * (`withdraw_on_shutdown`): the next daemon does not put UP services back before their checks.
   */
  readonly withdrawnAtShutdown: boolean;
  readonly services: Readonly<Record<string, ServiceStateEntry>>;
  /** Drained services by name (or `*`); absent when none. */
  readonly drains?: Readonly<Record<string, StateDrainEntry>>;
}

export type StateProblemKind = 'empty' | 'corrupt' | 'foreign' | 'newer' | 'invalid';

export type DecodedState =
  { readonly ok: true; readonly state: StateFile } | { readonly ok: false; readonly kind: StateProblemKind; readonly reason: string };

export function encodeStateFile(state: StateFile): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An ISO 8601 time as toISOString() writes it (a time the program can compute with). */
const isTime = (v: unknown): v is string =>
  typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v) && !Number.isNaN(Date.parse(v));

function problem(kind: StateProblemKind, reason: string): DecodedState {
  return { ok: false, kind, reason };
}

function serviceEntry(name: string, v: unknown): ServiceStateEntry | string {
  if (!isObject(v)) return `services.${name} is not an object`;
  if (v.state !== 'up' && v.state !== 'down') return `services.${name}.state is ${JSON.stringify(v.state)}, not "up" or "down"`;
  if (!Array.isArray(v.prefixes) || v.prefixes.length === 0 || !v.prefixes.every((p) => typeof p === 'string' && p !== ''))
    return `services.${name}.prefixes is not a list of prefixes`;
  if (!isTime(v.since)) return `services.${name}.since is not a time`;
  if (!isTime(v.seenAt)) return `services.${name}.seenAt is not a time`;
  return { state: v.state, prefixes: [...(v.prefixes as string[])], since: v.since, seenAt: v.seenAt };
}

function drainEntry(name: string, v: unknown): StateDrainEntry | string {
  if (!isObject(v)) return `drains.${name} is not an object`;
  if (typeof v.reason !== 'string') return `drains.${name}.reason is not a string`;
  if (!isTime(v.since)) return `drains.${name}.since is not a time`;
  if (v.source !== 'command' && v.source !== 'file') return `drains.${name}.source is ${JSON.stringify(v.source)}, not "command" or "file"`;
  return { reason: v.reason, since: v.since, source: v.source };
}

function entries<T>(section: string, v: unknown, read: (name: string, v: unknown) => T | string): Record<string, T> | string {
  if (!isObject(v)) return `${section} is not an object`;
  const out: Record<string, T> = {};
  for (const [name, value] of Object.entries(v)) {
    if (name === '') return `${section} has an entry without a name`;
    const e = read(name, value);
    if (typeof e === 'string') return e;
    out[name] = e;
  }
  return out;
}

/**
 * Any text to a state, or why it is not one: `empty` (nothing, or only whitespace: a truncated
 * write of an older system), `corrupt` (not JSON), `foreign` (JSON without our program tag),
 * `newer` (our tag, a format this code does not know), `invalid` (ours, but a field is wrong).
 */
export function decodeStateFile(text: string): DecodedState {
  if (text.trim() === '') return problem('empty', 'the file is empty');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return problem('corrupt', `not JSON (${(error as Error).message}); a truncated or damaged file`);
  }
  if (!isObject(data) || data.program !== STATE_PROGRAM)
    return problem('foreign', `not a state file of ${STATE_PROGRAM} (no "program": "${STATE_PROGRAM}" in it)`);
  if (typeof data.format !== 'number' || !Number.isInteger(data.format) || data.format < 1)
    return problem('invalid', `format is ${JSON.stringify(data.format)}, not a format number`);
  if (data.format > STATE_FORMAT)
    return problem(
      'newer',
      `written in format ${data.format} by a newer version (${String(data.version)}); this version reads format ${STATE_FORMAT}`,
    );
  if (typeof data.version !== 'string') return problem('invalid', 'version is not a string');
  if (typeof data.pidfile !== 'string') return problem('invalid', 'pidfile is not a string');
  if (typeof data.pid !== 'number' || !Number.isInteger(data.pid)) return problem('invalid', 'pid is not an integer');
  if (!isTime(data.savedAt)) return problem('invalid', 'savedAt is not a time');
  if (typeof data.withdrawnAtShutdown !== 'boolean') return problem('invalid', 'withdrawnAtShutdown is not true or false');
  const services = entries('services', data.services, serviceEntry);
  if (typeof services === 'string') return problem('invalid', services);
  const drains = data.drains === undefined ? undefined : entries('drains', data.drains, drainEntry);
  if (typeof drains === 'string') return problem('invalid', drains);
  return {
    ok: true,
    state: {
      program: STATE_PROGRAM,
      format: STATE_FORMAT,
      version: data.version,
      pidfile: data.pidfile,
      pid: data.pid,
      savedAt: data.savedAt,
      withdrawnAtShutdown: data.withdrawnAtShutdown,
      services,
      ...(drains === undefined || Object.keys(drains).length === 0 ? {} : { drains }),
    },
  };
}
