// Configuration validation (docs/configuration.md, "Validation"): every rule has a bad input here, and the ConfigError it produces must carry a
// stable code and a message that says where (file, line, section, option, value) the problem is.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KNOWN_DAEMON_OPTIONS, KNOWN_SERVICE_OPTIONS, collectProblems, compileConfig, loadConfigDocument } from '../src/index';
import {
  GOOD_SERVICE,
  compileSources,
  compileTree,
  configErrorOf,
  expectConfigError,
  makeTempDir,
  removeTempDirs,
  sourcesOf,
  writeTree,
} from './fixture';

afterEach(removeTempDirs);

/** A service section with `lines` added to a working check. */
function service(name: string, ...lines: string[]): string {
  const own = new Set(lines.map((l) => l.split(/[=:]/)[0]?.trim().toLowerCase()));
  const base = ['check_cmd = /bin/true', 'ip_prefix = 10.52.12.1/32', 'check_disabled = false'].filter(
    (l) => !own.has(l.split('=')[0]?.trim()),
  );
  return [`[${name}]`, ...base, ...lines, ''].join('\n');
}

/** An executable script in `dir` that would leave `marker` behind if anything ran it. */
function markerScript(dir: string, name: string, mode: number): { path: string; marker: string } {
  const path = join(dir, name);
  const marker = join(dir, `${name}.ran`);
  writeFileSync(path, `#!/bin/sh\ntouch '${marker}'\n`);
  chmodSync(path, mode);
  return { path, marker };
}

describe('files and directories on the command line', () => {
  it('refuses a daemon file that does not exist, naming it', () => {
    const tree = writeTree();
    const missing = join(tree.root, 'nope.conf');
    expectConfigError(() => loadConfigDocument({ file: missing, dir: tree.dir }), 'AHC_CONFIG_MISSING_FILE', [missing]);
  });

  it('refuses a daemon file that is a directory', () => {
    const tree = writeTree();
    expectConfigError(() => loadConfigDocument({ file: tree.dir, dir: tree.dir }), 'AHC_CONFIG_MISSING_FILE', [tree.dir]);
  });

  it('refuses a -d directory that does not exist, naming it', () => {
    const tree = writeTree();
    const missing = join(tree.root, 'missing.d');
    expectConfigError(() => loadConfigDocument({ file: tree.file, dir: missing }), 'AHC_CONFIG_MISSING_DIR', [missing]);
  });

  it('refuses a -d path that is a file', () => {
    const tree = writeTree();
    expectConfigError(() => loadConfigDocument({ file: tree.file, dir: tree.file }), 'AHC_CONFIG_MISSING_DIR', [tree.file]);
  });

  it('refuses a -F service file that does not exist, naming it', () => {
    const tree = writeTree();
    const missing = join(tree.root, 'web.conf');
    expectConfigError(() => loadConfigDocument({ file: tree.file, serviceFile: missing }), 'AHC_CONFIG_MISSING_FILE', [missing]);
  });
});

describe('syntax errors name the file and the line', () => {
  it('rejects an option before the first section header', () => {
    const tree = writeTree({ 'web.conf': `# web\ncheck_cmd = /bin/true\n${GOOD_SERVICE}` });
    expectConfigError(() => compileTree(tree), 'AHC_INI_MISSING_SECTION_HEADER', [`${tree.service('web.conf')}:2`]);
  });

  it('rejects the same section twice in one file', () => {
    const tree = writeTree({ 'web.conf': `${GOOD_SERVICE}\n[web]\ncheck_rise = 3\n` });
    const error = expectConfigError(() => compileTree(tree), 'AHC_INI_DUPLICATE_SECTION', [`${tree.service('web.conf')}:6`, '[web]']);
    expect(error.location).toMatchObject({ file: tree.service('web.conf'), line: 6 });
  });

  it('rejects the same option twice in one section of one file', () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_rise = 2', 'check_rise = 3') });
    expectConfigError(() => compileTree(tree), 'AHC_INI_DUPLICATE_OPTION', [`${tree.service('web.conf')}:6`, 'check_rise', '[web]']);
  });

  it('rejects an option name given twice in different case', () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_rise = 2', 'Check_Rise = 3') });
    expectConfigError(() => compileTree(tree), 'AHC_INI_DUPLICATE_OPTION', [`${tree.service('web.conf')}:6`, 'check_rise']);
  });

  it('rejects a line that is neither an option, a section nor a comment', () => {
    const tree = writeTree({ 'web.conf': service('web', 'this is not an option') });
    expectConfigError(() => compileTree(tree), 'AHC_INI_PARSE', [`${tree.service('web.conf')}:5`, 'this is not an option']);
  });

  it("rejects a lone '%' in a value, naming the option", () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_cmd = /bin/echo http://127.0.0.1/?load=50%') });
    expectConfigError(() => compileTree(tree), 'AHC_INI_INTERPOLATION_SYNTAX', [
      `${tree.service('web.conf')}:4`,
      'check_cmd',
      '[web]',
      "'%%'",
    ]);
  });

  it('rejects a reference to an option that does not exist', () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_cmd = /bin/echo %(url)s') });
    expectConfigError(() => compileTree(tree), 'AHC_INI_INTERPOLATION_MISSING', [
      `${tree.service('web.conf')}:4`,
      'check_cmd',
      '[web]',
      'url',
    ]);
  });

  it('rejects a syntax error in the daemon file too', () => {
    const tree = writeTree({}, {}, 'pidfile = /tmp/twice.pid\n');
    expectConfigError(() => compileTree(tree), 'AHC_INI_DUPLICATE_OPTION', [`${tree.file}:`, 'pidfile', '[daemon]']);
  });
});

describe('[daemon] paths', () => {
  it('refuses a pidfile whose directory does not exist', () => {
    const tree = writeTree(undefined, { pidfile: '/nonexistent-ahc-dir/ahc.pid' });
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_MISSING_DIR', [
      tree.file,
      '[daemon] pidfile',
      "'/nonexistent-ahc-dir/ahc.pid'",
      '/nonexistent-ahc-dir',
    ]);
  });

  it('refuses a pidfile below a path that is a file, not a directory', () => {
    const tree = writeTree();
    const pidfile = join(tree.file, 'ahc.pid');
    expectConfigError(() => compileTree(writeTree(undefined, { pidfile })), 'AHC_CONFIG_MISSING_DIR', ['[daemon] pidfile', pidfile]);
  });

  it.each(['log_file', 'stderr_file'])('refuses %s in a directory that does not exist', (option) => {
    const tree = writeTree(undefined, { [option]: '/nonexistent-ahc-dir/ahc.log' });
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_MISSING_DIR', [
      tree.file,
      `[daemon] ${option}`,
      "'/nonexistent-ahc-dir/ahc.log'",
    ]);
  });

  it.for(['log_file', 'stderr_file'])('refuses %s in a directory this user cannot write to', (option, ctx) => {
    const tree = writeTree();
    const locked = join(tree.root, 'locked');
    mkdirSync(locked);
    const unlock = makeUnwritable(locked);
    if (unlock === null) {
      ctx.skip('running as root and `chattr +i` is not available: no directory is unwritable for this user');
      return;
    }
    try {
      const path = join(locked, 'ahc.log');
      const withLog = writeTree(undefined, { [option]: path });
      expectConfigError(() => compileTree(withLog), 'AHC_CONFIG_NOT_WRITABLE', [withLog.file, `[daemon] ${option}`, path, 'not writable']);
    } finally {
      unlock();
    }
  });

  it('refuses a bird_conf that is a directory', () => {
    const tree = writeTree();
    const tree2 = writeTree(undefined, { bird_conf: tree.dir });
    expectConfigError(() => compileTree(tree2), 'AHC_CONFIG_INVALID', ['[daemon] bird_conf', tree.dir, 'is a directory']);
  });

  it('refuses a bird_conf whose directory does not exist', () => {
    const tree = writeTree(undefined, { bird_conf: '/nonexistent-ahc-dir/p.conf' });
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_MISSING_DIR', ['[daemon] bird_conf', '/nonexistent-ahc-dir']);
  });

  it('refuses a missing textfile directory when the Prometheus exporter is on', () => {
    const tree = writeTree(undefined, { prometheus_exporter: 'true', prometheus_collector_textfile_dir: '/nonexistent-ahc-dir/' });
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_MISSING_DIR', [
      '[daemon] prometheus_collector_textfile_dir',
      '/nonexistent-ahc-dir',
    ]);
  });
});

/** Make `dir` unwritable for this process; null when that is impossible (root without chattr). */
function makeUnwritable(dir: string): (() => void) | null {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return () => chmodSync(dir, 0o755);
  }
  try {
    // root passes every permission check, except on an immutable inode.
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return () => execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
}

// Every typed option of [daemon]: [option, a bad value, what the message says].
const BAD_DAEMON_VALUES: Array<[string, string, string]> = [
  ['ipv4', 'maybe', 'not a boolean'],
  ['ipv6', 'enabled', 'not a boolean'],
  ['bird_keep_changes', '2', 'not a boolean'],
  ['bird6_keep_changes', 'y', 'not a boolean'],
  ['purge_ip_prefixes', 'truee', 'not a boolean'],
  ['json_stdout', 'nope', 'not a boolean'],
  ['json_log_file', 'si', 'not a boolean'],
  ['json_log_server', '-1', 'not a boolean'],
  ['log_format_journalctl', 'journal', 'not a boolean'],
  ['prometheus_exporter', 'enable', 'not a boolean'],
  ['json_logging', 'TRUE!', 'not a boolean'],
  ['bird_changes_counter', 'abc', 'not an integer'],
  ['bird_changes_counter', '0', 'must be at least 1'],
  ['bird6_changes_counter', '1.5', 'not an integer'],
  ['bird6_changes_counter', '-3', 'must be at least 1'],
  ['log_maxbytes', '100MB', 'not an integer'],
  ['log_maxbytes', '-1', 'must be at least 0'],
  ['log_backups', 'eight', 'not an integer'],
  ['log_backups', '-1', 'must be at least 0'],
  ['log_server_port', '70000', 'must be between 1 and 65535'],
  ['log_server_port', '0', 'must be between 1 and 65535'],
  ['log_server_port', 'syslog', 'not an integer'],
  ['http_server_port', '65536', 'must be between 1 and 65535'],
  ['http_server_port', '80.0', 'not an integer'],
  ['splay_startup', '-1', 'must be a finite number of seconds, 0 or more'],
  ['splay_startup', 'inf', 'must be a finite number of seconds, 0 or more'],
  ['splay_startup', 'soon', 'not a number'],
  ['prometheus_exporter_interval', '0', 'must be a finite number of seconds greater than 0'],
  ['prometheus_exporter_interval', 'nan', 'must be a finite number of seconds greater than 0'],
  ['prometheus_exporter_interval', '10s', 'not a number'],
  ['http_server_timeout', '0', 'must be a finite number of seconds greater than 0'],
  ['http_server_timeout', 'abc', 'not a number'],
  ['bird_reconfigure_timeout', 'inf', 'must be a finite number of seconds greater than 0'],
  ['bird_reconfigure_timeout', '-2', 'must be a finite number of seconds greater than 0'],
  ['worker_threads', '0', "must be 'auto', 'per-service' or a number of threads from 1 to 256"],
  ['worker_threads', '257', "must be 'auto', 'per-service' or a number of threads from 1 to 256"],
  ['worker_threads', 'per-check', "must be 'auto', 'per-service' or a number of threads from 1 to 256"],
  ['http_server_protocol', 'ftp', "must be 'http' or 'https'"],
  ['loglevel', 'verbose', 'not a log level'],
  ['loglevel', 'warn', 'not a log level'],
  ['bird_variable', '1ACAST', 'not a valid BIRD symbol name'],
  ['bird6_variable', 'ACAST-6', 'not a valid BIRD symbol name'],
  ['bird_reconfigure_cmd', '"/usr/sbin/birdc configure', 'cannot be split into words'],
  ['bird6_reconfigure_cmd', '', 'is empty'],
  ['dummy_ip_prefix', 'not-a-prefix', 'not a valid IP prefix'],
  ['dummy_ip_prefix', '10.189.200.0/20', 'not a valid IP prefix'],
  ['dummy_ip_prefix', '10.189.200.255/33', 'not a valid IP prefix'],
  ['dummy_ip_prefix', '2001:db8::1/128', 'must be an IPv4 prefix'],
  ['dummy_ip6_prefix', '2001:db8::1/129', 'not a valid IP prefix'],
  ['dummy_ip6_prefix', '2001:zz8::1/128', 'not a valid IP prefix'],
  ['dummy_ip6_prefix', '10.189.200.255/32', 'must be an IPv6 prefix'],
  ['pidfile', '', 'must be a path'],
  ['bird_conf', '', 'must be a path'],
  ['instance_lock', '', 'must not be empty'],
  ['status_socket', '', 'must be a path'],
  ['on_worker_failure', 'restart', "must be 'keep'"],
  ['bird_verify_cmd', "birdc 'eval", 'cannot be split into words'],
  ['bird6_verify_cmd', '', 'is empty'],
  ['prometheus_listen', '', 'must be HOST:PORT'],
  ['prometheus_listen', '9610', 'must be HOST:PORT'],
  ['prometheus_listen', '127.0.0.1:99999', 'must be HOST:PORT'],
  ['bird6_conf', '', 'must be a path'],
  ['log_file', '', 'must be a path'],
  ['stderr_file', '', 'must be a path'],
  ['prometheus_collector_textfile_dir', '', 'must be a path'],
  ['log_server', '', 'must not be empty'],
  ['http_server', '', 'must not be empty'],
  ['control_socket', '', 'must be a path'],
  ['control_group', 'no such:group', 'must be a group name'],
  ['drain_file', '', 'must be a path'],
  ['state_dir', '', 'must be a path'],
  ['state_max_age', '-1', 'must be a finite number of seconds, 0 or more'],
  ['state_max_age', 'inf', 'must be a finite number of seconds, 0 or more'],
  ['withdraw_on_shutdown', 'sometimes', 'not a boolean'],
  ['withdraw_on_shutdown_timeout', '0', 'must be a finite number of seconds greater than 0'],
  ['release_startup_pages', 'maybe', 'not a boolean'],
];

describe('typed options of [daemon]', () => {
  it.each(BAD_DAEMON_VALUES)('rejects %s = %j', (option, value, reason) => {
    const tree = writeTree(undefined, { [option]: value });
    const error = expectConfigError(() => compileTree(tree), 'AHC_CONFIG_INVALID', [tree.file, `[daemon] ${option} = '${value}'`, reason]);
    expect(error.location).toMatchObject({ file: tree.file, section: 'daemon', option });
  });

  it('covers every [daemon] option of the schema', () => {
    const tested = new Set(BAD_DAEMON_VALUES.map(([option]) => option));
    expect([...KNOWN_DAEMON_OPTIONS].filter((o) => !tested.has(o))).toEqual([]);
  });

  it('compiles state_dir, state_max_age and withdraw_on_shutdown with their defaults when unset', () => {
    expect(compileTree(writeTree(undefined, {})).daemon).toMatchObject({
      state: { dir: '/var/lib/anycast-healthchecker/state', maxAgeMs: 120_000 },
      withdrawOnShutdown: { enabled: false, timeoutMs: 10_000 },
    });
    const set = { state_dir: '/tmp/x', state_max_age: '0', withdraw_on_shutdown: 'yes', withdraw_on_shutdown_timeout: '2.5' };
    expect(compileTree(writeTree(undefined, set)).daemon).toMatchObject({
      state: { dir: '/tmp/x', maxAgeMs: 0 },
      withdrawOnShutdown: { enabled: true, timeoutMs: 2500 },
    });
  });

  it('releases the start-up pages unless release_startup_pages = false', () => {
    expect(compileTree(writeTree(undefined, {})).daemon.releaseStartupPages).toBe(true);
    expect(compileTree(writeTree(undefined, { release_startup_pages: 'false' })).daemon.releaseStartupPages).toBe(false);
  });

  it('reads loglevel in any case', () => {
    expect(compileTree(writeTree(undefined, { loglevel: 'WARNING' })).daemon.logging.level).toBe('warning');
  });
});

// Every typed option of a service section: [option, a bad value, what the message says].
const BAD_SERVICE_VALUES: Array<[string, string, string]> = [
  ['check_disabled', 'maybe', 'not a boolean'],
  ['check_disabled', 'disabled', 'not a boolean'],
  ['ip_check_disabled', '2', 'not a boolean'],
  ['check_rise', '0', 'must be at least 1'],
  ['check_rise', 'two', 'not an integer'],
  ['check_rise', '2.0', 'not an integer'],
  ['check_fail', '-1', 'must be at least 1'],
  ['check_fail', '1e1', 'not an integer'],
  ['check_interval', 'abc', 'not a number'],
  ['check_interval', 'inf', 'must be a finite number of seconds greater than 0'],
  ['check_interval', '0', 'must be a finite number of seconds greater than 0'],
  ['check_interval', '-5', 'must be a finite number of seconds greater than 0'],
  ['check_interval', 'nan', 'must be a finite number of seconds greater than 0'],
  ['check_interval', '1__0', 'not a number'],
  ['check_timeout', '0', 'must be a finite number of seconds greater than 0'],
  ['check_timeout', '-infinity', 'must be a finite number of seconds greater than 0'],
  ['check_timeout', '2s', 'not a number'],
  ['custom_bird_reconfigure_cmd_timeout', '0', 'must be a finite number of seconds greater than 0'],
  ['custom_bird_reconfigure_cmd_timeout', 'x', 'not a number'],
  ['on_disabled', 'ignore', "must be 'withdraw' or 'advertise'"],
  ['on_disabled', 'Withdraw', "must be 'withdraw' or 'advertise'"],
  ['interface', '', 'must not be empty'],
  ['check_cmd', "/bin/true 'unterminated", 'cannot be split into words'],
  ['check_cmd', '', 'is empty'],
  ['custom_bird_reconfigure_cmd', '"/bin/true', 'cannot be split into words'],
  ['ip_prefix', 'garbage', 'not a valid IP prefix'],
  ['ip_prefix', '10.0.0.1/24', 'not a valid IP prefix'],
  ['ip_prefix', '10.0.0.0/33', 'not a valid IP prefix'],
  ['ip_prefix', '10.0.0.256', 'not a valid IP prefix'],
  ['ip_prefix', '10.0.0.0/', 'not a valid IP prefix'],
  ['ip_prefix', '2001:db8::1/64', 'not a valid IP prefix'],
  ['ip_prefix', '2001:db8::/129', 'not a valid IP prefix'],
  ['ip_prefix', '2001:db8:::1', 'not a valid IP prefix'],
  ['ip_prefix', '', 'not a valid IP prefix'],
];

describe('typed options of a service', () => {
  it.each(BAD_SERVICE_VALUES)('rejects %s = %j', (option, value, reason) => {
    const tree = writeTree({ 'web.conf': service('web', `${option} = ${value}`) }, { ipv6: 'true' });
    const error = expectConfigError(() => compileTree(tree), 'AHC_CONFIG_INVALID', [
      tree.service('web.conf'),
      `[web] ${option} = '${value}'`,
      reason,
    ]);
    expect(error.location).toMatchObject({ file: tree.service('web.conf'), section: 'web', option });
  });

  it('covers every service option of the schema', () => {
    const tested = new Set(BAD_SERVICE_VALUES.map(([option]) => option));
    expect([...KNOWN_SERVICE_OPTIONS].filter((o) => !tested.has(o))).toEqual([]);
  });

  it('reports a bad value inherited from [DEFAULT] in the file that sets it', () => {
    const tree = writeTree({ '00-defaults.conf': '[DEFAULT]\ncheck_interval = often\n', 'web.conf': GOOD_SERVICE });
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_INVALID', [
      `${tree.service('00-defaults.conf')}:2`,
      "[web] check_interval = 'often'",
      'not a number',
    ]);
  });

  it.each(['check_cmd', 'ip_prefix'])('requires %s, naming the service and its file', (option) => {
    const text = GOOD_SERVICE.split('\n')
      .filter((l) => !l.startsWith(option))
      .join('\n');
    const tree = writeTree({ 'web.conf': text });
    const error = expectConfigError(() => compileTree(tree), 'AHC_CONFIG_MISSING_OPTION', [
      tree.service('web.conf'),
      `[web] ${option}`,
      'required',
    ]);
    expect(error.location).toMatchObject({ file: tree.service('web.conf'), section: 'web', option });
  });
});

describe('prefixes across services and families', () => {
  it('refuses an IPv6 prefix while ipv6 = false', () => {
    const tree = writeTree({ 'web.conf': service('web', 'ip_prefix = 2001:db8::10/128') }, { ipv6: 'false' });
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_FAMILY_DISABLED', [
      tree.service('web.conf'),
      "[web] ip_prefix = '2001:db8::10/128'",
      'IPv6 is disabled',
      'ipv6 = true',
    ]);
  });

  it('refuses an IPv4 prefix while ipv4 = false', () => {
    const tree = writeTree({ 'web.conf': GOOD_SERVICE }, { ipv4: 'false', ipv6: 'true' });
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_FAMILY_DISABLED', ["[web] ip_prefix = '10.52.12.1/32'", 'IPv4 is disabled']);
  });

  it.each([
    ['the same text', '10.52.12.1/32', '10.52.12.1/32'],
    ['a bare address and its /32', '10.52.12.1', '10.52.12.1/32'],
    ['IPv6 in two spellings', '2001:db8:0:0::10', '2001:0DB8::10/128'],
    ['IPv6 networks in two spellings', '2001:db8:a::/48', '2001:0db8:000a:0000::/48'],
  ])('refuses one prefix in two services (%s)', (_what, first, second) => {
    const tree = writeTree(
      {
        'a.conf': service('alpha', `ip_prefix = ${first}`),
        'b.conf': service('beta', `ip_prefix = ${second}`),
      },
      { ipv6: 'true' },
    );
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_DUPLICATE_PREFIX', [
      tree.service('b.conf'),
      `[beta] ip_prefix = '${second}'`,
      '[alpha]',
    ]);
  });

  it('refuses a service that uses the IPv4 dummy prefix, however it is written', () => {
    const tree = writeTree({ 'web.conf': service('web', 'ip_prefix = 10.189.200.255') });
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_DUMMY_PREFIX_USED', [
      tree.service('web.conf'),
      "[web] ip_prefix = '10.189.200.255'",
      'dummy',
    ]);
  });

  it('refuses a service that uses a configured IPv6 dummy prefix', () => {
    const tree = writeTree(
      { 'web.conf': service('web', 'ip_prefix = 2001:db8:0::ff') },
      { ipv6: 'true', dummy_ip6_prefix: '2001:db8::ff/128' },
    );
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_DUMMY_PREFIX_USED', ["[web] ip_prefix = '2001:db8:0::ff'"]);
  });
});

describe('programs are checked without being run', () => {
  it('refuses a check_cmd whose program does not exist', () => {
    const tree = writeTree();
    const program = join(tree.root, 'no-such-check');
    const bad = writeTree({ 'web.conf': service('web', `check_cmd = ${program} --fail`) });
    expectConfigError(() => compileTree(bad), 'AHC_CONFIG_COMMAND_NOT_FOUND', [
      bad.service('web.conf'),
      `[web] check_cmd = '${program} --fail'`,
      'does not exist',
    ]);
  });

  it('refuses a check_cmd program that is not in PATH', () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_cmd = ahc-no-such-program-anywhere') });
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_COMMAND_NOT_FOUND', ['[web] check_cmd', 'was not found in PATH']);
  });

  it('refuses a check_cmd program that is not executable, and does not run it', () => {
    const root = makeTempDir();
    const script = markerScript(root, 'check.sh', 0o644);
    const tree = writeTree({ 'web.conf': service('web', `check_cmd = ${script.path}`) });
    expectConfigError(() => compileTree(tree), 'AHC_CONFIG_COMMAND_NOT_FOUND', ['[web] check_cmd', `${script.path} is not executable`]);
    expect(existsSync(script.marker)).toBe(false);
  });

  it('refuses a check_cmd program that is a directory', () => {
    const tree = writeTree();
    const bad = writeTree({ 'web.conf': service('web', `check_cmd = ${tree.dir}`) });
    expectConfigError(() => compileTree(bad), 'AHC_CONFIG_COMMAND_NOT_FOUND', ['[web] check_cmd']);
  });

  it('accepts a custom_bird_reconfigure_cmd program that does not exist, with a warning naming file, line and program', () => {
    const tree = writeTree({ 'web.conf': service('web', 'custom_bird_reconfigure_cmd = /nonexistent/reconfigure --fast') });
    const config = compileTree(tree);
    expect(config.services[0]?.customReconfigureCmd?.argv).toEqual(['/nonexistent/reconfigure', '--fast']);
    expect(config.warnings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'AHC_CONFIG_RECONFIGURE_CMD_NOT_FOUND',
        file: tree.service('web.conf'),
        section: 'web',
        option: 'custom_bird_reconfigure_cmd',
      }),
    ]);
    expect(config.warnings[0]?.line).toBeGreaterThan(0);
    expect(config.warnings[0]?.message).toMatch(
      /^.+web\.conf:\d+: \[web\] custom_bird_reconfigure_cmd = '\/nonexistent\/reconfigure --fast': \/nonexistent\/reconfigure does not exist on this host; accepted/,
    );
  });

  it('accepts a custom_bird_reconfigure_cmd program that is not executable or not in PATH, with warnings', () => {
    const root = makeTempDir();
    const script = markerScript(root, 'custom.sh', 0o644);
    const tree = writeTree({
      'a.conf': service('a', `custom_bird_reconfigure_cmd = ${script.path}`),
      'b.conf': service('b', 'ip_prefix = 10.52.12.2', 'custom_bird_reconfigure_cmd = ahc-no-such-reconfigure-anywhere'),
    });
    const messages = compileTree(tree).warnings.map((w) => `${w.code} ${w.message}`);
    expect(messages).toEqual([
      expect.stringMatching(
        new RegExp(`^AHC_CONFIG_RECONFIGURE_CMD_NOT_FOUND .*\\[a\\] custom_bird_reconfigure_cmd.*is not executable on this host`),
      ),
      expect.stringMatching(/^AHC_CONFIG_RECONFIGURE_CMD_NOT_FOUND .*\[b\] custom_bird_reconfigure_cmd.*was not found in PATH/),
    ]);
    expect(existsSync(script.marker)).toBe(false);
  });

  it('accepts an executable check_cmd and custom_bird_reconfigure_cmd without running either', () => {
    const root = makeTempDir();
    const check = markerScript(root, 'check.sh', 0o755);
    const custom = markerScript(root, 'custom.sh', 0o755);
    const tree = writeTree({
      'web.conf': service('web', `check_cmd = ${check.path} --quick`, `custom_bird_reconfigure_cmd = ${custom.path}`),
    });
    const config = compileTree(tree);
    expect(config.services[0]?.checkCmd.argv).toEqual([check.path, '--quick']);
    expect(existsSync(check.marker)).toBe(false);
    expect(existsSync(custom.marker)).toBe(false);
  });
});

describe('warnings and accepted oddities', () => {
  it('accepts check_timeout > check_interval with a warning naming the service', () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_interval = 1', 'check_timeout = 3') });
    const config = compileTree(tree);
    expect(config.services.map((s) => s.name)).toEqual(['web']);
    expect(config.warnings).toEqual([
      expect.objectContaining({
        severity: 'warning',
        code: 'AHC_CONFIG_TIMEOUT_OVER_INTERVAL',
        section: 'web',
        option: 'check_timeout',
      }),
    ]);
    expect(config.warnings[0]?.message).toContain(tree.service('web.conf'));
  });

  it('advises pooled threads when per-service mode would start more than 64 threads', () => {
    const many = (n: number, disabled = 0) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [
          `s${i}.conf`,
          service(
            `s${i}`,
            `ip_prefix = 10.9.${Math.floor(i / 200)}.${(i % 200) + 1}/32`,
            ...(i < disabled ? ['check_disabled = true'] : []),
          ),
        ]),
      );
    const perService = 'worker_threads = per-service\n';
    expect(compileTree(writeTree(many(64), {}, perService)).warnings).toEqual([]);
    expect(compileTree(writeTree(many(70, 6), {}, perService)).warnings).toEqual([]);
    // Unset is `auto`, which pools this many: nothing to warn about.
    const auto = compileTree(writeTree(many(65)));
    expect(auto.warnings).toEqual([]);
    expect(auto.daemon.workerThreads).toBe(2);
    const warned = compileTree(writeTree(many(65), {}, perService));
    expect(warned.warnings).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'AHC_CONFIG_MANY_THREADS', section: 'daemon', option: 'worker_threads' }),
    ]);
    expect(warned.warnings[0]?.message).toContain('65 enabled services with worker_threads = per-service');
    expect(compileTree(writeTree(many(65), {}, 'worker_threads = 2\n')).warnings).toEqual([]);
  });

  it('does not warn when check_timeout equals check_interval', () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_interval = 2', 'check_timeout = 2') });
    expect(compileTree(tree).warnings).toEqual([]);
  });

  it('accepts unknown options in [daemon] and in services', () => {
    const tree = writeTree({ 'web.conf': service('web', 'chek_interval = 5', 'owner = team-web') }, {}, 'stdout_file = /var/log/x.log\n');
    const config = compileTree(tree);
    expect(config.services[0]?.intervalMs).toBe(10_000);
  });

  it('lists every problem at once for lint, errors and warnings', () => {
    const tree = writeTree({
      'a.conf': service('alpha', 'check_rise = 0', 'check_interval = 1', 'check_timeout = 5'),
      'b.conf': service('beta', 'ip_prefix = 10.52.12.1', 'on_disabled = maybe'),
    });
    const { document, files } = loadConfigDocument(sourcesOf(tree));
    const { config, problems } = collectProblems(document, files);
    expect(config).toBeNull();
    expect(problems.map((p) => [p.severity, p.code, p.section, p.option])).toEqual(
      expect.arrayContaining([
        ['error', 'AHC_CONFIG_INVALID', 'alpha', 'check_rise'],
        ['error', 'AHC_CONFIG_INVALID', 'beta', 'on_disabled'],
      ]),
    );
  });

  it('throws the first error, so the daemon and -c report one line', () => {
    const tree = writeTree({
      'a.conf': service('alpha', 'check_rise = 0'),
      'b.conf': service('beta', 'ip_prefix = 10.1.1.1', 'check_fail = 0'),
    });
    const error = configErrorOf(() => compileTree(tree));
    expect(error.message).toContain('[alpha] check_rise');
    expect(error.message).not.toContain('\n');
  });
});

describe('values read the way Python reads them', () => {
  it.each([
    ['1', true],
    ['yes', true],
    ['true', true],
    ['on', true],
    ['YES', true],
    ['True', true],
    ['oN', true],
    ['0', false],
    ['no', false],
    ['false', false],
    ['off', false],
    ['NO', false],
    ['FaLsE', false],
    ['OFF', false],
  ])('reads the boolean %j as %s', (text, value) => {
    const tree = writeTree(
      { 'web.conf': service('web', `check_disabled = ${text}`, `ip_check_disabled = ${text}`) },
      { ipv6: text, purge_ip_prefixes: text },
    );
    const config = compileTree(tree);
    expect(config.services[0]?.disabled).toBe(value);
    expect(config.services[0]?.ipCheckDisabled).toBe(value);
    expect(config.daemon.ipv6).toBe(value);
    expect(config.daemon.purgeIpPrefixes).toBe(value);
  });

  it.each([
    ['check_interval', '1_000', 'intervalMs', 1_000_000],
    ['check_interval', '1e1', 'intervalMs', 10_000],
    ['check_interval', '.5', 'intervalMs', 500],
    ['check_interval', '3.', 'intervalMs', 3000],
    ['check_interval', '+7', 'intervalMs', 7000],
    ['check_timeout', '0.25', 'timeoutMs', 250],
    ['check_rise', '1_0', 'rise', 10],
    ['check_rise', '007', 'rise', 7],
    ['check_fail', '+3', 'fail', 3],
  ] as const)('reads %s = %j as Python does', (option, text, field, value) => {
    const tree = writeTree({
      'web.conf': service('web', `${option} = ${text}`, ...(option === 'check_interval' ? ['check_timeout = 0.1'] : [])),
    });
    expect(compileTree(tree).services[0]?.[field]).toBe(value);
  });

  it('reads a number surrounded by spaces and tabs', () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_rise =  5 \t', 'check_interval =\t 2.5  ') });
    const s = compileTree(tree).services[0];
    expect([s?.rise, s?.intervalMs]).toEqual([5, 2500]);
  });

  it('reads [daemon] numbers the same way', () => {
    const tree = writeTree(undefined, {
      log_maxbytes: '10_485_760',
      log_server_port: '0514',
      bird_changes_counter: ' 64 ',
      splay_startup: '0',
    });
    const d = compileTree(tree).daemon;
    expect([d.logging.maxBytes, d.logging.serverPort, d.bird[0]?.changesCounter, d.splayStartupMs]).toEqual([10_485_760, 514, 64, 0]);
  });

  it("turns '%%' into '%' in check_cmd (URLs)", () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_cmd = /bin/echo http://127.0.0.1/health?q=a%%20b%%2F') });
    const cmd = compileTree(tree).services[0]?.checkCmd;
    expect(cmd?.argv).toEqual(['/bin/echo', 'http://127.0.0.1/health?q=a%20b%2F']);
    expect(cmd?.text).toBe('/bin/echo http://127.0.0.1/health?q=a%20b%2F');
  });

  it('expands %(name)s from [DEFAULT] and from the same section', () => {
    const tree = writeTree({
      '00-defaults.conf': '[DEFAULT]\ncurl = /bin/echo --fail --silent\nnet = 10.52.12\n',
      'web.conf': '[web]\nport = 8080\ncheck_cmd = %(curl)s http://%(net)s.1:%(port)s/\nip_prefix = %(net)s.1\ncheck_disabled = false\n',
    });
    const s = compileTree(tree).services[0];
    expect(s?.checkCmd.argv).toEqual(['/bin/echo', '--fail', '--silent', 'http://10.52.12.1:8080/']);
    expect(s?.prefixes.map((p) => p.prefix)).toEqual(['10.52.12.1/32']);
  });

  it('lets a section override a [DEFAULT] value that another option refers to', () => {
    const tree = writeTree({
      '00-defaults.conf': '[DEFAULT]\nhost = default.example\n',
      'web.conf': service('web', 'host = web.example', 'check_cmd = /bin/echo %(host)s'),
    });
    expect(compileTree(tree).services[0]?.checkCmd.argv).toEqual(['/bin/echo', 'web.example']);
  });

  it('accepts a [DEFAULT] check_cmd that refers to an option only the services define', () => {
    // [daemon] inherits check_cmd but never reads it, so %(vip)s need not exist there (Python agrees).
    const tree = writeTree({
      '00-defaults.conf': '[DEFAULT]\ncheck_cmd = /bin/echo http://%(vip)s/\n',
      'web.conf': '[web]\nvip = 10.52.12.1\nip_prefix = %(vip)s/32\ncheck_disabled = false\n',
    });
    const s = compileTree(tree).services[0];
    expect([s?.checkCmd.argv, s?.prefixes[0]?.prefix]).toEqual([['/bin/echo', 'http://10.52.12.1/'], '10.52.12.1/32']);
  });

  it('still refuses that reference in a service that lacks the option', () => {
    const tree = writeTree({
      '00-defaults.conf': '[DEFAULT]\ncheck_cmd = /bin/echo http://%(vip)s/\n',
      'web.conf': '[web]\nip_prefix = 10.52.12.1/32\n',
    });
    expectConfigError(() => compileTree(tree), 'AHC_INI_INTERPOLATION_MISSING', [
      `${tree.service('00-defaults.conf')}:2`,
      '[web] check_cmd',
      'vip',
    ]);
  });

  it("ignores a lone '%' in an option the daemon does not read, as the Python daemon does", () => {
    const tree = writeTree({ 'web.conf': service('web', 'description = 100% uptime') }, {}, 'note = 50% done\n');
    expect(compileTree(tree).services.map((s) => s.name)).toEqual(['web']);
  });

  it('joins continuation lines into one value', () => {
    const tree = writeTree({
      'web.conf':
        '[web]\ncheck_cmd = /bin/echo\n    --fail\n    # a comment inside the value\n    http://10.52.12.1/\nip_prefix = 10.52.12.1\ncheck_disabled = false\n',
    });
    expect(compileTree(tree).services[0]?.checkCmd.argv).toEqual(['/bin/echo', '--fail', 'http://10.52.12.1/']);
  });

  it("accepts ':' as the separator, and the first separator ends the name", () => {
    const tree = writeTree({
      'web.conf': '[web]\ncheck_cmd: /bin/echo http://10.52.12.1:80/\nip_prefix: 10.52.12.1/32\ncheck_disabled: false\n',
    });
    expect(compileTree(tree).services[0]?.checkCmd.argv).toEqual(['/bin/echo', 'http://10.52.12.1:80/']);
  });

  it('keeps inline ; and # as part of the value', () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_cmd = /bin/echo http://10.52.12.1/a;b#c ; #d') });
    const cmd = compileTree(tree).services[0]?.checkCmd;
    expect(cmd?.text).toBe('/bin/echo http://10.52.12.1/a;b#c ; #d');
    expect(cmd?.argv.slice(0, 3)).toEqual(['/bin/echo', 'http://10.52.12.1/a;b#c', ';']);
  });

  it('reads option names in any case, but section names as written', () => {
    const tree = writeTree(
      {
        'web.conf': '[web]\nCheck_Cmd = /bin/true\nIP_PREFIX = 10.52.12.1\nCHECK_DISABLED = False\n',
        'Web.conf': '[Web]\ncheck_cmd = /bin/true\nip_prefix = 10.52.12.2\n',
      },
      { IPv6: 'TRUE' },
    );
    const config = compileTree(tree);
    expect(config.services.map((s) => [s.name, s.prefixes[0]?.prefix, s.disabled])).toEqual([
      ['Web', '10.52.12.2/32', true],
      ['web', '10.52.12.1/32', false],
    ]);
    expect(config.daemon.ipv6).toBe(true);
  });
});

describe('files of the service directory', () => {
  it('merges the files in sorted order, a later file overriding an earlier one', () => {
    const root = writeTree({});
    // Written in reverse order, so directory order and creation order differ from sorted order.
    writeFileSync(root.service('30-last.conf'), '[web]\ncheck_interval = 30\n');
    writeFileSync(root.service('20-mid.conf'), '[web]\ncheck_interval = 20\ncheck_rise = 4\n');
    writeFileSync(root.service('10-first.conf'), `${GOOD_SERVICE}check_interval = 10\ncheck_rise = 3\n`);
    const config = compileTree(root);
    expect(config.files).toEqual([root.file, root.service('10-first.conf'), root.service('20-mid.conf'), root.service('30-last.conf')]);
    expect(config.services.map((s) => [s.name, s.intervalMs, s.rise])).toEqual([['web', 30_000, 4]]);
  });

  it('lets a service file override [daemon] options of the daemon file', () => {
    const tree = writeTree({ 'web.conf': GOOD_SERVICE, 'zz-daemon.conf': '[daemon]\nloglevel = error\n' }, { loglevel: 'info' });
    expect(compileTree(tree).daemon.logging.level).toBe('error');
  });

  it('accepts the same section in two files, but not twice in one', () => {
    const tree = writeTree({ 'a.conf': GOOD_SERVICE, 'b.conf': '[web]\ncheck_fail = 5\n' });
    expect(compileTree(tree).services[0]?.fail).toBe(5);
  });

  it('reads only *.conf files, skipping hidden ones like a shell glob does', () => {
    const bad = '[broken\nthis is not INI at all\n';
    const tree = writeTree({
      'web.conf': GOOD_SERVICE,
      'web.conf.bak': bad,
      'web.conf~': bad,
      README: bad,
      'web.conf.dpkg-dist': bad,
      '.web.conf.swp': bad,
      '.hidden.conf': bad,
    });
    mkdirSync(tree.service('directory.conf'));
    const config = compileTree(tree);
    expect(config.files).toEqual([tree.file, tree.service('web.conf')]);
  });

  it('reads an empty service directory as zero services', () => {
    const tree = writeTree({});
    expect(compileTree(tree).services).toEqual([]);
  });

  it('reads only the -F file when given instead of -d', () => {
    const tree = writeTree({ 'web.conf': GOOD_SERVICE, 'db.conf': service('db', 'ip_prefix = 10.52.12.2') });
    const config = compileSources({ file: tree.file, serviceFile: tree.service('db.conf') });
    expect(config.services.map((s) => s.name)).toEqual(['db']);
    expect(config.files).toEqual([tree.file, tree.service('db.conf')]);
  });

  it('compiles to a frozen configuration with seconds turned into milliseconds', () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_interval = 0.5', 'check_timeout = 0.25') });
    const config = compileTree(tree);
    expect(Object.isFrozen(config.services[0])).toBe(true);
    expect([config.services[0]?.intervalMs, config.services[0]?.timeoutMs]).toEqual([500, 250]);
  });
});

describe('compiling without the filesystem checks', () => {
  it('skips program and directory checks when asked (unit tests of other packages)', () => {
    const tree = writeTree({ 'web.conf': service('web', 'check_cmd = /nonexistent/check') }, { pidfile: '/nonexistent-ahc-dir/ahc.pid' });
    const { document, files } = loadConfigDocument(sourcesOf(tree));
    expect(compileConfig(document, files, { filesystem: false }).services[0]?.checkCmd.argv).toEqual(['/nonexistent/check']);
  });
});
