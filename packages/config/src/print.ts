import { sectionValues } from '@ahc/ini';
import type { IniDocument } from '@ahc/ini';
import { DAEMON_DEFAULTS, DAEMON_SECTION, DEFAULT_SECTION, SERVICE_DEFAULTS } from './defaults';

/** `key = value` lines under `[section]`, a blank line after each section, as the Python daemon
 * prints them. (Not the `ini` package's stringify: it quotes values containing `;`, `#` or `"`,
 * which would change check_cmd lines; see docs/configuration-parsing.md.) */
function renderSections(sections: Iterable<[string, Iterable<[string, string]>]>): string {
  let out = '';
  for (const [name, options] of sections) {
    out += `[${name}]\n`;
    for (const [key, value] of options) out += `${key} = ${value}\n`;
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

/** `-P`: the effective configuration, interpolated, DEFAULT values shown in every section. */
export function renderEffective(doc: IniDocument): string {
  const sections: Array<[string, Array<[string, string]>]> = [[DEFAULT_SECTION, sectionValues(doc, DEFAULT_SECTION)]];
  for (const name of doc.sections.keys()) sections.push([name, sectionValues(doc, name)]);
  return renderSections(sections);
}
