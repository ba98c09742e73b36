// One synthetic policy in three dialects, so Weft, iptables and nftables judge the same rules:
// the server pod admits N rules' worth of (peer, TCP port) pairs, then the client's two ports
// (iperf3 TCP 5201, sockperf UDP 11111), and drops the rest. Peers grow with the rules (ten ports
// each), as in a real site where more rules mean more pods: a lookup whose cost grows with the
// number of peers (a trie's depth) shows up here.
import { VERDICT_ALLOW, VERDICT_DENY, type RuleEntry, type Tables } from '../../policy/index.ts';

export const IPERF_PORT = 5201;
export const SOCKPERF_PORT = 11111;
const PORTS_PER_PEER = 10;

export interface Pair {
  client: string;
  server: string;
}

/** Distinct peers among the filler rules of a policy of `rules` rules (at most 65536). */
export const peerCount = (rules: number) => Math.min(65536, Math.max(1, Math.ceil((rules - 2) / PORTS_PER_PEER)));

/** Filler rule i of `peers`: peer 10.200.x.y to TCP port 10000 + i / peers. None matches the client. */
function filler(i: number, peers: number): { peer: number; ip: string; port: number } {
  const k = i % peers;
  return { peer: 1000 + k, ip: `10.${200 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`, port: 10000 + Math.floor(i / peers) };
}

/** rules = 0: the programs run but no policy selects the server (the set-0 fast path). */
export function weftTables(p: Pair, rules: number): Tables {
  const allow = (ruleId: number) => ({ verdict: VERDICT_ALLOW, ruleId, auditRuleId: 0 }) as const;
  const n = peerCount(rules);
  const fill: RuleEntry[] = Array.from({ length: Math.max(0, rules - 2) }, (_, i) => {
    const f = filler(i, n);
    return { set: 1, peer: f.peer, proto: 6, port: f.port, portBits: 16, value: allow(10 + i) };
  });
  const peers = Math.min(n, fill.length);
  const t: Tables = {
    version: 1,
    endpoints: [
      { endpointId: 1, pod: 'bench/client', ips: [p.client], identity: 100, ingressSet: 0, egressSet: 0 },
      { endpointId: 2, pod: 'bench/server', ips: [p.server], identity: 101, ingressSet: rules ? 1 : 0, egressSet: 0 },
    ],
    ipcache: [
      { cidr: `${p.client}/32`, identity: 100 },
      { cidr: `${p.server}/32`, identity: 101 },
      ...Array.from({ length: peers }, (_, k) => ({ cidr: `${filler(k, n).ip}/32`, identity: filler(k, n).peer })),
    ],
    sets: rules ? [{ id: 1, direction: 'ingress', default: { verdict: VERDICT_DENY, ruleId: 1, auditRuleId: 0 } }] : [],
    rules: rules
      ? [
          ...fill,
          { set: 1, peer: 100, proto: 6, port: IPERF_PORT, portBits: 16, value: allow(2) },
          { set: 1, peer: 100, proto: 17, port: SOCKPERF_PORT, portBits: 16, value: allow(3) },
        ]
      : [],
    identities: [],
    attributions: [],
    sizes: { endpoints: 2, ipcache: 2 + peers, sets: rules ? 1 : 0, rules: rules ? fill.length + 2 : 0, identities: 0, attributions: 0 },
  };
  return t;
}

/** iptables-restore input: one linear chain, every packet to the server walks it (no ESTABLISHED shortcut). */
export function iptablesRules(p: Pair, rules: number): string {
  const lines = ['*filter', ':WEFTBENCH - [0:0]', `-A FORWARD -d ${p.server}/32 -j WEFTBENCH`];
  const n = peerCount(rules);
  for (let i = 0; i < rules - 2; i++) {
    const f = filler(i, n);
    lines.push(`-A WEFTBENCH -s ${f.ip}/32 -p tcp -m tcp --dport ${f.port} -j ACCEPT`);
  }
  lines.push(`-A WEFTBENCH -s ${p.client}/32 -p tcp -m tcp --dport ${IPERF_PORT} -j ACCEPT`);
  lines.push(`-A WEFTBENCH -s ${p.client}/32 -p udp -m udp --dport ${SOCKPERF_PORT} -j ACCEPT`);
  lines.push('-A WEFTBENCH -j DROP', 'COMMIT', '');
  return lines.join('\n');
}

/** nft -f input: the same pairs in a hashed set, one lookup per packet (bridge family: no br_netfilter). */
export function nftRules(p: Pair, rules: number): string {
  const n = peerCount(rules);
  const elems = Array.from({ length: rules - 2 }, (_, i) => `${filler(i, n).ip} . ${filler(i, n).port}`);
  elems.push(`${p.client} . ${IPERF_PORT}`);
  return [
    'table bridge weftbench {',
    '  set tcp_allowed { type ipv4_addr . inet_service; }',
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    `    ip daddr ${p.server} ip saddr . tcp dport @tcp_allowed accept`,
    `    ip daddr ${p.server} ip saddr ${p.client} udp dport ${SOCKPERF_PORT} accept`,
    `    ip daddr ${p.server} drop`,
    '  }',
    '}',
    // Elements in chunks: one enormous line slows nft's parser more than many adds.
    ...chunks(elems, 5000).map((c) => `add element bridge weftbench tcp_allowed { ${c.join(', ')} }`),
    '',
  ].join('\n');
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
