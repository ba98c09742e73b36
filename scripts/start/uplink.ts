// The host's link into the fabric's WAN: the demo's hub runs on the host (so its API, DNS and
// /go answer on 127.0.0.1), and the sites reach it, and their WireGuard endpoint, over this veth.
// Its peer lives in the WAN namespace, so deleting that namespace removes both ends.
import type { Fabric, Harness } from '../../field-tests/lib/index.ts';

/** The host's address on the WAN (the fabric uses .1 hub, .10+ sites, .100+ clients). */
export const HOST_WAN_IP = '198.18.0.254';

export async function connectHostToWan(h: Harness, fabric: Fabric): Promise<{ ifname: string; wanIp: string }> {
  const ifname = `${h.names.kind}${h.names.tag}up`;
  const port = 'p-host';
  h.onCleanup(async () => {
    await h.exec(undefined, ['ip', 'link', 'del', ifname]);
  });
  await h.mustExec(undefined, ['ip', 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', port, 'netns', fabric.wan.ns]);
  await h.mustExec(undefined, ['ip', '-n', fabric.wan.ns, 'link', 'set', port, 'master', fabric.wan.bridge, 'up']);
  await h.mustExec(undefined, ['ip', 'addr', 'add', `${HOST_WAN_IP}/${fabric.plan.wan.prefixLen}`, 'dev', ifname]);
  await h.mustExec(undefined, ['ip', 'link', 'set', ifname, 'up']);
  // Pods are reachable from the host too (curl what the router answers); the routes go with the link.
  for (const s of fabric.sites) await h.mustExec(undefined, ['ip', 'route', 'add', s.podCidr, 'via', s.wanIp, 'dev', ifname]);
  return { ifname, wanIp: HOST_WAN_IP };
}
