// BIRD 2 configurations of the two sides of the test bed.
//
// node: the anycast host. `protocol direct` imports the addresses of lo, and two eBGP sessions
//       (one over IPv4 for the ipv4 channel, one over IPv6 for the ipv6 channel) export only
//       the prefixes listed in the included prefix files, as an operator's bird.conf does.
// peer: the upstream router. Passive, imports everything, exports nothing.
//
// Timers are short so that sessions come up within a second or two and a dead peer is noticed
// in three; withdrawals need no tuning: a `configure` that changes an export filter makes BIRD
// refeed the channel and send the UPDATE at once (BIRD has no MRAI delay).

export interface BirdSideAddresses {
  readonly ip4: string;
  readonly ip6: string;
}

export interface BirdConfigInput {
  readonly node: BirdSideAddresses;
  readonly peer: BirdSideAddresses;
  readonly nodeAs: number;
  readonly peerAs: number;
  readonly logDir: string;
}

export interface NodeConfigInput extends BirdConfigInput {
  readonly prefixFile4: string;
  readonly prefixFile6: string;
  readonly variable4: string;
  readonly variable6: string;
}

const TIMERS = ['hold time 3;', 'keepalive time 1;', 'connect retry time 1;', 'connect delay time 0;', 'error wait time 1, 2;'];

function quote(path: string): string {
  if (/["\n]/.test(path)) throw new Error(`path not usable in a BIRD config: ${path}`);
  return `"${path}"`;
}

function session(
  name: string,
  local: string,
  localAs: number,
  neighbor: string,
  neighborAs: number,
  extra: readonly string[],
  channel: string,
): string {
  return [
    `protocol bgp ${name} {`,
    `    local ${local} as ${localAs};`,
    `    neighbor ${neighbor} as ${neighborAs};`,
    ...[...TIMERS, ...extra].map((line) => `    ${line}`),
    `    ${channel}`,
    '}',
  ].join('\n');
}

/** Names of the BGP protocols on each side, for `show protocols`. */
export const NODE_SESSIONS = ['peer4', 'peer6'] as const;
export const PEER_SESSIONS = ['node4', 'node6'] as const;

export function renderNodeConfig(input: NodeConfigInput): string {
  return [
    '# test bed: anycast node',
    `router id ${input.node.ip4};`,
    `log ${quote(`${input.logDir}/node-bird.log`)} all;`,
    `include ${quote(input.prefixFile4)};`,
    `include ${quote(input.prefixFile6)};`,
    '',
    'protocol device { scan time 10; }',
    '',
    'protocol direct direct1 {',
    '    ipv4 { import all; };',
    '    ipv6 { import all; };',
    '    interface "lo";',
    '}',
    '',
    session(
      'peer4',
      input.node.ip4,
      input.nodeAs,
      input.peer.ip4,
      input.peerAs,
      [],
      `ipv4 { import none; export where net ~ ${input.variable4}; };`,
    ),
    '',
    session(
      'peer6',
      input.node.ip6,
      input.nodeAs,
      input.peer.ip6,
      input.peerAs,
      [],
      `ipv6 { import none; export where net ~ ${input.variable6}; };`,
    ),
    '',
  ].join('\n');
}

export function renderPeerConfig(input: BirdConfigInput): string {
  return [
    '# test bed: upstream peer',
    `router id ${input.peer.ip4};`,
    `log ${quote(`${input.logDir}/peer-bird.log`)} all;`,
    '',
    'protocol device { scan time 10; }',
    '',
    session('node4', input.peer.ip4, input.peerAs, input.node.ip4, input.nodeAs, ['passive on;'], 'ipv4 { import all; export none; };'),
    '',
    session('node6', input.peer.ip6, input.peerAs, input.node.ip6, input.nodeAs, ['passive on;'], 'ipv6 { import all; export none; };'),
    '',
  ].join('\n');
}
