import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INI_ERROR_CODES, getValue, parseIni, type IniErrorCode } from '../src/index';
import { iniErrorOf } from './helpers';

const DOC = readFileSync(new URL('../../../docs/configuration-parsing.md', import.meta.url), 'utf8');
const FILE = '/etc/anycast-healthchecker.d/foo.conf';
const read = (text: string, option: string): unknown => getValue(parseIni(text, FILE), 'foo', option);

/** One example per code; the docs show exactly these messages. */
const EXAMPLES: Record<IniErrorCode, () => unknown> = {
  AHC_INI_MISSING_SECTION_HEADER: () => parseIni('# foo service\ncheck_cmd = curl -fs http://10.52.12.1/\n[foo]\n', FILE),
  AHC_INI_DUPLICATE_SECTION: () => parseIni('[foo]\ncheck_cmd = /bin/true\nip_prefix = 10.52.12.1/32\n\n[foo]\n', FILE),
  AHC_INI_DUPLICATE_OPTION: () =>
    parseIni(
      '[foo]\ncheck_cmd = /bin/true\nip_prefix = 10.52.12.1/32\ncheck_interval = 10\ncheck_timeout = 5\ncheck_rise = 3\n\ncheck_cmd = /bin/false\n',
      FILE,
    ),
  AHC_INI_PARSE: () => parseIni('[foo]\ncheck_cmd = curl\n--silent --fail\nip_prefix = 10.52.12.1/32\n= 10\n', FILE),
  AHC_INI_INTERPOLATION_SYNTAX: () => read('[foo]\ncheck_cmd = /usr/lib/nagios/plugins/check_load -w 90% -c 95%\n', 'check_cmd'),
  AHC_INI_INTERPOLATION_MISSING: () => read('[foo]\ncheck_cmd = curl http://%(hots)s/\nhost = 10.52.12.1\n', 'check_cmd'),
  AHC_INI_INTERPOLATION_DEPTH: () => read('[foo]\nhost = %(address)s\naddress = %(host)s\n', 'host'),
};

describe('docs/configuration-parsing.md', () => {
  it.each(INI_ERROR_CODES)('lists %s in the table of error codes', (code) => {
    expect(DOC).toContain(`| \`${code}\` |`);
  });

  it('lists no AHC_INI_* code in its table that the INI reader does not have', () => {
    const documented = [...DOC.matchAll(/^\| `(AHC_INI_[A-Z_]+)` \|/gm)].map((m) => m[1] as string);
    expect(documented.length).toBeGreaterThan(0);
    expect(documented.filter((c) => !(INI_ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
    expect(INI_ERROR_CODES.filter((c) => !documented.includes(c))).toEqual([]);
  });

  it.each(INI_ERROR_CODES)('shows the current example message for %s', (code) => {
    const error = iniErrorOf(EXAMPLES[code]);
    expect(error.code).toBe(code);
    expect(DOC).toContain(`${code}\n${error.message}\n`);
  });
});
