// Several hub nodes on the fabric (issue 17): node 1 in the fabric's hub namespace, nodes 2.. as more
// WAN members, each a hub replica (hub-main.ts with --store, --node-name/--node-index) with its own
// WireGuard interface, broker and router; one PostgreSQL in a namespace of its own on the WAN; the
// sites, created through node 1 and enrolled through it, keep a tunnel peer to every node.
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type TestPostgres } from '../../hub/testing/index.ts';
import { checkoutAgent } from './agent-bundle.ts';
import { buildFabric, type Fabric, type WanMember } from './fabric.ts';
import type { Harness } from './harness.ts';
import { HubProcess } from './hub-process.ts';
import { SiteAgent } from './site-agent.ts';
import { SERVICE, serviceUrl, waitFor } from './weft-fabric.ts';

/** WAN addresses: node k at 198.18.0.k (node 1 is the fabric's hub), PostgreSQL at .9. */
const nodeIp = (k: number) => `198.18.0.${k}`;
const PG_IP = '198.18.0.9';
/** Node k's own overlay index: from the top of the fabric's /24 (254, 253, ...). */
export const nodeIndex = (k: number) => 255 - k;

export interface ClusterNode {
  name: string;
  member: WanMember;
  hub: HubProcess;
  /** Start arguments, to start it again after a kill. */
  restart(): Promise<HubProcess>;
}

export interface HubCluster {
  fabric: Fabric;
  pg: TestPostgres;
  /** The store URL the nodes use (over the WAN). */
  storeUrl: string;
  /** The same database for the test process (unix socket). */
  db: pg.Pool;
  nodes: ClusterNode[];
  agents: SiteAgent[];
  zone: string;
}

export async function startHubCluster(h: Harness, o: { sites: number; nodes: number; zone?: string }): Promise<HubCluster> {
  const zone = o.zone ?? 'svc.weft.test';
  const extra = Array.from({ length: o.nodes - 1 }, (_, i) => ({ role: `hub${i + 2}`, wanIp: nodeIp(i + 2) }));
  const fabric = await buildFabric(h, { sites: o.sites, podsPerSite: 2, clients: 1, extraMembers: [...extra, { role: 'pg', wanIp: PG_IP }] });
  const pgMember = fabric.extra[fabric.extra.length - 1];
  const pgc = await startPostgres({ netns: pgMember.ns, host: PG_IP });
  h.onCleanup(async () => pgc.remove());
  const storeUrl = await pgc.createDatabase('weft');
  const db = new pg.Pool({ connectionString: pgc.local('weft'), max: 2 });
  db.on('error', () => {});
  h.onCleanup(() => db.end());

  const members = [fabric.hub, ...fabric.extra.slice(0, o.nodes - 1)];
  const nameservers = members.flatMap((m, i) => ['--nameserver', `ns${i + 1}.${zone}=${m.wanIp}`]);
  // One broker key for the cluster (NATS passwords derive from it), written by the first node.
  const brokerKey = join(h.dir, 'broker.key');
  const nodes: ClusterNode[] = [];
  const starting: Promise<HubProcess>[] = [];
  for (const [i, member] of members.entries()) {
    const name = `hub${i + 1}`;
    const role = i === 0 ? 'hub' : name;
    const dataDir = join(h.dir, role);
    if (i > 0) {
      // What every node shares besides the store (docs/ops.md): the CA (agents pin it), the bundle
      // signing keys and, written once by the first node, the admin token. The first node writes them
      // before its broker starts; its NATS node waits for the others to form the cluster.
      const first = join(h.dir, 'hub');
      const parts = ['pki/ca.crt', 'signing-keys', 'admin-token', 'broker.key'].map((p) => (p === 'broker.key' ? brokerKey : join(first, p)));
      await waitFor('hub node 1 to write its CA, keys and admin token', async () => parts.every((p) => existsSync(p)), 90_000, 200);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      for (const part of ['pki', 'signing-keys', 'admin-token']) cpSync(join(first, part), join(dataDir, part), { recursive: true });
    }
    const routes = members.filter((m) => m !== member).flatMap((m) => ['--nats-route', `${m.wanIp}:6222`]);
    const start = () =>
      HubProcess.start(h, fabric, {
        zone,
        member,
        role,
        dataDir,
        args: ['--store', storeUrl, '--node-name', name, '--node-index', String(nodeIndex(i + 1)), '--nats-key-file', brokerKey, ...routes, ...nameservers],
      });
    starting.push(start());
    nodes.push({ name, member, hub: undefined as unknown as HubProcess, restart: start });
  }
  for (const [i, p] of (await Promise.all(starting)).entries()) nodes[i].hub = p;

  const entry = checkoutAgent();
  const agents = fabric.sites.map((s) => new SiteAgent(h, s, entry));
  await Promise.all(agents.map((a) => a.startKube()));
  for (const s of fabric.sites) {
    const client = fabric.clients[s.index - 1];
    await nodes[0].hub.call('POST', '/v1/sites', {
      name: s.name,
      lat: 48 + s.index,
      lon: 11,
      capacity: 100,
      clientCidrs: client ? [`${client.wanIp}/32`] : [],
      services: [{ name: SERVICE, addresses: [s.pods[0].ip], url: serviceUrl(s) }],
    });
  }
  return { fabric, pg: pgc, storeUrl, db, nodes, agents, zone };
}
