// A narrated demo: anycast-healthchecker in a network namespace deciding which of its services'
// prefixes BIRD advertises over BGP, as seen from the upstream peer. Run by contrib/demo/run.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBirdPair, requireNetnsSupport, type BirdPair } from '../../test/helpers/bird-pair.js';
import {
  DaemonProcess,
  daemonBin,
  daemonUnavailableReason,
  statusLine,
  writeDaemonConfig,
  writeServiceFiles,
  type LogLine,
  type ServiceSpec,
} from '../../test/helpers/daemon-process.js';
import { exec } from '../../test/helpers/exec.js';
import { pollUntil } from '../../test/helpers/poll.js';
import { parsePrefixFile } from '../../test/helpers/prefix-file.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
// The daemon starts through its node_modules/.bin shim, which runs the first `node` in PATH: make
// that this node (contrib/demo/run runs the demo on the pinned one, contrib/runtime/versions).
process.env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
const color = process.stdout.isTTY === true;
const paint = (code: string, text: string): string => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
const started = performance.now();
const clock = (): string => paint('2', `+${((performance.now() - started) / 1000).toFixed(2).padStart(5)}s`);

const say = (text: string): void => console.log(`${clock()}  ${text}`);
const step = (n: number, text: string): void => console.log(`\n${clock()}  ${paint('1;36', `Step ${n}: ${text}`)}`);
const ok = (text: string): void => say(paint('32', `✔ ${text}`));

interface DemoService {
  readonly name: string;
  readonly prefix: string;
  readonly role: string;
}

const SERVICES: readonly DemoService[] = [
  { name: 'svc1', prefix: '10.52.12.1/32', role: 'web frontend' },
  { name: 'svc2', prefix: '10.52.12.2/32', role: 'DNS resolver' },
  { name: 'svc6', prefix: '2001:db8:52::1/128', role: 'web frontend (IPv6)' },
];

let bed: BirdPair | undefined;
let daemon: DaemonProcess | undefined;
let dir: string | undefined;
let cleaning: Promise<void> | undefined;
let interrupted = false;

/** Stop the daemon, tear the bed down, remove temp files; safe to call more than once. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (daemon !== undefined && !daemon.hasExited) await daemon.stop('SIGTERM', 5_000).catch(() => undefined);
    await bed?.destroy().catch((error: unknown) => console.error(`teardown: ${String(error)}`));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}

async function printPeerTable(): Promise<void> {
  if (bed === undefined) return;
  const routes = new Set([...(await bed.peerRoutes(4)), ...(await bed.peerRoutes(6))]);
  const rows = SERVICES.map((s) => {
    const on = routes.has(s.prefix);
    routes.delete(s.prefix);
    return `   │ ${s.name.padEnd(5)} ${s.prefix.padEnd(20)} ${on ? paint('32', 'advertised') : paint('31', 'withdrawn ')}  ${paint('2', s.role)}`;
  });
  for (const other of routes) rows.push(`   │ ?     ${other.padEnd(20)} ${paint('33', 'unexpected')}`);
  console.log(`   ┌─ routes the peer has learnt over BGP ${'─'.repeat(30)}`);
  for (const row of rows) console.log(row);
  console.log(`   └${'─'.repeat(68)}`);
}

// The daemon's decisions; per-check chatter ("running ...", "check duration ...") is left out.
const INTERESTING =
  /changed to|status DOWN because|going|failed|in the queue|returned an item|announcing|withdrawing|updated|reconfigur|verified|received|starting|shutdown|error|warn/i;

function showDaemonLine(line: LogLine): void {
  if (line.level === 'DEBUG') return;
  if (line.message !== undefined && line.level === 'INFO' && !INTERESTING.test(line.message)) return;
  const text = line.message === undefined ? line.raw : `${(line.level ?? '').padEnd(8)} ${(line.service ?? '').padEnd(10)} ${line.message}`;
  console.log(`${clock()}  ${paint('35', 'daemon |')} ${paint('2', text)}`);
}

/** `work`, unless the daemon exits first (then fail at once instead of at the deadline). */
function whileRunning<T>(d: DaemonProcess, work: Promise<T>): Promise<T> {
  const died = d.exited.then((e): never => {
    throw new Error(`the daemon exited unexpectedly (${e.code ?? e.signal})`);
  });
  return Promise.race([work, died]);
}

async function main(): Promise<void> {
  console.log(paint('1', 'anycast-healthchecker demo: health checks decide what BIRD advertises over BGP'));
  console.log(paint('2', 'Two network namespaces: "node" runs BIRD + the daemon, "peer" is the upstream router.\n'));

  const notSupported = requireNetnsSupport();
  if (notSupported !== null) throw new Error(`cannot run the demo here: ${notSupported}`);
  const notBuilt = daemonUnavailableReason(repoRoot);
  if (notBuilt !== null) throw new Error(`the daemon is not runnable: ${notBuilt}`);

  step(1, 'build the test bed');
  dir = mkdtempSync(join(tmpdir(), `ahc-demo-${process.pid}-daemon-`));
  bed = await createBirdPair({
    id: 'demo',
    prefixFile4: join(dir, 'anycast-prefixes.conf'),
    prefixFile6: join(dir, '6', 'anycast-prefixes.conf'),
  });
  const b = bed;
  ok(
    `namespaces ${b.names.nodeNs} and ${b.names.peerNs}, veth ${b.link.node.ip4} <-> ${b.link.peer.ip4}, ` +
      `${b.link.node.ip6} <-> ${b.link.peer.ip6}`,
  );
  ok('BGP sessions (IPv4 and IPv6) Established; the node exports only what its prefix files list');
  await printPeerTable();

  step(2, 'start anycast-healthchecker with three healthy services');
  const healthFile = (name: string): string => join(dir ?? '', `${name}.healthy`);
  const specs: ServiceSpec[] = SERVICES.map((s) => ({
    name: s.name,
    ipPrefix: s.prefix,
    checkCmd: `/usr/bin/test -e ${healthFile(s.name)}`,
    checkInterval: 0.5,
    checkTimeout: 0.4,
    checkRise: 2,
    checkFail: 2,
  }));
  for (const s of SERVICES) {
    await b.addAddress(s.prefix);
    writeFileSync(healthFile(s.name), '');
  }
  say(`addresses ${SERVICES.map((s) => s.prefix).join(', ')} are on the node's lo`);
  say('each check is `test -e <name>.healthy`, every 0.5 s; UP after 2 successes, DOWN after 2 failures');
  const files = writeDaemonConfig({
    dir,
    prefixFile4: b.prefixFile4,
    prefixFile6: b.prefixFile6,
    reconfigureCommand: b.nodeReconfigureCommand,
    loglevel: 'info',
    // After each reconfigure, ask BIRD for the live prefix sets and compare them with the files.
    extra: { bird_verify_cmd: `/usr/sbin/birdc -s ${b.nodeSocket} eval`, bird6_verify_cmd: `/usr/sbin/birdc -s ${b.nodeSocket} eval` },
  });
  say("after each `birdc configure` the daemon verifies BIRD's live sets with `birdc eval` (bird_verify_cmd)");
  writeServiceFiles(files.servicesDir, specs);
  const check = await exec([daemonBin(repoRoot), '-c', '-f', files.confFile, '-d', files.servicesDir], { allowFailure: true });
  const checkText = `${check.stdout}${check.stderr}`.trim();
  if (check.code !== 0) throw new Error(`anycast-healthchecker -c rejected the demo configuration:\n${checkText}`);
  say(`configuration checked: \`anycast-healthchecker -c\` says ${checkText}`);
  // Own process group: a Ctrl-C reaches only the demo, which then stops the daemon in order.
  daemon = new DaemonProcess(b.execInNode([daemonBin(repoRoot), '-f', files.confFile, '-d', files.servicesDir], { detached: true }));
  const d = daemon;
  d.onLine(showDaemonLine);
  say(`daemon started in the node namespace (pid ${d.pid ?? '?'})`);
  for (const s of SERVICES) await whileRunning(d, b.waitForPeerRoute(s.prefix, true, 15_000));
  ok('all three services are healthy: the peer has all three routes');
  await printPeerTable();

  step(3, 'break svc1 (remove its health file)');
  const brokeAt = performance.now();
  rmSync(healthFile('svc1'));
  await whileRunning(d, b.waitForPeerRoute('10.52.12.1/32', false, 10_000));
  const lostAt = performance.now();
  const downLine = d.lines.find(statusLine('svc1', 'DOWN'));
  ok(
    `the peer lost 10.52.12.1/32 ${(lostAt - brokeAt).toFixed(0)} ms after the health file was removed` +
      (downLine === undefined ? '' : ` (${(lostAt - downLine.at).toFixed(0)} ms after the daemon logged "changed to DOWN")`),
  );
  await printPeerTable();

  step(4, 'repair svc1');
  const fixedAt = performance.now();
  writeFileSync(healthFile('svc1'), '');
  await whileRunning(d, b.waitForPeerRoute('10.52.12.1/32', true, 10_000));
  ok(`the peer has 10.52.12.1/32 again, ${(performance.now() - fixedAt).toFixed(0)} ms later (2 successful checks)`);
  await printPeerTable();

  step(5, "remove svc2's address 10.52.12.2/32 from lo (its health file stays)");
  const removedAt = performance.now();
  const from = d.lines.length;
  await b.delAddress('10.52.12.2/32');
  await b.waitForPeerRoute('10.52.12.2/32', false, 10_000);
  ok(`the peer lost 10.52.12.2/32 ${(performance.now() - removedAt).toFixed(0)} ms later: BIRD's direct route is gone with the address`);
  const down = await d.waitForLine(statusLine('svc2', 'DOWN'), 5_000, from, '"changed to DOWN" for svc2');
  ok(
    `the daemon declared svc2 DOWN ${(down.at - removedAt).toFixed(0)} ms later: the kernel told it the address went (no waiting for the next check), and it counted no failures`,
  );
  await whileRunning(
    d,
    pollUntil(async () => (parsePrefixFile(readFileSync(b.prefixFile4, 'utf8')).includes('10.52.12.2/32') ? undefined : true), {
      what: `10.52.12.2/32 to leave ${b.prefixFile4}`,
      timeoutMs: 5_000,
    }),
  );
  ok(`and took 10.52.12.2/32 out of ${b.prefixFile4}: putting the address back alone will not re-advertise it`);
  await printPeerTable();

  step(6, 'stop the daemon with SIGTERM');
  const exit = await d.stop('SIGTERM');
  ok(`daemon exited with code ${exit.code ?? exit.signal}; pidfile ${existsSync(files.pidfile) ? 'still there (!)' : 'removed'}`);
  say('the routes stay as last decided: BIRD keeps advertising what the prefix files list');
  await printPeerTable();
  if (exit.code !== 0) throw new Error(`daemon exited with ${exit.code ?? exit.signal}, expected 0`);

  step(7, 'tear down');
  await cleanup();
  ok(`BIRDs stopped, namespaces and temp files removed; demo took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping the daemon and removing the test bed...`);
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    if (interrupted) return; // the signal handler cleans up and exits
    console.error(`\n${paint('31', 'demo failed:')} ${error instanceof Error ? error.message : String(error)}`);
    if (daemon !== undefined && daemon.lines.length > 0) console.error(`last daemon output:\n${daemon.tail(15)}`);
    await cleanup();
    process.exit(1);
  },
);
