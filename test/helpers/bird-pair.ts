// The namespace test bed: an anycast "node" and its upstream "peer", each in its own network
// namespace running its own BIRD (Debian's BIRD 2 by default, or another build), linked by a veth pair with one eBGP session per family.
// The node exports only what its prefix files (docs/bird.md) list and what is on its lo; tests look
// at the peer's routing table to see what the network would see.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_SESSIONS, PEER_SESSIONS, renderNodeConfig, renderPeerConfig } from './bird-config.js';
import { BIRD2, birdc as birdcAt, isReconfigured, parseProtocols, parseRoutes, type BirdBinaries } from './birdc.js';
import { blockFor, exec, isAlive, signalPid, type ExecResult } from './exec.js';
import { IP, bedNames, createNamespaces, removeNamespacesSync, removeStale, subnetIndex, type BedNames } from './netns.js';
import { pollUntil } from './poll.js';
import { IP4_VARIABLE, IP6_VARIABLE, canonicalPrefix, ensurePrefixFile, type Family } from './prefix-file.js';

export { requireNetnsSupport } from './netns.js';

export interface BirdPairOptions {
  /** Short id (1-6 of [a-z0-9], starting with a letter); names also carry the pid. */
  readonly id: string;
  /** Prefix files the node's BIRD includes (default: in the bed's temp dir). */
  readonly prefixFile4?: string;
  readonly prefixFile6?: string;
  /** How long to wait for both BGP sessions (default 20 s). */
  readonly establishTimeoutMs?: number;
  /** The BIRD build both sides run (default Debian's BIRD 2, `BIRD2`). */
  readonly binaries?: BirdBinaries;
  /** Extra lines for the node's BIRD configuration (e.g. an `include` of a large static protocol). */
  readonly nodeExtraConfig?: string;
}

export interface BirdPair {
  readonly names: BedNames;
  /** The BIRD build both sides run. */
  readonly binaries: BirdBinaries;
  /** The bed's temp dir (configs, control sockets, pidfiles, BIRD logs). */
  readonly dir: string;
  readonly prefixFile4: string;
  readonly prefixFile6: string;
  readonly nodeSocket: string;
  readonly peerSocket: string;
  /** `/usr/sbin/birdc -s NODE_SOCK configure`, for a daemon's bird_reconfigure_cmd. */
  readonly nodeReconfigureCommand: string;
  /** Link addresses: node and peer ends of the veth. */
  readonly link: { readonly node: { ip4: string; ip6: string }; readonly peer: { ip4: string; ip6: string } };
  /** Networks in the peer's master4 / master6 table. */
  peerRoutes(family: Family): Promise<Set<string>>;
  /** Poll the peer until `prefix` is (or is no longer) in its table; resolves to the ms it took. */
  waitForPeerRoute(prefix: string, present: boolean, timeoutMs: number): Promise<number>;
  addAddress(prefix: string, iface?: string): Promise<void>;
  delAddress(prefix: string, iface?: string): Promise<void>;
  nodeBirdc(args: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  /** `birdc configure` on the node; rejects unless BIRD answers `Reconfigured`. */
  reconfigureNode(): Promise<string>;
  /** Wait until both BGP sessions of the node are Established. */
  waitEstablished(timeoutMs?: number): Promise<void>;
  stopNodeBird(): Promise<void>;
  startNodeBird(options?: { readonly waitEstablished?: boolean }): Promise<void>;
  /** Spawn argv inside the node namespace (stdout/stderr piped unless `options.stdio` says else). */
  execInNode(argv: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Text of a side's BIRD log (for diagnostics). */
  birdLog(side: 'node' | 'peer'): string;
  destroy(): Promise<void>;
}

const NODE_AS = 65001;
const PEER_AS = 65002;
const live = new Map<string, BedState>();
let exitHookInstalled = false;

interface BedState {
  readonly names: BedNames;
  readonly dir: string;
  readonly pidfiles: readonly string[];
  readonly children: Set<ChildProcess>;
}

function readPid(pidfile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidfile, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Everything in one go, synchronously: for the 'exit' hook and the end of destroy(). */
function teardownSync(state: BedState): void {
  for (const child of state.children) if (child.pid !== undefined) signalPid(child.pid, 'SIGKILL');
  const pids = state.pidfiles.map(readPid).filter((pid): pid is number => pid !== undefined);
  for (const pid of pids) signalPid(pid, 'SIGTERM');
  removeNamespacesSync([state.names.nodeNs, state.names.peerNs]);
  const deadline = Date.now() + 2_000;
  while (pids.some(isAlive) && Date.now() < deadline) blockFor(20);
  for (const pid of pids.filter(isAlive)) signalPid(pid, 'SIGKILL');
  rmSync(state.dir, { recursive: true, force: true });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const state of live.values()) teardownSync(state);
    live.clear();
  });
}

async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  try {
    await pollUntil(async () => (isAlive(pid) ? undefined : true), { what: `pid ${pid} to exit`, timeoutMs });
  } catch {
    signalPid(pid, 'SIGKILL');
    await pollUntil(async () => (isAlive(pid) ? undefined : true), { what: `pid ${pid} to die`, timeoutMs: 2_000 });
  }
}

/** Build the bed and resolve once both BGP sessions are Established. */
export async function createBirdPair(options: BirdPairOptions): Promise<BirdPair> {
  const names = bedNames(options.id);
  const binaries = options.binaries ?? BIRD2;
  const birdc = (socket: string, args: readonly string[], timeoutMs = 5_000): Promise<ExecResult> =>
    birdcAt(socket, args, timeoutMs, binaries.birdc);
  if (live.has(options.id)) throw new Error(`a test bed with id "${options.id}" is already running in this process`);
  installExitHook();
  removeStale(names.prefix);
  // Namespaces of this very pid and id can only be leftovers of a bed that was never destroyed.
  removeNamespacesSync([names.nodeNs, names.peerNs]);

  const dir = mkdtempSync(join(tmpdir(), `${names.prefix}${process.pid}-`));
  const n = subnetIndex(options.id);
  const link = {
    node: { ip4: `169.254.${n}.1`, ip6: `fd00:0:0:${n.toString(16)}::1` },
    peer: { ip4: `169.254.${n}.2`, ip6: `fd00:0:0:${n.toString(16)}::2` },
  };
  const prefixFile4 = options.prefixFile4 ?? join(dir, 'anycast-prefixes.conf');
  const prefixFile6 = options.prefixFile6 ?? join(dir, '6', 'anycast-prefixes.conf');
  const nodeSocket = join(dir, 'node.ctl');
  const peerSocket = join(dir, 'peer.ctl');
  const nodeConf = join(dir, 'node-bird.conf');
  const peerConf = join(dir, 'peer-bird.conf');
  const nodePid = join(dir, 'node-bird.pid');
  const peerPid = join(dir, 'peer-bird.pid');
  const state: BedState = { names, dir, pidfiles: [nodePid, peerPid], children: new Set() };
  live.set(options.id, state);

  const birdLog = (side: 'node' | 'peer'): string => {
    try {
      return readFileSync(join(dir, `${side}-bird.log`), 'utf8');
    } catch {
      return '';
    }
  };

  const startBird = async (ns: string, conf: string, socket: string, pidfile: string): Promise<void> => {
    rmSync(pidfile, { force: true });
    // bird daemonizes: the command returns once the config is parsed and the socket is bound.
    await exec([IP, 'netns', 'exec', ns, binaries.bird, '-c', conf, '-s', socket, '-P', pidfile], { timeoutMs: 120_000 });
    await pollUntil(async () => (readPid(pidfile) !== undefined ? true : undefined), { what: `BIRD pidfile ${pidfile}`, timeoutMs: 5_000 });
  };

  const sessionsUp = async (socket: string, sessions: readonly string[]): Promise<true | undefined> => {
    const rows = parseProtocols((await birdc(socket, ['show', 'protocols'])).stdout);
    return sessions.every((s) => rows.get(s)?.info.startsWith('Established') === true) ? true : undefined;
  };

  const waitEstablished = async (timeoutMs = options.establishTimeoutMs ?? 20_000): Promise<void> => {
    await pollUntil(
      async () => {
        const node = await sessionsUp(nodeSocket, NODE_SESSIONS);
        return node === true ? sessionsUp(peerSocket, PEER_SESSIONS) : undefined;
      },
      {
        what: 'BGP sessions node<->peer to be Established',
        timeoutMs,
        intervalMs: 50,
        describe: async () => {
          const node = await birdc(nodeSocket, ['show', 'protocols']).catch((e: Error) => ({ stdout: e.message }));
          return `node: ${node.stdout.trim()}\nnode log tail:\n${birdLog('node').split('\n').slice(-15).join('\n')}`;
        },
      },
    );
  };

  const stopBird = async (pidfile: string): Promise<void> => {
    const pid = readPid(pidfile);
    if (pid === undefined) return;
    signalPid(pid, 'SIGTERM');
    await waitGone(pid, 5_000);
    rmSync(pidfile, { force: true });
  };

  const routes = async (family: Family): Promise<Set<string>> => {
    const { stdout } = await birdc(peerSocket, ['show', 'route']);
    const tables = parseRoutes(stdout);
    const found = new Set<string>();
    for (const [table, nets] of tables) {
      for (const net of nets) {
        const isV6 = net.includes(':');
        if ((family === 6) === isV6 && (table === `master${family}` || !table.startsWith('master'))) found.add(net);
      }
    }
    return found;
  };

  const address = async (verb: 'add' | 'del', prefix: string, iface: string): Promise<void> => {
    const p = canonicalPrefix(prefix);
    await exec([IP, '-n', names.nodeNs, 'addr', verb, p, 'dev', iface, ...(p.includes(':') && verb === 'add' ? ['nodad'] : [])]);
  };

  try {
    await createNamespaces({ names, node: link.node, peer: link.peer, len4: 30, len6: 64 });
    ensurePrefixFile(prefixFile4, 4);
    ensurePrefixFile(prefixFile6, 6);
    const common = { node: link.node, peer: link.peer, nodeAs: NODE_AS, peerAs: PEER_AS, logDir: dir };
    writeFileSync(
      nodeConf,
      renderNodeConfig({
        ...common,
        prefixFile4,
        prefixFile6,
        variable4: IP4_VARIABLE,
        variable6: IP6_VARIABLE,
      }) + (options.nodeExtraConfig === undefined ? '' : `${options.nodeExtraConfig}\n`),
    );
    writeFileSync(peerConf, renderPeerConfig(common));
    await startBird(names.peerNs, peerConf, peerSocket, peerPid);
    await startBird(names.nodeNs, nodeConf, nodeSocket, nodePid);
    await waitEstablished();
  } catch (error) {
    teardownSync(state);
    live.delete(options.id);
    throw error;
  }

  let destroyed = false;
  return {
    names,
    binaries,
    dir,
    prefixFile4,
    prefixFile6,
    nodeSocket,
    peerSocket,
    nodeReconfigureCommand: `${binaries.birdc} -s ${nodeSocket} configure`,
    link,
    peerRoutes: routes,
    async waitForPeerRoute(prefix, present, timeoutMs) {
      const net = canonicalPrefix(prefix);
      const family: Family = net.includes(':') ? 6 : 4;
      const started = performance.now();
      await pollUntil(async () => ((await routes(family)).has(net) === present ? true : undefined), {
        what: `peer to ${present ? 'have' : 'lose'} ${net}`,
        timeoutMs,
        intervalMs: 10,
        describe: async () => `peer routes: ${[...(await routes(family))].join(' ') || '(none)'}`,
      });
      return performance.now() - started;
    },
    addAddress: (prefix, iface = 'lo') => address('add', prefix, iface),
    delAddress: (prefix, iface = 'lo') => address('del', prefix, iface),
    nodeBirdc: (args, timeoutMs) => birdc(nodeSocket, args, timeoutMs),
    async reconfigureNode() {
      const { stdout } = await birdc(nodeSocket, ['configure']);
      if (!isReconfigured(stdout)) throw new Error(`birdc configure did not reconfigure:\n${stdout}`);
      return stdout;
    },
    waitEstablished,
    stopNodeBird: () => stopBird(nodePid),
    async startNodeBird(startOptions = {}) {
      if (readPid(nodePid) !== undefined && isAlive(readPid(nodePid) ?? 0)) return;
      await startBird(names.nodeNs, nodeConf, nodeSocket, nodePid);
      if (startOptions.waitEstablished !== false) await waitEstablished();
    },
    execInNode(argv, spawnOptions = {}) {
      if (destroyed) throw new Error('test bed already destroyed');
      const child = spawn(IP, ['netns', 'exec', names.nodeNs, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
      state.children.add(child);
      child.once('exit', () => state.children.delete(child));
      return child;
    },
    birdLog,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const child of state.children) {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
        signalPid(child.pid, 'SIGTERM');
        await waitGone(child.pid, 3_000).catch(() => undefined);
      }
      await Promise.all([stopBird(nodePid), stopBird(peerPid)].map((p) => p.catch(() => undefined)));
      teardownSync(state);
      live.delete(options.id);
    },
  };
}
