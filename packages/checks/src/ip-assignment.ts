import type { BlockList } from 'node:net';
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
  // node:net is loaded only here (no `ip` binary to watch addresses): not in every thread's heap.
  const list = new (process.getBuiltinModule('node:net').BlockList)();
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

/** Does an address whose device is `device` and label `label` (IPv4 only; null otherwise) count
 * as on the service's `iface`? The rule of `isPrefixAssigned`, where getifaddrs names an IPv4
 * address by its label: the device itself, the label itself, or an alias label `iface:x`. */
export function onInterface(iface: string, device: string, label: string | null): boolean {
  if (device === iface) return true;
  return label !== null && (label === iface || label.startsWith(`${iface}:`));
}

/**
 * The network `address`/`prefixLength` as a string key (`4:10.52.12/24`): two addresses lie in
 * the same /N exactly when their keys for N are equal. Lets the main thread find the services an
 * address event concerns with a map lookup instead of asking every service's matcher (no BigInt:
 * bytes). Null for text that is not an address of `family`.
 */
export function networkKey(address: string, prefixLength: number, family: Family): string | null {
  const bytes = addressBytes(address.split('%')[0] ?? '', family);
  if (bytes === null || prefixLength < 0 || prefixLength > bytes.length * 8) return null;
  const whole = prefixLength >> 3;
  const parts: number[] = [];
  for (let i = 0; i < whole; i += 1) parts.push(bytes[i] ?? 0);
  const rest = prefixLength & 7;
  if (rest > 0) parts.push((bytes[whole] ?? 0) & (0xff << (8 - rest)) & 0xff);
  return `${family}:${parts.join('.')}/${prefixLength}`;
}

/** The 4 or 16 bytes of an IPv4 or IPv6 address in text, or null. */
export function addressBytes(text: string, family: Family): Uint8Array | null {
  if (family === 4) return ipv4Bytes(text);
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const words = s.split(':');
    for (const [i, w] of words.entries()) {
      if (i === words.length - 1 && w.includes('.')) {
        const v4 = ipv4Bytes(w);
        if (v4 === null) return null;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return null;
        out.push(Number.parseInt(w, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  for (const [i, g] of all.entries()) {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  }
  return bytes;
}

function ipv4Bytes(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (const [i, p] of parts.entries()) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    bytes[i] = n;
  }
  return bytes;
}
