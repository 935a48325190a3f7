#!/usr/bin/env node
// Builds the .deb and the .rpm of anycast-healthchecker into dist/packages/ (`pnpm run package`),
// one per architecture, each carrying its own Node.js runtime (docs/operations.md).
//
//   node contrib/packaging/build-packages.mjs [--out-dir DIR] [--format deb,rpm] [--arch amd64,arm64] [--skip-build]
//
// 1. bundles the program (apps/anycast-healthchecker/scripts/build.mjs: dist/main.mjs and
//    dist/check-worker.mjs, self-contained, so nothing is downloaded at install time);
// 2. per architecture: the pinned Node.js of contrib/runtime/versions, fetched (sha512-checked)
//    by contrib/runtime/ensure-node --arch, and ahc-spawn compiled for it (a cross compiler for
//    the other architecture: gcc-aarch64-linux-gnu on an x86_64 machine);
// 3. stages one file tree (the layout is the table files() below), shared by both formats;
// 4. .deb: adds DEBIAN/ (control, conffiles, md5sums, maintainer scripts from deb/) and runs
//    `dpkg-deb --root-owner-group --build`;
// 5. .rpm: fills in rpm/anycast-healthchecker.spec.in and runs `rpmbuild -bb --target` on the
//    staged tree.
//
// Version, maintainer and change history: the top entry of contrib/packaging/changelog.
// Needs dpkg-deb (.deb), rpmbuild (.rpm; on Debian: apt-get install rpm), objdump (binutils).
// Environment: AHC_PACKAGER ("Name <mail>", instead of the changelog's), SOURCE_DATE_EPOCH,
// AHC_PACKAGE_VERSION=0.0.9-1 (a test build under another version, with a changelog entry
// saying so), AHC_CC_AMD64 / AHC_CC_ARM64 (the C compiler for that architecture).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { buildReleasePages, buildSpawnHelper } from '../../packages/spawn-helper/scripts/build.mjs';

const NAME = 'anycast-healthchecker';
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const app = join(repo, 'apps', NAME);

const { values: opts } = parseArgs({
  options: {
    'out-dir': { type: 'string', default: join(repo, 'dist', 'packages') },
    format: { type: 'string', default: 'deb,rpm' },
    arch: { type: 'string', default: hostArch() },
    'skip-build': { type: 'boolean', default: false },
    // gzip -1 instead of xz: the same content, built in seconds instead of a minute (the tests)
    fast: { type: 'boolean', default: false },
    'keep-stage': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  process.stdout.write(
    "usage: build-packages.mjs [--out-dir DIR] [--format deb,rpm] [--arch amd64,arm64 (default: this machine's)] [--skip-build] [--fast] [--keep-stage]\n",
  );
  process.exit(0);
}
const formats = new Set(
  opts.format
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== ''),
);

const appPkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));

class BuildError extends Error {}
// A BuildError before main() (the changelog, the versions file): the message alone, exit 1.
process.on('uncaughtException', (error) => {
  process.stderr.write(error instanceof BuildError ? `build-packages: ${error.message}\n` : `${error.stack ?? error}\n`);
  process.exit(1);
});

/** The architectures a package is built for: Debian's name → what the other tools call it. */
const ARCHES = {
  amd64: { node: 'x64', rpm: 'x86_64', gnu: 'x86_64-linux-gnu', elfMachine: 62 },
  arm64: { node: 'arm64', rpm: 'aarch64', gnu: 'aarch64-linux-gnu', elfMachine: 183 },
};

function hostArch() {
  return { x64: 'amd64', arm64: 'arm64' }[process.arch] ?? process.arch;
}

/** contrib/runtime/versions: KEY=VALUE lines, the one place the Node.js version is pinned. */
function pinnedRuntime() {
  const text = readFileSync(join(repo, 'contrib', 'runtime', 'versions'), 'utf8');
  const m = /^NODE_VERSION=(\S+)$/m.exec(text);
  if (m === null) throw new BuildError('contrib/runtime/versions has no NODE_VERSION= line');
  return m[1];
}
const NODE_VERSION = pinnedRuntime();

/**
 * contrib/packaging/changelog, Debian's format: the package's version history, and its top entry
 * gives the version, the release and the maintainer. Returns the entries, newest first.
 */
function readChangelog() {
  const text = readFileSync(join(here, 'changelog'), 'utf8');
  const entries = [];
  const re = /^(\S+) \(([^)]+)\) [^;]+; urgency=\w+\n\n([\s\S]*?)\n -- (.+? <[^>]+>)  (.+)$/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    entries.push({ version: m[2], body: m[3].replace(/\s+$/, ''), maintainer: m[4], date: new Date(m[5]), text: m[0] });
  }
  if (entries.length === 0) throw new BuildError('contrib/packaging/changelog has no entry in Debian changelog format');
  return entries;
}
const CHANGELOG = readChangelog();
const TOP = CHANGELOG[0];
const PACKAGER = process.env.AHC_PACKAGER ?? TOP.maintainer;
const EPOCH = Number(process.env.SOURCE_DATE_EPOCH ?? Math.floor(Date.now() / 1000));
const [VERSION, RELEASE] = (process.env.AHC_PACKAGE_VERSION ?? TOP.version).split('-');
if (RELEASE === undefined) throw new BuildError(`the package version ${VERSION} has no -release part (e.g. ${VERSION}-1)`);
if (process.env.AHC_PACKAGE_VERSION === undefined && VERSION !== appPkg.version) {
  throw new BuildError(
    `contrib/packaging/changelog's top entry is ${TOP.version} but apps/${NAME}/package.json says ${appPkg.version}: add a changelog entry for ${appPkg.version}-1`,
  );
}
if (process.env.AHC_PACKAGE_VERSION !== undefined && process.env.AHC_PACKAGE_VERSION !== TOP.version) {
  // A test build under another version (the upgrade test's "previous version"): say so.
  CHANGELOG.unshift({
    version: `${VERSION}-${RELEASE}`,
    body: `  * Test build of the ${appPkg.version} tree under version ${VERSION}-${RELEASE}\n    (AHC_PACKAGE_VERSION), for upgrade tests.`,
    maintainer: PACKAGER,
    date: new Date(EPOCH * 1000),
  });
}
const outDir = resolve(opts['out-dir']);

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
// bundled) are read after step 1 has built the program. `native` is what step 2 made for one
// architecture: { node, nodeLicense, spawnHelper, releasePages } (absolute paths).
const files = (native) => [
  [`apps/${NAME}/dist/main.mjs`, `usr/lib/${NAME}/main.mjs`, 0o644],
  [`apps/${NAME}/dist/check-worker.mjs`, `usr/lib/${NAME}/check-worker.mjs`, 0o644],
  [{ text: `${JSON.stringify(runtimePackageJson(), null, 2)}\n` }, `usr/lib/${NAME}/package.json`, 0o644],
  [native.node, `usr/lib/${NAME}/node`, 0o755],
  [native.spawnHelper, `usr/lib/${NAME}/ahc-spawn`, 0o755],
  [native.releasePages, `usr/lib/${NAME}/ahc-release-pages.node`, 0o644],
  [native.nodeLicense, `${DOC}/node/LICENSE`, 0o644],
  ['contrib/packaging/anycast-healthchecker.sh', `usr/bin/${NAME}`, 0o755],
  ['contrib/config/anycast-healthchecker.conf', `etc/${NAME}.conf`, 0o644],
  ['contrib/systemd/anycast-healthchecker.service', `usr/lib/systemd/system/${NAME}.service`, 0o644],
  ['contrib/systemd/anycast-healthchecker.sysusers', `usr/lib/sysusers.d/${NAME}.conf`, 0o644],
  ['contrib/systemd/anycast-healthchecker.tmpfiles', `usr/lib/tmpfiles.d/${NAME}.conf`, 0o644],
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
const DEB_ONLY = () => [
  ['contrib/sysvinit/anycast-healthchecker', `etc/init.d/${NAME}`, 0o755],
  ['contrib/sysvinit/anycast-healthchecker.logrotate', `etc/logrotate.d/${NAME}`, 0o644],
  ['contrib/nagios/check_anycast_healthchecker', 'usr/lib/nagios/plugins/check_anycast_healthchecker', 0o755],
  [{ gzip: debianChangelog() }, `${DOC}/changelog.Debian.gz`, 0o644],
  ['contrib/packaging/deb/lintian-overrides', `usr/share/lintian/overrides/${NAME}`, 0o644],
];
// RPM distributions boot with systemd: the SysV script is only an example there. Fedora and RHEL
// keep Nagios plugins in %{_libdir} (lib64 on both x86_64 and aarch64).
const RPM_ONLY = () => [
  ['contrib/sysvinit/anycast-healthchecker', `${DOC}/examples/sysvinit/${NAME}`, 0o644],
  ['contrib/sysvinit/anycast-healthchecker.logrotate', `${DOC}/examples/sysvinit/${NAME}.logrotate`, 0o644],
  ['contrib/nagios/check_anycast_healthchecker', 'usr/lib64/nagios/plugins/check_anycast_healthchecker', 0o755],
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
    // the runtime beside it (./node), the one the package was built and tested with
    engines: { node: NODE_VERSION },
  };
}

function debianChangelog() {
  return `${CHANGELOG.map(
    (e) => `${NAME} (${e.version}) stable; urgency=medium\n\n${e.body}\n\n -- ${e.maintainer}  ${rfc2822(e.date)}\n`,
  ).join('\n')}`;
}

function rfc2822(date) {
  return date.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) (\S+) GMT$/, '$1, $2 $3 $4 $5 +0000');
}

/** The changelog as RPM's %changelog ("* Tue Dec 01 2026 Name <mail> - 0.1.0-1" then "- item"). */
function rpmChangelog() {
  return CHANGELOG.map((e) => {
    const d = e.date.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+).*$/, '$1 $3 $2 $4');
    const items = e.body
      .split(/\n\s*\*\s+/)
      .map((i) =>
        i
          .replace(/^\s*\*\s+/, '')
          .replace(/\s+/g, ' ')
          .trim(),
      )
      .filter((i) => i !== '');
    return `* ${d} ${e.maintainer} - ${e.version.replace(/^([^-]+)/, (v) => v.replaceAll('-', '~'))}\n${items.map((i) => `- ${i}`).join('\n')}`;
  }).join('\n\n');
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
  const year = new Date(EPOCH * 1000).getUTCFullYear();
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    `Upstream-Name: ${NAME}`,
    '',
    'Files: *',
    `Copyright: 2025-${year} anycast-healthchecker contributors`,
    'License: Apache-2.0',
    '',
    `Files: usr/lib/${NAME}/main.mjs usr/lib/${NAME}/check-worker.mjs`,
    `Copyright: 2025-${year} anycast-healthchecker contributors, and the authors of the bundled npm packages`,
    'License: Apache-2.0 and others',
    " esbuild bundles. Besides this project's code they contain these npm packages,",
    ' each under its own license (all permissive):',
    ...bundled.map((p) => ` ${p.name} ${p.version}: ${p.license}`),
    '',
    `Files: usr/lib/${NAME}/node`,
    'Copyright: Node.js contributors, and the authors of the libraries it contains',
    'License: MIT and others',
    ` Node.js ${NODE_VERSION}, the official Linux binary (npm package node-linux-<arch>).`,
    ' Its license and those of the libraries inside it (V8, libuv, OpenSSL, ICU, zlib',
    ` and more) are in /usr/share/doc/${NAME}/node/LICENSE.`,
    '',
    'License: Apache-2.0',
    ` The full text is in /usr/share/doc/${NAME}/LICENSE (on Debian also`,
    ' /usr/share/common-licenses/Apache-2.0).',
    '',
  ].join('\n');
}

/** The file's ELF machine (e_machine), or null when it is not an ELF file. */
function elfMachine(file) {
  const b = readFileSync(file).subarray(0, 20);
  if (b.length < 20 || b.readUInt32BE(0) !== 0x7f454c46) return null;
  return b.readUInt16LE(18);
}

/** The highest GLIBC_x.y symbol version the binaries need: the libc6 (>= x.y) of the .deb. */
function glibcNeeded(binaries) {
  let best = [2, 17];
  for (const bin of binaries) {
    const out = run('objdump', ['-T', bin], { maxBuffer: 64 * 1024 * 1024 });
    for (const m of out.matchAll(/GLIBC_(\d+)\.(\d+)/g)) {
      const v = [Number(m[1]), Number(m[2])];
      if (v[0] > best[0] || (v[0] === best[0] && v[1] > best[1])) best = v;
    }
  }
  return best.join('.');
}

/** Step 2 for one architecture: the pinned node (contrib/runtime/ensure-node), ahc-spawn and ahc-release-pages.node. */
function nativeParts(arch, work) {
  const a = ARCHES[arch];
  const ensure = join(repo, 'contrib', 'runtime', 'ensure-node');
  const isHost = arch === hostArch();
  // The host's node is the one ./test/run uses; another architecture's is fetched beside it.
  run('bash', isHost ? [ensure] : [ensure, '--arch', a.node], { stdio: ['ignore', 'pipe', 'pipe'] });
  const dir = join(repo, '.runtime', `node-v${NODE_VERSION}-linux-${a.node}`);
  const node = join(dir, 'bin', 'node');
  if (elfMachine(node) !== a.elfMachine) fail(`${node} is not a ${arch} binary`);
  const cc = process.env[`AHC_CC_${arch.toUpperCase()}`] ?? (isHost ? (process.env.CC ?? 'cc') : `${a.gnu}-gcc`);
  if (!have(cc)) {
    fail(
      `cannot build ahc-spawn for ${arch}: the C compiler ${cc} is not installed` +
        (isHost ? ' (apt-get install gcc libc6-dev)' : ` (Debian: apt-get install gcc-${a.gnu}), or set AHC_CC_${arch.toUpperCase()}`),
    );
  }
  const spawnHelper = join(work, `ahc-spawn-${arch}`);
  const releasePages = join(work, `ahc-release-pages-${arch}.node`);
  const previousCc = process.env.CC;
  process.env.CC = cc;
  try {
    // Static, as the package's libc6 dependency and its lintian override assume.
    if (!buildSpawnHelper(spawnHelper))
      fail(
        `ahc-spawn for ${arch} could not be linked statically: install the C library's static archive (Debian: libc6-dev${isHost ? '' : `-${arch}-cross`})`,
      );
    buildReleasePages(releasePages);
  } catch (error) {
    fail(error.message);
  } finally {
    if (previousCc === undefined) delete process.env.CC;
    else process.env.CC = previousCc;
  }
  for (const built of [spawnHelper, releasePages])
    if (elfMachine(built) !== a.elfMachine) fail(`${cc} did not produce a ${arch} binary (${built})`);
  // Debian and Fedora ship stripped binaries (debug symbols go to -dbgsym/-debuginfo packages).
  const strip = isHost ? 'strip' : `${a.gnu}-strip`;
  if (!have(strip)) fail(`${strip} not found (Debian: apt-get install binutils${isHost ? '' : `-${a.gnu}`})`);
  run(strip, ['--strip-unneeded', spawnHelper, releasePages]);
  // ahc-spawn is a static PIE (packages/spawn-helper/scripts/build.mjs); the addon links the same libc as node.
  return { node, nodeLicense: join(dir, 'LICENSE'), spawnHelper, releasePages, glibc: glibcNeeded([node, releasePages]) };
}

function stage(root, entries) {
  for (const dir of DIRS) mkdirSync(join(root, dir), { recursive: true });
  for (const [source, dest, mode] of entries) {
    const target = join(root, dest);
    mkdirSync(dirname(target), { recursive: true });
    if (typeof source === 'string') {
      const from = resolve(repo, source);
      if (!existsSync(from)) fail(`${source} is missing`);
      cpSync(from, target);
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

function buildDeb(work, arch, native) {
  const root = join(work, `deb-${arch}`);
  stage(root, [...files(native), ...DEB_ONLY()]);
  const paths = walk(root);
  const debian = join(root, 'DEBIAN');
  mkdirSync(debian);
  const control = [
    `Package: ${NAME}`,
    `Version: ${VERSION}-${RELEASE}`,
    `Architecture: ${arch}`,
    `Maintainer: ${PACKAGER}`,
    `Installed-Size: ${duKiB(root)}`,
    // What the bundled node and the addon link against (libc6 from their symbol versions; node
    // needs GLIBCXX_3.4.21 and GCC_3.x; ahc-spawn is static), iproute2 for `ip -o address show`, the
    // address watch's dumps (a minbase system has no ip). Nothing else: the unit reloads with `anycast-healthchecker reload`, no
    // /bin/kill (procps); the user is made with systemd-sysusers or useradd (passwd, Priority:
    // required), no adduser.
    `Depends: libc6 (>= ${native.glibc}), libgcc-s1 (>= 3.0), libstdc++6 (>= 5), iproute2`,
    'Recommends: bird2 | bird',
    'Suggests: monitoring-plugins-basic | nagios-plugins-basic, prometheus-node-exporter',
    'Section: net',
    'Priority: optional',
    `Description: ${appPkg.description.split(' (')[0].replace(/\.$/, '')}`,
    ' anycast-healthchecker runs a health check for every service configured on this',
    " host and keeps BIRD advertising a service's IP prefix (over BGP or OSPF) only",
    ' while the service is healthy, so traffic leaves a broken node within seconds.',
    ' .',
    ' A drop-in replacement for the Python anycast-healthchecker 0.9.x: the same',
    ' command line, configuration files and BIRD include files. Each check runs in',
    ' a worker thread supervised by a watchdog; failed BIRD reconfigurations are',
    ' retried until applied; a status socket and a Nagios plugin report the state',
    ' of every check.',
    ' .',
    ` The package carries its own Node.js ${NODE_VERSION} runtime, used by this`,
    ' program only.',
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
  const deb = join(outDir, `${NAME}_${VERSION}-${RELEASE}_${arch}.deb`);
  const compression = opts.fast ? ['-Zgzip', '-z1'] : ['-Zxz'];
  run('dpkg-deb', ['--root-owner-group', ...compression, '--build', root, deb], {
    env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) },
  });
  return deb;
}

function buildRpm(work, arch, native) {
  const rpmArch = ARCHES[arch].rpm;
  const root = join(work, `rpm-stage-${arch}`);
  stage(root, [...files(native), ...RPM_ONLY()]);
  mkdirSync(join(root, 'run', NAME), { recursive: true }); // %ghost: owned, not shipped
  const sysusers = readFileSync(join(repo, 'contrib', 'systemd', 'anycast-healthchecker.sysusers'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .join('\n');
  const spec = readFileSync(join(here, 'rpm', `${NAME}.spec.in`), 'utf8')
    .replaceAll('@VERSION@', VERSION.replaceAll('-', '~'))
    .replaceAll('@RELEASE@', RELEASE)
    .replaceAll('@PACKAGER@', PACKAGER)
    .replaceAll('@NODE_VERSION@', NODE_VERSION)
    .replaceAll('@URL@', appPkg.homepage ?? `file:///usr/share/doc/${NAME}/README.md`)
    .replaceAll('@CHANGELOG@', rpmChangelog())
    .replaceAll('@SYSUSERS@', sysusers);
  const specFile = join(work, `${NAME}-${arch}.spec`);
  writeFileSync(specFile, spec);
  run(
    'rpmbuild',
    [
      '-bb',
      '--quiet',
      '--target',
      `${rpmArch}-linux`,
      '--define',
      `_topdir ${join(work, `rpmbuild-${arch}`)}`,
      '--define',
      `_rpmdir ${outDir}`,
      '--define',
      '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm',
      '--define',
      `ahc_stage ${root}`,
      '--define',
      `_buildhost ${NAME}-build`,
      '--define',
      `_binary_payload ${opts.fast ? 'w1.gzdio' : 'w6.xzdio'}`,
      '--define',
      'use_source_date_epoch_as_buildtime 1',
      '--define',
      'clamp_mtime_to_source_date_epoch 1',
      specFile,
    ],
    { env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } },
  );
  return join(outDir, `${NAME}-${VERSION.replaceAll('-', '~')}-${RELEASE}.${rpmArch}.rpm`);
}

function main() {
  for (const f of formats) if (f !== 'deb' && f !== 'rpm') fail(`unknown format ${f} (deb, rpm)`);
  const arches = opts.arch === 'all' ? Object.keys(ARCHES) : opts.arch.split(',').map((a) => a.trim());
  for (const a of arches) if (!(a in ARCHES)) fail(`unknown architecture ${a} (${Object.keys(ARCHES).join(', ')}, or all)`);
  if (!have('objdump')) fail('objdump not found (apt-get install binutils)');
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
    for (const arch of arches) {
      const native = nativeParts(arch, work);
      if (formats.has('deb')) built.push(buildDeb(work, arch, native));
      if (formats.has('rpm')) built.push(buildRpm(work, arch, native));
    }
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
