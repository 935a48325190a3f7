// Write errors on the BIRD file, made real: a full tmpfs (ENOSPC), the tmpfs remounted read-only
// (EROFS), the file's directory renamed away (ENOENT) and, with the daemon running as `nobody`,
// a directory it may not write (EACCES). Each time the daemon must log the error with the path,
// leave the old file intact, keep checking, retry with backoff, and write the file once the
// cause is gone, without any further health transition.
import { chownSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { birdOf, isConverged, reconcilerStatus, totalChecks, waitForBird } from '../helpers/bird-status.js';
import { daemonBin, daemonSkipReason, statusLine, transitionsSince, type DaemonProcess, type LogLine } from '../helpers/daemon-process.js';
import { execSync } from '../helpers/exec.js';
import { spawnLocalDaemon, writeHealthyServices, writeLocalDaemonConfig } from '../helpers/local-daemon.js';
import { pollUntil } from '../helpers/poll.js';
import { RETRY, retryDelays, retryLine } from '../helpers/retry-lines.js';
import { parsePrefixFile } from '../helpers/prefix-file.js';
import { StatusConnection } from '../helpers/status-client.js';
import { Tmpfs, tmpfsUnavailableReason } from '../helpers/tmpfs.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = daemonBin(repoRoot);

const daemonReason = daemonSkipReason(repoRoot);
const tmpfsReason = daemonReason ?? tmpfsUnavailableReason();
const SETPRIV = '/usr/bin/setpriv';
const NOBODY = 65534;
const nobodyReason =
  daemonReason ??
  (process.getuid?.() !== 0 ? 'needs root to run the daemon as nobody' : null) ??
  (existsSync(SETPRIV) ? null : `${SETPRIV} is not installed`);
for (const [what, reason] of [
  ['tmpfs', tmpfsReason],
  ['EACCES', nobodyReason],
  ['missing directory', daemonReason],
] as const) {
  if (reason !== null) console.warn(`skipping the ${what} write-error tests: ${reason}`);
}
const skipped = (reason: string | null): string => (reason === null ? '' : ` (skipped: ${reason})`);

const SVC1 = { name: 'svc1', prefix: '10.52.40.1/32' };
const SVC2 = { name: 'svc2', prefix: '10.52.40.2/32' };
/** Backoff cap (5 s) plus room for one write, a reconfigure and the polling. */
const CONVERGE_AFTER_FIX_MS = 5_000 + 2_000;

const writeError =
  (path: string, code: string) =>
  (line: LogLine): boolean =>
    line.level === 'ERROR' && (line.message ?? '').includes(`cannot write ${path}`) && (line.message ?? '').includes(code);

interface Running {
  readonly d: DaemonProcess;
  readonly status: StatusConnection;
  readonly file: string;
  readonly healthFile: (service: string) => string;
}

/** Shared by the suites below: a daemon whose IPv4 file lives in `birdDir`, both services up. */
function daemonCases(root: () => string) {
  let daemon: DaemonProcess | undefined;
  let status: StatusConnection | undefined;
  let runs = 0;

  const start = async (name: string, birdDir: string, options: { asNobody?: boolean } = {}): Promise<Running> => {
    runs += 1;
    const dir = join(root(), name);
    mkdirSync(dir, { recursive: true });
    mkdirSync(birdDir, { recursive: true });
    const healthFile = (service: string): string => join(dir, `${service}.healthy`);
    const file = join(birdDir, 'anycast-prefixes.conf');
    const files = writeLocalDaemonConfig({
      dir,
      prefixFile4: file,
      prefixFile6: join(dir, 'bird6', 'anycast-prefixes.conf'),
      reconfigure4: '/bin/echo Reconfigured',
      instanceLock: `ahc-we-${process.pid}-${runs}`,
    });
    mkdirSync(join(dir, 'bird6'), { recursive: true });
    writeHealthyServices(files.servicesDir, [SVC1, SVC2], healthFile);
    if (options.asNobody === true) {
      for (const path of [dir, birdDir, join(dir, 'bird6'), files.servicesDir]) chownSync(path, NOBODY, NOBODY);
    }
    const wrapper = options.asNobody === true ? [SETPRIV, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'] : [];
    const { daemon: d } = spawnLocalDaemon(bin, files, { wrapper });
    daemon = d;
    const fail = (e: Error): never => {
      throw new Error(`${e.message}\n${d.tail()}`);
    };
    status = await StatusConnection.waitFor(files.statusSocket, 10_000).catch(fail);
    const connection = status;
    await waitForBird(
      connection,
      4,
      (b) => isConverged(b) && b.prefixes.includes(SVC1.prefix) && b.prefixes.includes(SVC2.prefix),
      'both prefixes in the IPv4 file and applied',
      10_000,
    ).catch(fail);
    return { d, status: connection, file, healthFile };
  };

  /**
   * The scenario of every case: with `breakIt` in force, svc1 fails; the write fails with
   * `code`, naming the path; the old file stays; checks go on; retries are logged. Then
   * `fixIt`, and the file must lose svc1 without any further transition.
   */
  const scenario = async (
    run: Running,
    code: string,
    breakIt: () => void | Promise<void>,
    fixIt: () => void | Promise<void>,
    /** Where the old file is while broken (default: where it was). */
    oldFile = run.file,
  ): Promise<string> => {
    const { d, status: connection, file } = run;
    const before = readFileSync(file, 'utf8');
    await breakIt();
    const from = d.lines.length;
    rmSync(run.healthFile(SVC1.name));
    await d.waitForLine(statusLine(SVC1.name, 'DOWN'), 5_000, from, '"status DOWN" for svc1');
    const error = await d.waitForLine(writeError(file, code), 5_000, from, `an ERROR naming ${file} and ${code}`);
    // Retried with backoff: 0.25 s, 0.5 s, 1 s after attempts 1, 2, 3.
    await d.waitForLine(retryLine(3), 5_000, from, 'a third failed attempt (retried twice)');
    const delays = retryDelays(d.lines, from);
    expect(delays.slice(0, 3)).toEqual([0.25, 0.5, 1]);
    expect(error.message).toContain('the previous file is left intact');
    expect(readFileSync(oldFile, 'utf8'), 'the old file, byte for byte').toBe(before);

    const failing = await reconcilerStatus(connection);
    const entry = birdOf(failing, 4);
    expect(entry.pending).toBe(true);
    expect(entry.lastError ?? '').toContain(code);
    expect(entry.lastError ?? '').toContain(file);
    // The checks go on while the file cannot be written: every service checks a few more times.
    const checksBefore = totalChecks(failing);
    await pollUntil(async () => (totalChecks(await reconcilerStatus(connection)) >= checksBefore + 6 ? true : undefined), {
      what: 'the check counters to keep increasing',
      timeoutMs: 3_000,
    });
    expect(readFileSync(oldFile, 'utf8'), 'still the old file').toBe(before);

    const fixedFrom = d.lines.length;
    const fixedAt = performance.now();
    await fixIt();
    const ms = await pollUntil(
      async () => {
        const listed = parsePrefixFile(readFileSync(file, 'utf8'));
        return !listed.includes(SVC1.prefix) && listed.includes(SVC2.prefix) ? performance.now() - fixedAt : undefined;
      },
      { what: `${file} to be rewritten without ${SVC1.prefix}`, timeoutMs: CONVERGE_AFTER_FIX_MS },
    );
    const converged = await waitForBird(connection, 4, isConverged, 'IPv4 converged (applied = file, no error)', CONVERGE_AFTER_FIX_MS);
    expect(converged.applied).not.toContain(SVC1.prefix);
    expect(transitionsSince(d.lines, fixedFrom), 'no transition after the fix').toEqual([]);
    const attempts = d.lines.slice(from).filter((l) => RETRY.test(l.message ?? '')).length;
    const leftovers = readdirSync(join(file, '..')).filter((f) => f.endsWith('.tmp'));
    expect(leftovers, 'temp files of the failed attempts').toEqual([]);
    return `${code}: ${attempts} failed attempts logged, file rewritten ${ms.toFixed(0)} ms after the fix; logged: ${error.message}`;
  };

  const stop = async (): Promise<void> => {
    status?.close();
    status = undefined;
    if (daemon !== undefined && !daemon.hasExited) await daemon.stop('SIGTERM').catch(() => daemon?.child.kill('SIGKILL'));
    daemon = undefined;
  };

  return { start, scenario, stop };
}

const summary: string[] = [];
afterAll(() => {
  if (summary.length > 0) console.log(`[write-errors]\n${summary.map((s) => `  ${s}`).join('\n')}`);
});

describe.skipIf(tmpfsReason !== null)(`BIRD file on a tiny tmpfs${skipped(tmpfsReason)}`, () => {
  let root: string;
  let fs: Tmpfs;
  const cases = daemonCases(() => root);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), `ahc-we-${process.pid}-`));
    mkdirSync(join(root, 'mnt'));
    fs = await Tmpfs.mount(join(root, 'mnt'), 64);
  });

  afterEach(async () => {
    await cases.stop();
    await fs.remount('rw');
  });

  afterAll(() => {
    fs?.unmount();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('logs ENOSPC with the path when the file system is full, keeps the old file and checking, and writes the file once space is freed', async () => {
    const run = await cases.start('enospc', join(fs.dir, 'enospc'));
    let filler: { path: string; bytes: number } | undefined;
    summary.push(
      await cases.scenario(
        run,
        'ENOSPC',
        () => {
          filler = fs.fill();
        },
        () => {
          if (filler !== undefined) fs.free(filler);
        },
      ),
    );
  }, 40_000);

  it('logs EROFS with the path on a read-only file system, keeps the old file and checking, and writes the file once it is read-write again', async () => {
    const run = await cases.start('erofs', join(fs.dir, 'erofs'));
    summary.push(
      await cases.scenario(
        run,
        'EROFS',
        async () => {
          await fs.remount('ro');
        },
        async () => {
          await fs.remount('rw');
        },
      ),
    );
  }, 40_000);
});

describe.skipIf(daemonReason !== null)(`BIRD file whose directory disappears${skipped(daemonReason)}`, () => {
  let root: string;
  const cases = daemonCases(() => root);

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), `ahc-we-${process.pid}-`));
  });

  afterEach(() => cases.stop());

  afterAll(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('logs ENOENT with the path while the directory is missing, keeps the old file and checking, and writes the file once the directory is back', async () => {
    const birdDir = join(root, 'bird');
    const away = join(root, 'bird.away');
    const run = await cases.start('enoent', birdDir);
    // The old file goes away with its directory and must still be what it was, there.
    summary.push(
      await cases.scenario(
        run,
        'ENOENT',
        () => renameSync(birdDir, away),
        () => renameSync(away, birdDir),
        join(away, 'anycast-prefixes.conf'),
      ),
    );
  }, 40_000);
});

describe.skipIf(nobodyReason !== null)(
  `BIRD file in a directory the daemon (running as nobody) may not write${skipped(nobodyReason)}`,
  () => {
    let root: string;
    const cases = daemonCases(() => root);

    beforeAll(() => {
      root = mkdtempSync(join(tmpdir(), `ahc-we-${process.pid}-`));
      chmodSync(root, 0o755);
    });

    afterEach(() => cases.stop());

    afterAll(() => {
      if (root !== undefined) rmSync(root, { recursive: true, force: true });
    });

    it('logs EACCES with the path, keeps the old file and checking, and writes the file once the directory is writable again', async () => {
      const birdDir = join(root, 'bird');
      const run = await cases.start('eacces', birdDir, { asNobody: true });
      const owner = execSync(['stat', '-c', '%u', run.file]).stdout.trim();
      expect(owner, 'the daemon runs as nobody and wrote the file').toBe(String(NOBODY));
      summary.push(
        await cases.scenario(
          run,
          'EACCES',
          () => chmodSync(birdDir, 0o555),
          () => chmodSync(birdDir, 0o755),
        ),
      );
    }, 40_000);
  },
);
