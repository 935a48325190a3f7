import { networkInterfaces } from 'node:os';

/** Is an address of `prefix` assigned to `iface`? Reads the kernel's address list through
 * getifaddrs (os.networkInterfaces) instead of spawning `ip` every interval. Alias labels
 * (`lo:1`) count as the interface. Only interfaces that are up are listed by libuv. */
export function isPrefixAssigned(iface: string, address: string, prefixLength: number, family: 4 | 6): boolean {
  const all = networkInterfaces();
  for (const [name, addrs] of Object.entries(all)) {
    if (name !== iface && !name.startsWith(`${iface}:`)) continue;
    for (const addr of addrs ?? []) {
      const fam = addr.family === 'IPv4' ? 4 : 6;
      if (fam !== family) continue;
      if (inPrefix(addr.address, address, prefixLength, family)) return true;
    }
  }
  return false;
}

function toBigInt(address: string, family: 4 | 6): bigint | null {
  if (family === 4) {
    const parts = address.split('.');
    if (parts.length !== 4) return null;
    let v = 0n;
    for (const p of parts) v = (v << 8n) | BigInt(Number(p));
    return v;
  }
  const clean = address.split('%')[0] ?? '';
  const [head = '', tail] = clean.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  // an embedded IPv4 tail (::ffff:1.2.3.4)
  const expand = (groups: string[]): string[] => groups.flatMap((g) => {
    if (!g.includes('.')) return [g];
    const b = g.split('.').map(Number);
    return [(((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16), (((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16)];
  });
  const hh = expand(h);
  const tt = expand(t);
  const fill = tail === undefined ? 0 : 8 - hh.length - tt.length;
  const groups = [...hh, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tt];
  if (groups.length !== 8) return null;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
  return v;
}

/** True when `candidate` lies within network/prefixLength. */
export function inPrefix(candidate: string, network: string, prefixLength: number, family: 4 | 6): boolean {
  const bits = family === 4 ? 32n : 128n;
  const a = toBigInt(candidate, family);
  const n = toBigInt(network, family);
  if (a === null || n === null) return false;
  const shift = bits - BigInt(prefixLength);
  return a >> shift === n >> shift;
}
