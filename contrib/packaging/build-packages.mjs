#!/usr/bin/env node
// Builds the .deb and the .rpm of anycast-healthchecker into dist/packages/ (`pnpm run package`).
//
//   node contrib/packaging/build-packages.mjs [--out-dir DIR] [--format deb,rpm] [--skip-build]
//
// 1. bundles the program (apps/anycast-healthchecker/scripts/build.mjs: dist/main.mjs and
//    dist/check-worker.mjs, self-contained, so nothing is downloaded at install time);
// 2. stages one file tree (the layout is the table files() below), shared by both formats;
// 3. .deb: adds DEBIAN/ (control, conffiles, md5sums, maintainer scripts from deb/) and runs
//    `dpkg-deb --root-owner-group --build`;
// 4. .rpm: fills in rpm/anycast-healthchecker.spec.in and runs `rpmbuild -bb` on the staged tree.
//
// Needs dpkg-deb (.deb) and rpmbuild (.rpm; on Debian: apt-get install rpm). Environment:
// AHC_PACKAGE_RELEASE (default 1), AHC_PACKAGER ("Name <mail>"), SOURCE_DATE_EPOCH.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';

const NAME = 'anycast-healthchecker';
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const app = join(repo, 'apps', NAME);

const { values: opts } = parseArgs({
  options: {
    'out-dir': { type: 'string', default: join(repo, 'dist', 'packages') },
    format: { type: 'string', default: 'deb,rpm' },
    'skip-build': { type: 'boolean', default: false },
    'keep-stage': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  process.stdout.write('usage: build-packages.mjs [--out-dir DIR] [--format deb,rpm] [--skip-build] [--keep-stage]\n');
  process.exit(0);
}
const formats = new Set(
  opts.format
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== ''),
);

const appPkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
const VERSION = appPkg.version;
const RELEASE = process.env.AHC_PACKAGE_RELEASE ?? '1';
const PACKAGER = process.env.AHC_PACKAGER ?? 'anycast-healthchecker maintainers <anycast-healthchecker@localhost>';
const EPOCH = Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000));
const outDir = resolve(opts['out-dir']);

class BuildError extends Error {}

/** Stop the build: the message is printed and the exit code is 1 (temporary files are removed). */
function fail(message) {
  throw new BuildError(message);
}

function have(tool) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(cmd, args, options = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
  } catch (error) {
    fail(`${cmd} ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
  }
}

// 2. The staged tree: [source (repo-relative) or {text} or {gzip}, destination, mode].
const DOC = `usr/share/doc/${NAME}`;
// A function, not a constant: the man page, docs and the copyright file (which lists what esbuild
// bundled) are read after step 1 has built the program.
const files = () => [
  [`apps/${NAME}/dist/main.mjs`, `usr/lib/${NAME}/main.mjs`, 0o644],
  [`apps/${NAME}/dist/check-worker.mjs`, `usr/lib/${NAME}/check-worker.mjs`, 0o644],
  [{ text: `${JSON.stringify(runtimePackageJson(), null, 2)}\n` }, `usr/lib/${NAME}/package.json`, 0o644],
  ['contrib/packaging/anycast-healthchecker.sh', `usr/bin/${NAME}`, 0o755],
  ['contrib/config/anycast-healthchecker.conf', `etc/${NAME}.conf`, 0o644],
  ['contrib/systemd/anycast-healthchecker.service', `usr/lib/systemd/system/${NAME}.service`, 0o644],
  ['contrib/systemd/anycast-healthchecker.sysusers', `usr/lib/sysusers.d/${NAME}.conf`, 0o644],
  ['contrib/systemd/anycast-healthchecker.tmpfiles', `usr/lib/tmpfiles.d/${NAME}.conf`, 0o644],
  ['contrib/nagios/check_anycast_healthchecker', 'usr/lib/nagios/plugins/check_anycast_healthchecker', 0o755],
  [{ gzip: manPage() }, `usr/share/man/man8/${NAME}.8.gz`, 0o644],
  ['README.md', `${DOC}/README.md`, 0o644],
  ['LICENSE', `${DOC}/LICENSE`, 0o644],
  [{ text: copyrightFile() }, `${DOC}/copyright`, 0o644],
  ...readdirSync(join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => [`docs/${f}`, `${DOC}/${f}`, 0o644]),
  ['contrib/config/example-service.conf', `${DOC}/examples/anycast-healthchecker.d/foo.example.com.conf`, 0o644],
  ['contrib/bird/bird2.conf', `${DOC}/examples/bird/bird2.conf`, 0o644],
  ['contrib/bird/bird1/bird.conf', `${DOC}/examples/bird/bird1/bird.conf`, 0o644],
  ['contrib/bird/bird1/bird6.conf', `${DOC}/examples/bird/bird1/bird6.conf`, 0o644],
  ['contrib/grafana/anycast-healthchecker.json', `${DOC}/examples/grafana/anycast-healthchecker.json`, 0o644],
];
// Directories the package owns (ownership healthchecker is set by the postinst / %attr).
const DIRS = [`etc/${NAME}.d`, `var/lib/${NAME}`, `var/lib/${NAME}/6`, `var/log/${NAME}`];
const DEB_ONLY = [
  ['contrib/sysvinit/anycast-healthchecker', `etc/init.d/${NAME}`, 0o755],
  ['contrib/sysvinit/anycast-healthchecker.logrotate', `etc/logrotate.d/${NAME}`, 0o644],
];
// RPM distributions boot with systemd: the SysV script is only an example there.
const RPM_ONLY = [
  ['contrib/sysvinit/anycast-healthchecker', `${DOC}/examples/sysvinit/${NAME}`, 0o644],
  ['contrib/sysvinit/anycast-healthchecker.logrotate', `${DOC}/examples/sysvinit/${NAME}.logrotate`, 0o644],
];
const CONFFILES = [`/etc/${NAME}.conf`, `/etc/init.d/${NAME}`, `/etc/logrotate.d/${NAME}`];

function runtimePackageJson() {
  return {
    name: NAME,
    version: VERSION,
    description: appPkg.description,
    license: 'Apache-2.0',
    private: true,
    type: 'module',
    main: 'main.mjs',
    engines: { node: '>=20.19' },
  };
}

function manPage() {
  return readFileSync(join(repo, 'docs', `${NAME}.8`), 'utf8').replaceAll('@VERSION@', VERSION);
}

/** The npm packages esbuild put into the bundles, from the source maps, with their licenses. */
function bundledPackages() {
  const found = new Map();
  for (const bundle of ['main.mjs.map', 'check-worker.mjs.map']) {
    const mapFile = join(app, 'dist', bundle);
    if (!existsSync(mapFile)) continue;
    const map = JSON.parse(readFileSync(mapFile, 'utf8'));
    for (const source of map.sources ?? []) {
      const m = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(source);
      if (m === null) continue;
      const pkgDir = resolve(dirname(mapFile), m[1]);
      if (found.has(pkgDir)) continue;
      try {
        const p = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
        found.set(pkgDir, { name: p.name, version: p.version, license: typeof p.license === 'string' ? p.license : 'see the package' });
      } catch {
        found.set(pkgDir, { name: m[2], version: '?', license: 'unknown' });
      }
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function copyrightFile() {
  const bundled = bundledPackages();
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    `Upstream-Name: ${NAME}`,
    '',
    'Files: *',
    'Copyright: anycast-healthchecker contributors',
    'License: Apache-2.0',
    ' See /usr/share/doc/anycast-healthchecker/LICENSE (on Debian also',
    ' /usr/share/common-licenses/Apache-2.0).',
    '',
    `Files: usr/lib/${NAME}/main.mjs usr/lib/${NAME}/check-worker.mjs`,
    "Comment: esbuild bundles. Besides this project's code they contain these npm packages,",
    ' each under its own license (all permissive):',
    ...bundled.map((p) => ` ${p.name} ${p.version}: ${p.license}`),
    '',
  ].join('\n');
}

function stage(root, entries) {
  for (const dir of DIRS) mkdirSync(join(root, dir), { recursive: true });
  for (const [source, dest, mode] of entries) {
    const target = join(root, dest);
    mkdirSync(dirname(target), { recursive: true });
    if (typeof source === 'string') {
      if (!existsSync(join(repo, source))) fail(`${source} is missing`);
      cpSync(join(repo, source), target);
    } else if ('text' in source) {
      writeFileSync(target, source.text);
    } else {
      writeFileSync(target, gzipSync(source.gzip, { level: 9 }));
    }
    chmodSync(target, mode);
  }
}

function walk(root, dir = root) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(root, p));
    else out.push(relative(root, p));
  }
  return out;
}

function duKiB(dir) {
  let bytes = 0;
  for (const f of walk(dir)) bytes += statSync(join(dir, f)).size;
  return Math.ceil(bytes / 1024) + DIRS.length;
}

function buildDeb(work) {
  const root = join(work, 'deb');
  stage(root, [...files(), ...DEB_ONLY]);
  const paths = walk(root);
  const debian = join(root, 'DEBIAN');
  mkdirSync(debian);
  const control = [
    `Package: ${NAME}`,
    `Version: ${VERSION}-${RELEASE}`,
    'Architecture: all',
    `Maintainer: ${PACKAGER}`,
    `Installed-Size: ${duKiB(root)}`,
    // 20.19 so that it installs on Debian 13's nodejs; the tested runtime is Node.js 24 (docs/operations.md).
    'Depends: nodejs (>= 20.19), adduser, iproute2',
    'Recommends: bird2 | bird',
    'Suggests: monitoring-plugins-basic | nagios-plugins-basic, prometheus-node-exporter',
    'Section: net',
    'Priority: optional',
    `Description: ${appPkg.description.split(' (')[0].replace(/\.$/, '')}`,
    ' anycast-healthchecker runs a health check for every service configured on this',
    " host and keeps BIRD advertising a service's IP prefix (over BGP or OSPF) only",
    ' while the service is healthy, so traffic leaves a broken node within seconds.',
    ' .',
    ' A drop-in replacement for the Python anycast-healthchecker 0.9.x: the same command',
    ' line, configuration files and BIRD include files. Each check runs in a worker',
    ' thread supervised by a watchdog; failed BIRD reconfigurations are retried until',
    ' applied; a status socket and a Nagios plugin report the state of every check.',
    '',
  ].join('\n');
  writeFileSync(join(debian, 'control'), control);
  writeFileSync(join(debian, 'conffiles'), `${CONFFILES.join('\n')}\n`);
  const conf = new Set(CONFFILES.map((c) => c.slice(1)));
  const md5 = paths
    .filter((f) => !conf.has(f))
    .map(
      (f) =>
        `${createHash('md5')
          .update(readFileSync(join(root, f)))
          .digest('hex')}  ${f}`,
    );
  writeFileSync(join(debian, 'md5sums'), `${md5.join('\n')}\n`);
  for (const script of ['postinst', 'prerm', 'postrm']) {
    cpSync(join(here, 'deb', script), join(debian, script));
    chmodSync(join(debian, script), 0o755);
  }
  const deb = join(outDir, `${NAME}_${VERSION}-${RELEASE}_all.deb`);
  run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb], { env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
  return deb;
}

function buildRpm(work) {
  const root = join(work, 'rpm-stage');
  stage(root, [...files(), ...RPM_ONLY]);
  mkdirSync(join(root, 'run', NAME), { recursive: true }); // %ghost: owned, not shipped
  const sysusers = readFileSync(join(repo, 'contrib', 'systemd', 'anycast-healthchecker.sysusers'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .join('\n');
  const date = new Date(EPOCH * 1000).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+).*$/, '$1 $3 $2 $4');
  const spec = readFileSync(join(here, 'rpm', `${NAME}.spec.in`), 'utf8')
    .replaceAll('@VERSION@', VERSION.replaceAll('-', '~'))
    .replaceAll('@RELEASE@', RELEASE)
    .replaceAll('@PACKAGER@', PACKAGER)
    .replaceAll('@DATE@', date)
    .replaceAll('@SYSUSERS@', sysusers);
  const specFile = join(work, `${NAME}.spec`);
  writeFileSync(specFile, spec);
  run(
    'rpmbuild',
    [
      '-bb',
      '--quiet',
      '--define',
      `_topdir ${join(work, 'rpmbuild')}`,
      '--define',
      `_rpmdir ${outDir}`,
      '--define',
      '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm',
      '--define',
      `ahc_stage ${root}`,
      '--define',
      `_buildhost ${NAME}-build`,
      '--define',
      'use_source_date_epoch_as_buildtime 1',
      '--define',
      'clamp_mtime_to_source_date_epoch 1',
      specFile,
    ],
    { env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } },
  );
  return join(outDir, `${NAME}-${VERSION.replaceAll('-', '~')}-${RELEASE}.noarch.rpm`);
}

function main() {
  for (const f of formats) if (f !== 'deb' && f !== 'rpm') fail(`unknown format ${f} (deb, rpm)`);
  // Check the tools first: a missing rpmbuild should not be found after the rest of the work.
  if (formats.has('deb') && !have('dpkg-deb')) fail('dpkg-deb not found (Debian: part of dpkg)');
  if (formats.has('rpm') && !have('rpmbuild')) fail('rpmbuild not found (Debian: apt-get install rpm; Fedora: dnf install rpm-build)');
  // 1. The program.
  if (!opts['skip-build']) run(process.execPath, [join(app, 'scripts', 'build.mjs')], { cwd: app });
  for (const f of ['main.mjs', 'check-worker.mjs']) {
    if (!existsSync(join(app, 'dist', f))) fail(`apps/${NAME}/dist/${f} is missing: build the program first`);
  }
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'ahc-package-'));
  try {
    const built = [];
    if (formats.has('deb')) built.push(buildDeb(work));
    if (formats.has('rpm')) built.push(buildRpm(work));
    for (const b of built) {
      if (!existsSync(b)) fail(`expected ${b} was not produced`);
      const rel = relative(process.cwd(), b);
      process.stdout.write(`${rel.startsWith('..') ? b : rel}\n`);
    }
  } finally {
    if (opts['keep-stage']) process.stderr.write(`staged trees kept in ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  if (!(error instanceof BuildError)) throw error;
  process.stderr.write(`build-packages: ${error.message}\n`);
  process.exitCode = 1;
}
