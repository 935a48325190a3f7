// The arm64 .deb, started once on this x86_64 machine under qemu-user: its bundled node (the
// pinned Node.js for arm64) runs the packaged program, `-v` names the version and the Node.js,
// and `-c` accepts the example configuration; ahc-spawn is an aarch64 binary that runs too.
// The package is built the same way as the amd64 one, with the cross compiler for ahc-spawn.
//
// Needs qemu-aarch64-static (qemu-user-static), the arm64 C and C++ runtime libraries
// (libc6-arm64-cross, libstdc++6-arm64-cross: /usr/aarch64-linux-gnu) and gcc-aarch64-linux-gnu.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '../helpers/exec.js';
import { HOST_ARCH, PINNED_NODE, VERSION, buildPackage, packagingSkipReason } from './packaging-env.js';

const SYSROOT = '/usr/aarch64-linux-gnu';

function skipReasonOf(): string | null {
  const base = packagingSkipReason({ tools: ['dpkg-deb', 'qemu-aarch64-static', 'aarch64-linux-gnu-gcc'] });
  if (base !== null) return base;
  if (HOST_ARCH !== 'amd64') return `this test runs the arm64 package on an amd64 machine; this one is ${HOST_ARCH}`;
  for (const lib of ['lib/libc.so.6', 'lib/libstdc++.so.6']) {
    if (!existsSync(join(SYSROOT, lib))) return `${SYSROOT}/${lib} is missing (apt-get install libc6-arm64-cross libstdc++6-arm64-cross)`;
  }
  return null;
}

const skipReason = skipReasonOf();
if (skipReason !== null) console.warn(`skipping the arm64 package tests: ${skipReason}`);

describe.skipIf(skipReason !== null)(`the arm64 .deb under qemu-user${skipReason === null ? '' : ` (skipped: ${skipReason})`}`, () => {
  let deb = '';
  let tree = '';
  const lib = (): string => join(tree, 'usr', 'lib', 'anycast-healthchecker');
  const qemu = (argv: string[]) => exec(['qemu-aarch64-static', '-L', SYSROOT, ...argv], { timeoutMs: 120_000, allowFailure: true });
  // the wrapper's command line, with the unpacked tree instead of /usr/lib/anycast-healthchecker
  const program = (...args: string[]) =>
    qemu([join(lib(), 'node'), '--jitless', '--lite-mode', '--max-semi-space-size=1', join(lib(), 'main.mjs'), ...args]);

  beforeAll(async () => {
    deb = await buildPackage('deb', { arch: 'arm64' });
    tree = mkdtempSync(join(tmpdir(), 'ahc-arm64-'));
    await exec(['dpkg-deb', '-x', deb, tree], { timeoutMs: 60_000 });
  }, 120_000);
  afterAll(() => {
    if (deb !== '') rmSync(dirname(deb), { recursive: true, force: true });
    if (tree !== '') rmSync(tree, { recursive: true, force: true });
  });

  it('is an arm64 package whose node, ahc-spawn and ahc-release-pages.node are aarch64 binaries', async () => {
    expect((await exec(['dpkg-deb', '-f', deb, 'Architecture'])).stdout.trim()).toBe('arm64');
    for (const f of ['node', 'ahc-spawn', 'ahc-release-pages.node']) {
      const elf = readFileSync(join(lib(), f)).subarray(0, 20);
      expect(elf.readUInt32BE(0), f).toBe(0x7f454c46);
      expect(elf.readUInt16LE(18), `${f}: e_machine`).toBe(183); // EM_AARCH64
    }
    // the wrapper is the same for every architecture
    expect(readFileSync(join(tree, 'usr', 'bin', 'anycast-healthchecker'), 'utf8')).toContain('exec /usr/lib/anycast-healthchecker/node ');
  });

  it('its node runs the program: -v prints the version and the pinned Node.js', async () => {
    const node = await qemu([join(lib(), 'node'), '-p', 'process.arch + " " + process.version']);
    expect(node.stdout.trim()).toBe(`arm64 v${PINNED_NODE}`);
    const r = await program('-v');
    expect({ code: r.code, stdout: r.stdout.trim(), stderr: r.stderr }).toEqual({
      code: 0,
      stdout: `${VERSION} (Node.js ${PINNED_NODE})`,
      stderr: '',
    });
  }, 120_000);

  it('-c accepts the packaged example service check with the shipped daemon settings', async () => {
    const work = mkdtempSync(join(tmpdir(), 'ahc-arm64-conf-'));
    try {
      // the shipped /etc/anycast-healthchecker.conf, its directories moved under work/
      const conf = readFileSync(join(tree, 'etc', 'anycast-healthchecker.conf'), 'utf8')
        .replaceAll('/run/anycast-healthchecker', join(work, 'run'))
        .replaceAll('/var/lib/anycast-healthchecker', join(work, 'lib'))
        .replaceAll('/var/log/anycast-healthchecker', join(work, 'log'));
      for (const d of ['run', 'lib', 'lib/6', 'log', 'checks']) mkdirSync(join(work, d));
      writeFileSync(join(work, 'daemon.conf'), conf);
      const example = readFileSync(
        join(tree, 'usr/share/doc/anycast-healthchecker/examples/anycast-healthchecker.d/foo.example.com.conf'),
        'utf8',
      );
      // its check_cmd is curl, which this machine may lack: -c checks that the program exists
      writeFileSync(
        join(work, 'checks', 'foo.conf'),
        example.replace(/^check_cmd = \/usr\/bin\/curl /m, `check_cmd = ${join(work, 'curl')} `),
      );
      writeFileSync(join(work, 'curl'), '#!/bin/sh\nexit 0\n');
      chmodSync(join(work, 'curl'), 0o755);
      const r = await program('-c', '-f', join(work, 'daemon.conf'), '-d', join(work, 'checks'));
      expect({ code: r.code, out: `${r.stdout}${r.stderr}`.trim() }).toEqual({ code: 0, out: 'OK' });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);

  it('its ahc-spawn starts under qemu (dynamic linking, its first system calls) and leaves when the pid given is not its parent', async () => {
    // argv[1] is the daemon's pid; when that is not the parent, the helper exits 0 at once
    const r = await qemu([join(lib(), 'ahc-spawn'), '1']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  }, 60_000);

  it('its node loads ahc-release-pages.node under qemu, and the addon releases pages of that node', async () => {
    const script = `const m={exports:{}};process.dlopen(m,${JSON.stringify(join(lib(), 'ahc-release-pages.node'))});process.stdout.write(JSON.stringify(m.exports.releaseStartupPages()))`;
    const r = await qemu([join(lib(), 'node'), '--jitless', '-e', script]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const outcome = JSON.parse(r.stdout) as { releasedKiB: number; mappings: number };
    expect(outcome.mappings).toBeGreaterThanOrEqual(1);
    expect(outcome.releasedKiB).toBeGreaterThan(1024);
  }, 60_000);
});
