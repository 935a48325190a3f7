// CPU per check spawn: N runs of /bin/true through runCommand (Node's spawn, a fork of this
// process) and through ahc-spawn (SpawnHelper), first at this process's own size, then with
// about 500 MiB of resident memory. CPU is read from /proc: this process's utime+stime+cutime+
// cstime, plus the helper's (its cutime/cstime hold the checks it reaped). docs/design.md
// ("Spawning checks: the ahc-spawn helper") has the figures.
//
//   node packages/spawn-helper/scripts/measure-spawn-cpu.mjs [N] [BALLAST_MIB]
//
// Needs the built helper (pnpm run build: apps/anycast-healthchecker/dist/ahc-spawn).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const binary = `${root}apps/anycast-healthchecker/dist/ahc-spawn`;
if (process.argv[2] !== '--measure') {
  // Bundle @ahc/command, then measure in a fresh `node --jitless` (as the daemon runs), without esbuild's memory.
  const bundle = join(tmpdir(), `ahc-measure-command-${process.pid}.mjs`);
  await build({
    entryPoints: [`${root}packages/command/src/index.ts`],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: bundle,
    logLevel: 'warning',
  });
  try {
    execFileSync(
      process.execPath,
      ['--jitless', '--no-expose-wasm', fileURLToPath(import.meta.url), '--measure', bundle, ...process.argv.slice(2)],
      {
        stdio: 'inherit',
      },
    );
  } finally {
    rmSync(bundle, { force: true });
  }
  process.exit(0);
}
const N = Number(process.argv[4] ?? 2000);
const BALLAST_MIB = Number(process.argv[5] ?? 460);
const { runCommand, SpawnHelper } = await import(pathToFileURL(process.argv[3]).href);
const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** utime+stime+cutime+cstime of a process, seconds. */
function cpu(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / HZ;
}
const rssMib = () => Math.round(process.memoryUsage().rss / 2 ** 20);

async function measure(label, run, helperPid) {
  for (let i = 0; i < 50; i++) await run(); // warm up
  const self0 = cpu('self');
  const helper0 = helperPid === null ? 0 : cpu(helperPid);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const r = await run();
    if (r.code !== 0) throw new Error(`${label}: /bin/true gave ${JSON.stringify(r)}`);
  }
  const wall = (performance.now() - t0) / 1000;
  const self = cpu('self') - self0;
  const helper = helperPid === null ? 0 : cpu(helperPid) - helper0;
  const per = ((self + helper) / N) * 1000;
  console.log(
    `${label.padEnd(34)} RSS ${String(rssMib()).padStart(4)} MiB  ${per.toFixed(3)} ms CPU per run ` +
      `(daemon ${((self / N) * 1000).toFixed(3)}, helper+check ${((helper / N) * 1000).toFixed(3)}), ${((wall / N) * 1000).toFixed(3)} ms wall`,
  );
}

const options = { timeoutMs: 5000 };
const helper = await SpawnHelper.start({ binary, log: console, restartDelayMs: () => 0 });
const round = async (size) => {
  await measure(`runCommand from ${size}`, () => runCommand(['/bin/true'], options), null);
  await measure(`ahc-spawn from ${size}`, () => helper.run(['/bin/true'], options), helper.pid);
};
console.log(`${N} runs of /bin/true each, node ${process.version}, CLK_TCK ${HZ}`);
await round('the bare process');
const ballast = Buffer.alloc(BALLAST_MIB * 2 ** 20, 1); // touched: resident
await round(`+${BALLAST_MIB} MiB`);
const helperRss = readFileSync(`/proc/${helper.pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m)?.[1];
console.log(`ahc-spawn RSS ${helperRss} kB`);
await helper.close();
void ballast.length;
