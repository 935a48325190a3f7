// `-p` and `-P`: the built-in defaults and the effective configuration, printed as INI.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseIni } from '@ahc/ini';
import { loadConfigDocument, renderDefaults, renderEffective } from '../src/index';
import { PYTHON_DAEMON_PRINTED_OPTIONS, PYTHON_SERVICE_DEFAULT_OPTIONS, makeTempDir, removeTempDirs } from './fixture';

afterEach(removeTempDirs);

// The [DEFAULT] and [daemon] defaults in the order the Python daemon 0.9.10 prints them (checked against
// its -p output; docs/configuration.md groups them by topic instead). Options listed as unset
// (log_file, stderr_file, log_server, splay_startup) are not printed.
// The golden text is written out once per block; the blocks recur in the expected -p and -P output.
/** The [DEFAULT] table: what every section inherits. */
const DEFAULT_TABLE = `interface = lo
check_interval = 10
check_timeout = 2
check_rise = 2
check_fail = 2
check_disabled = true
on_disabled = withdraw
ip_check_disabled = false
custom_bird_reconfigure_cmd_timeout = 2`;
/** [daemon] defaults from bird_conf to pidfile. */
const DAEMON_BIRD = `bird_conf = /var/lib/anycast-healthchecker/anycast-prefixes.conf
bird6_conf = /var/lib/anycast-healthchecker/6/anycast-prefixes.conf
bird_variable = ACAST_PS_ADVERTISE
bird6_variable = ACAST6_PS_ADVERTISE
bird_reconfigure_cmd = sudo /usr/sbin/birdc configure
bird6_reconfigure_cmd = sudo /usr/sbin/birdc6 configure
dummy_ip_prefix = 10.189.200.255/32
dummy_ip6_prefix = 2001:db8::1/128
bird_keep_changes = false
bird6_keep_changes = false
bird_changes_counter = 128
bird6_changes_counter = 128
purge_ip_prefixes = false
pidfile = /var/run/anycast-healthchecker/anycast-healthchecker.pid`;
/** [daemon] defaults from log_server_port on, in the order 0.9.10's `-p` prints them (its DEFAULT_OPTIONS). */
const DAEMON_LOGGING = `log_server_port = 514
json_stdout = false
json_log_file = false
json_log_server = false
log_maxbytes = 104857600
log_backups = 8
log_format_journalctl = false
prometheus_exporter = false
prometheus_collector_textfile_dir = /var/cache/textfile_collector/
prometheus_exporter_interval = 10`;

const PYTHON_DEFAULTS = `[DEFAULT]
${DEFAULT_TABLE}

[daemon]
ipv4 = true
ipv6 = false
${DAEMON_BIRD}
loglevel = debug
${DAEMON_LOGGING}

`;

describe('renderDefaults (-p)', () => {
  it('prints exactly the defaults table of the Python daemon (docs/configuration.md)', () => {
    expect(renderDefaults()).toBe(PYTHON_DEFAULTS);
  });

  it('leaves out the options that have no default', () => {
    const printed = renderDefaults();
    for (const unset of [
      'log_file',
      'stderr_file',
      'log_server ',
      'splay_startup',
      'http_server',
      'json_logging',
      'worker_threads',
      'instance_lock',
      'bird_reconfigure_timeout',
      'state_dir',
      'state_max_age',
      'withdraw_on_shutdown',
      'release_startup_pages',
    ]) {
      expect(printed).not.toMatch(new RegExp(`^${unset}`, 'm'));
    }
  });

  it('is INI that reads back to the same values', () => {
    const doc = parseIni(renderDefaults(), '<printed>');
    expect(doc.defaults.get('check_interval')?.value).toBe('10');
    expect(doc.sections.get('daemon')?.options.get('bird_reconfigure_cmd')?.value).toBe('sudo /usr/sbin/birdc configure');
  });
});

// The README's example, with the DEFAULT interpolation and the %% of URLs real configs use.
const EXAMPLE_DAEMON = `[DEFAULT]
interface        = lo
curl             = /usr/bin/curl --fail --silent

[daemon]
pidfile          = /var/run/anycast-healthchecker/anycast-healthchecker.pid
ipv4             = true
ipv6             = true
bird_conf        = /var/lib/anycast-healthchecker/anycast-prefixes.conf
bird6_conf       = /var/lib/anycast-healthchecker/6/anycast-prefixes.conf
bird_variable    = ACAST_PS_ADVERTISE
bird6_variable   = ACAST6_PS_ADVERTISE
bird_reconfigure_cmd = sudo /usr/sbin/birdc configure
bird6_reconfigure_cmd = sudo /usr/sbin/birdc6 configure
dummy_ip_prefix  = 10.189.200.255/32
dummy_ip6_prefix = 2001:db8::1/128
bird_keep_changes = false
bird6_keep_changes = false
bird_changes_counter = 128
bird6_changes_counter = 128
purge_ip_prefixes = false
loglevel         = info
log_maxbytes     = 104857600
log_backups      = 8
json_stdout      = false
json_log_file    = false
json_log_server  = false
log_file         = /var/log/anycast-healthchecker/anycast-healthchecker.log
stderr_file      = /var/log/anycast-healthchecker/stderr.log
`;

const EXAMPLE_SERVICES = `[foo1IsUp]
check_cmd = %(curl)s http://10.52.12.1/health?format=json%%2Fv1
check_interval = 10
check_timeout = 2
check_rise = 2
check_fail = 2
check_disabled = false
on_disabled = withdraw
ip_prefix = 10.52.12.1/32
ip_check_disabled = false

[foo1IPv6IsUp]
check_cmd: %(curl)s http://[fd12:aaaa:bbbb:cccc::1]/
check_disabled = false
ip_prefix = fd12:aaaa:bbbb:cccc::1/128
interface = eth0
`;

const DAEMON_AND_DEFAULTS = `ipv4 = true
ipv6 = true
${DAEMON_BIRD}
loglevel = info
${DAEMON_LOGGING}
log_file = /var/log/anycast-healthchecker/anycast-healthchecker.log
stderr_file = /var/log/anycast-healthchecker/stderr.log
${DEFAULT_TABLE}
curl = /usr/bin/curl --fail --silent`;

// DEFAULT first, then daemon, then the services in file order; in a section its own options
// come first, then the DEFAULT options it does not override (as Python's configparser lists them).
const EXAMPLE_EFFECTIVE = `[DEFAULT]
${DEFAULT_TABLE}
curl = /usr/bin/curl --fail --silent

[daemon]
${DAEMON_AND_DEFAULTS}

[foo1IsUp]
check_cmd = /usr/bin/curl --fail --silent http://10.52.12.1/health?format=json%2Fv1
check_interval = 10
check_timeout = 2
check_rise = 2
check_fail = 2
check_disabled = false
on_disabled = withdraw
ip_prefix = 10.52.12.1/32
ip_check_disabled = false
interface = lo
custom_bird_reconfigure_cmd_timeout = 2
curl = /usr/bin/curl --fail --silent

[foo1IPv6IsUp]
check_cmd = /usr/bin/curl --fail --silent http://[fd12:aaaa:bbbb:cccc::1]/
check_disabled = false
ip_prefix = fd12:aaaa:bbbb:cccc::1/128
interface = eth0
check_interval = 10
check_timeout = 2
check_rise = 2
check_fail = 2
on_disabled = withdraw
ip_check_disabled = false
custom_bird_reconfigure_cmd_timeout = 2
curl = /usr/bin/curl --fail --silent

`;

function exampleDocument(): ReturnType<typeof loadConfigDocument> {
  const root = makeTempDir('print');
  const file = join(root, 'anycast-healthchecker.conf');
  writeFileSync(file, EXAMPLE_DAEMON);
  const serviceFile = join(root, 'foo.conf');
  writeFileSync(serviceFile, EXAMPLE_SERVICES);
  return loadConfigDocument({ file, serviceFile });
}

/** `[name]` -> its `key = value` lines, from printed INI. */
function printedSections(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split('\n')) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) out.set(header[1] as string, (current = new Map()));
    else if (line !== '') {
      const at = line.indexOf(' = ');
      current?.set(line.slice(0, at), line.slice(at + 3));
    }
  }
  return out;
}

describe('renderEffective (-P)', () => {
  it('prints the example configuration with defaults merged in and values interpolated', () => {
    expect(renderEffective(exampleDocument().document)).toBe(EXAMPLE_EFFECTIVE);
  });

  it('shows every option of the defaults table in every section', () => {
    const sections = printedSections(renderEffective(exampleDocument().document));
    expect([...sections.keys()]).toEqual(['DEFAULT', 'daemon', 'foo1IsUp', 'foo1IPv6IsUp']);
    for (const [name, options] of sections) {
      for (const option of PYTHON_SERVICE_DEFAULT_OPTIONS) expect(options.has(option), `[${name}] ${option}`).toBe(true);
    }
    for (const option of PYTHON_DAEMON_PRINTED_OPTIONS) expect(sections.get('daemon')?.has(option), `[daemon] ${option}`).toBe(true);
    for (const name of ['foo1IsUp', 'foo1IPv6IsUp']) {
      for (const option of ['check_cmd', 'ip_prefix']) expect(sections.get(name)?.has(option), `[${name}] ${option}`).toBe(true);
    }
  });

  it('shows a value overridden by a later file, not the first one', () => {
    const root = makeTempDir('print');
    const file = join(root, 'a.conf');
    writeFileSync(file, '[daemon]\nloglevel = info\n');
    const dir = join(root, 'd');
    mkdirSync(dir);
    writeFileSync(join(dir, 'web.conf'), '[daemon]\nloglevel = error\n[web]\ncheck_cmd = /bin/true\nip_prefix = 10.52.12.1\n');
    const sections = printedSections(renderEffective(loadConfigDocument({ file, dir }).document));
    expect(sections.get('daemon')?.get('loglevel')).toBe('error');
    expect(sections.get('web')?.get('check_cmd')).toBe('/bin/true');
  });

  it('shows an option as written in a section where its reference cannot be expanded', () => {
    const root = makeTempDir('print');
    const file = join(root, 'a.conf');
    writeFileSync(file, '[DEFAULT]\ncheck_cmd = /bin/echo http://%(vip)s/\n');
    const serviceFile = join(root, 'web.conf');
    writeFileSync(serviceFile, '[web]\nvip = 10.52.12.1\nip_prefix = %(vip)s\n');
    const sections = printedSections(renderEffective(loadConfigDocument({ file, serviceFile }).document));
    expect(sections.get('DEFAULT')?.get('check_cmd')).toBe('/bin/echo http://%(vip)s/');
    expect(sections.get('daemon')?.get('check_cmd')).toBe('/bin/echo http://%(vip)s/');
    expect(sections.get('web')?.get('check_cmd')).toBe('/bin/echo http://10.52.12.1/');
    expect(sections.get('web')?.get('ip_prefix')).toBe('10.52.12.1');
  });

  it('prints a list of prefixes as written, a list continued on indented lines indented again, so it reads back the same', () => {
    const root = makeTempDir('print');
    const file = join(root, 'a.conf');
    writeFileSync(file, '[daemon]\nipv6 = true\n');
    const serviceFile = join(root, 'web.conf');
    writeFileSync(
      serviceFile,
      '[web]\ncheck_cmd = /bin/true\nip_prefix = 10.52.12.1, 10.52.12.2/32 2001:db8:52::1\n' +
        '[dns]\ncheck_cmd = /bin/true\nip_prefix = 10.52.13.1/32,\n    10.52.13.2/32,\n    2001:db8:53::1/128\n',
    );
    const printed = renderEffective(loadConfigDocument({ file, serviceFile }).document);
    expect(printed).toContain('\nip_prefix = 10.52.12.1, 10.52.12.2/32 2001:db8:52::1\n');
    expect(printed).toContain('\nip_prefix = 10.52.13.1/32,\n\t10.52.13.2/32,\n\t2001:db8:53::1/128\n');
    const again = parseIni(printed, 'printed');
    expect(again.sections.get('dns')?.options.get('ip_prefix')?.value).toBe('10.52.13.1/32,\n10.52.13.2/32,\n2001:db8:53::1/128');
  });

  it('prints the built-in defaults when the files set nothing', () => {
    const root = makeTempDir('print');
    const file = join(root, 'empty.conf');
    writeFileSync(file, '');
    const [defaults = '', daemon = ''] = PYTHON_DEFAULTS.split('\n\n');
    const defaultLines = defaults.replace('[DEFAULT]\n', '');
    // [daemon] inherits every DEFAULT option too, after its own.
    expect(renderEffective(loadConfigDocument({ file }).document)).toBe(`${defaults}\n\n${daemon}\n${defaultLines}\n\n`);
  });
});
