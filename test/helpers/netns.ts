// Network namespaces of the test bed: naming, capability probe, creation and teardown
// (including namespaces and temp dirs left behind by earlier runs that crashed).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIRD, BIRDC } from './birdc.js';
import { blockFor, exec, execSync, isAlive, signalPid } from './exec.js';

export const IP = 'ip';

export interface BedNames {
  /** `ahc-<id>-`: every namespace and temp dir of this id starts with it. */
  readonly prefix: string;
  readonly nodeNs: string;
  readonly peerNs: string;
  /** veth ends (at most 15 characters, created directly inside their namespaces). */
  readonly nodeIf: string;
  readonly peerIf: string;
}

const ID_PATTERN = /^[a-z][a-z0-9]{0,5}$/;

/** Names derived from a short id (1-6 of [a-z0-9], starting with a letter) and the pid. */
export function bedNames(id: string, pid = process.pid): BedNames {
  if (!ID_PATTERN.test(id)) throw new Error(`test bed id must match ${ID_PATTERN}: ${JSON.stringify(id)}`);
  const prefix = `ahc-${id}-`;
  const tag = `${id}${pid.toString(36)}`;
  return {
    prefix,
    nodeNs: `${prefix}${pid}-node`,
    peerNs: `${prefix}${pid}-peer`,
    nodeIf: `v${tag}n`.slice(0, 15),
    peerIf: `v${tag}p`.slice(0, 15),
  };
}

/** A small number derived from the id, so that beds of different ids use different subnets. */
export function subnetIndex(id: string): number {
  let h = 2166136261;
  for (const ch of id) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return (h % 250) + 1;
}

let probeResult: string | null | undefined;

/**
 * Why the namespace test bed cannot run here, or null if it can: needs root, iproute2, BIRD 2
 * and the right to create network namespaces (probed by creating and deleting one).
 */
export function requireNetnsSupport(): string | null {
  if (probeResult !== undefined) return probeResult;
  probeResult = probe();
  return probeResult;
}

function probe(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  if (execSync([IP, '-V']).code !== 0) return 'iproute2 (`ip`) is not installed';
  if (!existsSync(BIRD) || !existsSync(BIRDC)) return `BIRD 2 is not installed (${BIRD}, ${BIRDC})`;
  const version = execSync([BIRD, '--version']);
  if (!/BIRD version 2\./.test(`${version.stdout}${version.stderr}`)) {
    return `needs BIRD 2.x, found: ${`${version.stdout}${version.stderr}`.trim()}`;
  }
  const ns = `ahc-probe-${process.pid}`;
  const add = execSync([IP, 'netns', 'add', ns]);
  if (add.code !== 0) return `cannot create a network namespace: ${add.stderr.trim()}`;
  execSync([IP, 'netns', 'del', ns]);
  return null;
}

export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await exec([IP, 'netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

function listNamespacesSync(): string[] {
  return execSync([IP, 'netns', 'list'])
    .stdout.split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

function pidsInNamespaceSync(ns: string): number[] {
  return execSync([IP, 'netns', 'pids', ns])
    .stdout.split('\n')
    .map((s) => Number.parseInt(s, 10))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * Kill every process inside the namespaces (TERM, then KILL after `graceMs`), then delete them.
 * Synchronous so that the process 'exit' hook can use it.
 */
export function removeNamespacesSync(namespaces: readonly string[], graceMs = 2_000): void {
  const present = new Set(listNamespacesSync());
  const targets = namespaces.filter((ns) => present.has(ns));
  let pids = targets.flatMap(pidsInNamespaceSync);
  for (const pid of pids) signalPid(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.length > 0 && Date.now() < deadline) {
    blockFor(20);
    pids = pids.filter(isAlive);
  }
  for (const pid of pids) signalPid(pid, 'SIGKILL');
  for (const ns of targets) execSync([IP, 'netns', 'del', ns]);
}

/**
 * Remove what crashed earlier runs of the same id left behind: namespaces and temp dirs named
 * `ahc-<id>-<pid>-...` whose pid is no longer alive (live runs of the same id, and this
 * process's own files, are left alone).
 */
export function removeStale(prefix: string, ownPid = process.pid): string[] {
  const removed: string[] = [];
  const staleName = (name: string): boolean => {
    if (!name.startsWith(prefix)) return false;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    return Number.isInteger(pid) && pid !== ownPid && !isAlive(pid);
  };
  const namespaces = listNamespacesSync().filter(staleName);
  if (namespaces.length > 0) {
    removeNamespacesSync(namespaces);
    removed.push(...namespaces);
  }
  for (const entry of readdirSync(tmpdir())) {
    if (!staleName(entry)) continue;
    rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    removed.push(join(tmpdir(), entry));
  }
  return removed;
}

export interface VethInput {
  readonly names: BedNames;
  readonly node: { readonly ip4: string; readonly ip6: string };
  readonly peer: { readonly ip4: string; readonly ip6: string };
  /** Prefix lengths of the link addresses. */
  readonly len4: number;
  readonly len6: number;
}

/** Create both namespaces, `lo` up in each, and the addressed veth pair between them. */
export async function createNamespaces(input: VethInput): Promise<void> {
  const { names } = input;
  await exec([IP, 'netns', 'add', names.nodeNs]);
  await exec([IP, 'netns', 'add', names.peerNs]);
  await exec([IP, 'link', 'add', names.nodeIf, 'netns', names.nodeNs, 'type', 'veth', 'peer', 'name', names.peerIf, 'netns', names.peerNs]);
  const sides = [
    { ns: names.nodeNs, ifname: names.nodeIf, addr: input.node },
    { ns: names.peerNs, ifname: names.peerIf, addr: input.peer },
  ];
  for (const side of sides) {
    await exec([IP, '-n', side.ns, 'link', 'set', 'lo', 'up']);
    await exec([IP, '-n', side.ns, 'addr', 'add', `${side.addr.ip4}/${input.len4}`, 'dev', side.ifname]);
    await exec([IP, '-n', side.ns, 'addr', 'add', `${side.addr.ip6}/${input.len6}`, 'dev', side.ifname, 'nodad']);
    await exec([IP, '-n', side.ns, 'link', 'set', side.ifname, 'up']);
  }
}
