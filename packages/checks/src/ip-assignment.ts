import { BlockList } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Family } from '@ahc/protocol';

/** Is an address of `prefix` assigned to `iface`? Reads the kernel's address list through
 * getifaddrs (os.networkInterfaces) instead of spawning `ip` every interval. Alias labels
 * (`lo:1`) count as the interface. Only interfaces that are up are listed by libuv. */
export function isPrefixAssigned(iface: string, address: string, prefixLength: number, family: Family): boolean {
  const all = networkInterfaces();
  let list: BlockList | null = null;
  for (const [name, addrs] of Object.entries(all)) {
    if (!onInterface(iface, name, name)) continue;
    for (const addr of addrs ?? []) {
      const fam = addr.family === 'IPv4' ? 4 : 6;
      if (fam !== family) continue;
      list ??= subnet(address, prefixLength, family);
      if (contains(list, addr.address, family)) return true;
    }
  }
  return false;
}

/** The subnet network/prefixLength as a BlockList. The prefix comes parsed and normalised in the
 * spec (the configuration's prefix parser, packages/bird/src/prefix.ts), so the worker needs no
 * address parser of its own; Node's does the matching. */
function subnet(network: string, prefixLength: number, family: Family): BlockList {
  const list = new BlockList();
  list.addSubnet(network, prefixLength, family === 4 ? 'ipv4' : 'ipv6');
  return list;
}

/** Is `candidate` in `list`? A zone index (`fe80::1%eth0`) is ignored; a malformed address is not in it. */
function contains(list: BlockList, candidate: string, family: Family): boolean {
  try {
    return list.check(candidate.split('%')[0] ?? '', family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
}

/** True when `candidate` lies within network/prefixLength. */
export function inPrefix(candidate: string, network: string, prefixLength: number, family: Family): boolean {
  return contains(subnet(network, prefixLength, family), candidate, family);
}

/** `inPrefix` with the subnet built once: the main thread's address watch keeps one per service
 * and asks it for every address event (docs/design.md, "Address checks: one kernel subscription"). */
export function prefixMatcher(network: string, prefixLength: number, family: Family): (candidate: string) => boolean {
  const list = subnet(network, prefixLength, family);
  return (candidate) => contains(list, candidate, family);
}

/** Does an address whose device is `device` and label `label` (IPv4 only; null otherwise) count
 * as on the service's `iface`? The rule of `isPrefixAssigned`, where getifaddrs names an IPv4
 * address by its label: the device itself, the label itself, or an alias label `iface:x`. */
export function onInterface(iface: string, device: string, label: string | null): boolean {
  if (device === iface) return true;
  return label !== null && (label === iface || label.startsWith(`${iface}:`));
}
