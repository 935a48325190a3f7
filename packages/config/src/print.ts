import { findOption, getValue } from '@ahc/ini';
import type { CompiledConfig } from './compiled-config';
import type { IniDocument } from '@ahc/ini';
import { DAEMON_DEFAULTS, DAEMON_SECTION, DEFAULT_SECTION, SERVICE_DEFAULTS } from './defaults';

/** `key = value` lines under `[section]`, a blank line after each section, as the Python daemon
 * prints them. (Not the `ini` package's stringify: it quotes values containing `;`, `#` or `"`,
 * which would change check_cmd lines; see docs/configuration-parsing.md.) */
function renderSections(sections: Iterable<[string, Iterable<[string, string]>]>, notes: ReadonlyMap<string, string> = new Map()): string {
  let out = '';
  for (const [name, options] of sections) {
    out += `[${name}]\n`;
    // A value that continued on indented lines (a long ip_prefix list) is printed the same way,
    // as configparser writes it, so the output still reads back as the same INI.
    for (const [key, value] of options) out += `${key} = ${value.replaceAll('\n', '\n\t')}\n`;
    const note = notes.get(name);
    if (note !== undefined) out += `# ${note}\n`;
    out += '\n';
  }
  return out;
}

/** `-p`: the built-in defaults. */
export function renderDefaults(): string {
  return renderSections([
    [DEFAULT_SECTION, Object.entries(SERVICE_DEFAULTS)],
    [DAEMON_SECTION, Object.entries(DAEMON_DEFAULTS)],
  ]);
}

/**
 * A section's options as `config[section].items()` lists them, interpolated. An option that
 * cannot be expanded in this section is shown as written: `[DEFAULT] check_cmd = curl
 * http://%(vip)s/` is valid when every service sets `vip`, although [DEFAULT] and [daemon] don't.
 */
function effectiveValues(doc: IniDocument, section: string): Array<[string, string]> {
  const own = section === DEFAULT_SECTION ? undefined : doc.sections.get(section)?.options;
  const names = [...(own?.keys() ?? []), ...[...doc.defaults.keys()].filter((name) => own?.has(name) !== true)];
  return names.map((name): [string, string] => {
    try {
      return [name, getValue(doc, section, name) ?? ''];
    } catch {
      return [name, findOption(doc, section, name)?.value ?? ''];
    }
  });
}

/**
 * `-P`: the effective configuration, interpolated, DEFAULT values shown in every section.
 * `notes`: a comment line to end a section with, for what the daemon decides that no option
 * says (the worker mode `worker_threads = auto` chose): a comment, so the output still reads
 * as the same INI as the Python daemon's.
 */
export function renderEffective(doc: IniDocument, notes: ReadonlyMap<string, string> = new Map()): string {
  const sections: Array<[string, Array<[string, string]>]> = [[DEFAULT_SECTION, effectiveValues(doc, DEFAULT_SECTION)]];
  for (const name of doc.sections.keys()) sections.push([name, effectiveValues(doc, name)]);
  return renderSections(sections, notes);
}

/** How checks are hosted, in words: `one worker thread per check` or `2 worker threads for all checks`. */
export function describeWorkerMode(mode: 'per-service' | number): string {
  return mode === 'per-service' ? 'one worker thread per check' : `${mode} worker thread${mode === 1 ? '' : 's'} for all checks`;
}

/** `-P`'s comments: the worker mode, when no `worker_threads` option chose it. */
export function effectiveNotes(doc: IniDocument, config: CompiledConfig): Map<string, string> {
  const notes = new Map<string, string>();
  if (findOption(doc, DAEMON_SECTION, 'worker_threads') === undefined)
    notes.set(DAEMON_SECTION, `${config.daemon.workerThreadsReason}: ${describeWorkerMode(config.daemon.workerThreads)}`);
  return notes;
}
