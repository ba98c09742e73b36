// The site-to-site topology (issue 22): the hub on the "internet" (a bridge), each site behind its own
// NAT router (nftables masquerade, and an input chain that drops what it did not ask for, as a home
// or shop router does), both sites built from one template (same LAN 192.168.1.0/24, same pod range
// 10.42.0.0/24, same pod address 10.42.0.7):
//
//   [hub] 203.0.113.1 ─┐                 ┌─ 203.0.113.10 [nat-a] 192.168.1.1 ── 192.168.1.2 [site-a] 10.42.0.1 ── 10.42.0.7 [pod-a]
//                      └── br0 [inet] ───┤
//                                        └─ 203.0.113.20 [nat-b] 192.168.1.1 ── 192.168.1.2 [site-b] 10.42.0.1 ── 10.42.0.7 [pod-b]
import type { Harness } from './harness.ts';

export interface MeshSiteNet {
  name: 'a' | 'b';
  nat: string;
  natWan: string;
  ns: string;
  pod: string;
  podIp: string;
  exportPrefix: string;
}

export interface MeshNet {
  inet: string;
  hub: string;
  hubIp: string;
  sites: [MeshSiteNet, MeshSiteNet];
}

export async function buildMeshNet(h: Harness): Promise<MeshNet> {
  const ip = (ns: string, ...args: string[]) => h.mustExec(undefined, ['ip', '-n', ns, ...args]);
  const inet = await h.addNetns('wms-inet');
  await ip(inet, 'link', 'add', 'br0', 'type', 'bridge');
  await ip(inet, 'link', 'set', 'br0', 'up');
  const onInet = async (ns: string, port: string, addr: string) => {
    await h.mustExec(undefined, ['ip', 'link', 'add', 'wan0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', inet]);
    await ip(inet, 'link', 'set', port, 'master', 'br0', 'up');
    await ip(ns, 'addr', 'add', `${addr}/24`, 'dev', 'wan0');
    await ip(ns, 'link', 'set', 'wan0', 'up');
  };
  const hub = await h.addNetns('wms-hub');
  await onInet(hub, 'p-hub', '203.0.113.1');

  const sites: MeshSiteNet[] = [];
  for (const [name, natWan] of [
    ['a', '203.0.113.10'],
    ['b', '203.0.113.20'],
  ] as const) {
    const nat = await h.addNetns(`wms-nat-${name}`);
    await onInet(nat, `p-nat-${name}`, natWan);
    const ns = await h.addNetns(`wms-site-${name}`);
    await h.mustExec(undefined, ['ip', 'link', 'add', 'lan0', 'netns', nat, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', ns]);
    await ip(nat, 'addr', 'add', '192.168.1.1/24', 'dev', 'lan0');
    await ip(nat, 'link', 'set', 'lan0', 'up');
    await ip(ns, 'addr', 'add', '192.168.1.2/24', 'dev', 'lan0');
    await ip(ns, 'link', 'set', 'lan0', 'up');
    await ip(ns, 'route', 'add', 'default', 'via', '192.168.1.1');
    await h.mustExec(nat, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await h.mustExec(ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await h.mustExec(nat, ['nft', '-f', '-'], {
      input: `table ip wms_nat {
  chain post { type nat hook postrouting priority srcnat; oifname "wan0" masquerade; }
  chain input { type filter hook input priority 0; policy drop; iifname "lo" accept; ct state established,related accept; iifname "lan0" accept; }
}
`,
    });
    // Pods leaving the node for the LAN are masqueraded, as a k3s node does (flannel): the NAT router knows no pod range.
    await h.mustExec(ns, ['nft', '-f', '-'], {
      input: 'table ip wms_node {\n  chain post { type nat hook postrouting priority srcnat; oifname "lan0" ip saddr 10.42.0.0/24 masquerade; }\n}\n',
    });
    const pod = await h.addNetns(`wms-pod-${name}`);
    await h.mustExec(undefined, ['ip', 'link', 'add', 'eth0', 'netns', pod, 'type', 'veth', 'peer', 'name', 'veth-pod', 'netns', ns]);
    await ip(ns, 'addr', 'add', '10.42.0.1/24', 'dev', 'veth-pod');
    await ip(ns, 'link', 'set', 'veth-pod', 'up');
    await ip(pod, 'addr', 'add', '10.42.0.7/24', 'dev', 'eth0');
    await ip(pod, 'link', 'set', 'eth0', 'up');
    await ip(pod, 'route', 'add', 'default', 'via', '10.42.0.1');
    sites.push({ name, nat, natWan, ns, pod, podIp: '10.42.0.7', exportPrefix: '10.42.0.0/24' });
  }
  return { inet, hub, hubIp: '203.0.113.1', sites: sites as [MeshSiteNet, MeshSiteNet] };
}

/** Drops UDP between the two NATs on the internet bridge (the direct path), or lets it through again. */
export async function blockDirect(h: Harness, net: MeshNet, blocked: boolean): Promise<void> {
  const [a, b] = net.sites;
  const script = blocked
    ? `table bridge wms_block {}
delete table bridge wms_block
table bridge wms_block {
  chain forward_udp {
    type filter hook forward priority 0;
    ip saddr ${a.natWan} ip daddr ${b.natWan} meta l4proto udp drop
    ip saddr ${b.natWan} ip daddr ${a.natWan} meta l4proto udp drop
  }
}
`
    : 'table bridge wms_block {}\ndelete table bridge wms_block\n';
  await h.mustExec(net.inet, ['nft', '-f', '-'], { input: script });
}
