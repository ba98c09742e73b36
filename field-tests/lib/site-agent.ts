// One site's appliance in the fabric: its k3s-protocol API server (edge-agent/kube's fake
// apiserver, with a Namespace and one Pod per pod namespace) and its weft-agent, both inside the
// site namespace. The agent runs in its own mount namespace (in-site.sh): its own
// /run/wireguard, the host's bpffs, so its pins survive a kill -9 as on a real appliance, and a
// /run/netns with only this site's pod namespaces (cni-<name>), where it finds bridged pods' veths.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { exec } from './exec.ts';
import type { ExecResult } from './exec.ts';
import type { SiteNet } from './fabric.ts';
import type { Harness } from './harness.ts';
import type { NsProcess } from './ns-process.ts';
import { checkoutAgent } from './agent-bundle.ts';
import type { AgentEntry } from './agent-bundle.ts';
import { REPO_ROOT, tsEntry } from './repo.ts';

const IN_SITE = fileURLToPath(new URL('./in-site.sh', import.meta.url));

/** The Kubernetes namespace of every pod of the fabric. */
export const POD_NAMESPACE = 'shop';

/** App label of pod k: pod1 is "web", pod2 "db", further pods "app<k>". */
export function podApp(k: number): string {
  return k === 1 ? 'web' : k === 2 ? 'db' : `app${k}`;
}

export interface AgentStart {
  /** Spawned at (Date.now()). */
  at: number;
  proc: NsProcess;
}

export class SiteAgent {
  readonly dir: string;
  readonly dataDir: string;
  readonly pinRoot: string;
  readonly wgRunDir: string;
  /** Mount point of the appliance's own /run/netns (a tmpfs, inside the agent's mount namespace only). */
  readonly netnsDir: string;
  readonly kubeconfig: string;
  readonly provisionFile: string;
  readonly nodeName: string;
  /** The agent process of the latest start(). */
  proc: NsProcess | undefined;
  /** Extra `weft-agent run` flags (e.g. --fqdn-min-ttl-s 1). */
  runArgs: string[] = [];
  private kube: NsProcess | undefined;

  constructor(
    private readonly h: Harness,
    readonly site: SiteNet,
    private readonly agent: AgentEntry = checkoutAgent(),
  ) {
    this.dir = join(h.dir, site.name);
    this.dataDir = join(this.dir, 'agent');
    this.wgRunDir = join(this.dir, 'run-wireguard');
    this.netnsDir = join(this.dir, 'run-netns');
    this.kubeconfig = join(this.dir, 'kubeconfig.yaml');
    this.provisionFile = join(this.dir, 'weft-provision.json');
    this.pinRoot = h.names.pinRoot(site.name);
    this.nodeName = `node-${site.name}`;
    for (const d of [this.dir, this.dataDir, this.wgRunDir, this.netnsDir, join(h.dir, 'bpffs')]) mkdirSync(d, { recursive: true, mode: 0o700 });
  }

  /** Starts the site's API server with its pods (Running, on this node, with their IPs). */
  async startKube(): Promise<void> {
    const objects = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: POD_NAMESPACE, labels: { 'kubernetes.io/metadata.name': POD_NAMESPACE } } },
      ...this.site.pods.map((p, i) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${podApp(i + 1)}-0`, namespace: POD_NAMESPACE, labels: { app: podApp(i + 1) } },
        spec: { nodeName: this.nodeName, containers: [{ name: 'main', image: 'echo' }] },
        status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }] },
      })),
    ];
    const file = join(this.dir, 'objects.yaml');
    writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
    this.kube = this.h.spawn(
      this.site.ns,
      [...tsEntry('edge-agent/kube/testing/fake-apiserver-main.ts'), '--objects', file, '--kubeconfig', this.kubeconfig, '--json'],
      { name: `kube-${this.site.name}` },
    );
    await this.kube.waitForOutput(/"url"/, 90_000);
  }

  /** argv that runs `argv` as the appliance (in-site.sh). */
  private inSite(argv: string[]): string[] {
    const pods = this.site.pods.map((p) => p.ns).join(',');
    return ['unshare', '-m', '--propagation', 'private', 'sh', IN_SITE, this.site.ns, join(this.h.dir, 'bpffs'), this.wgRunDir, this.netnsDir, pods, ...argv];
  }

  /** Flags every weft-agent command of this site takes. */
  private common(): string[] {
    return ['--data-dir', this.dataDir, '--pin-root', this.pinRoot, '--kubeconfig', this.kubeconfig, '--node-name', this.nodeName, '--datapath', 'libbpf'];
  }

  /** Starts `weft-agent run` (first boot enrolls with the provisioning file when there is one); `dataDir`: as another device. */
  start(opts: { dataDir?: string } = {}): AgentStart {
    const common = this.common();
    if (opts.dataDir) common[1] = opts.dataDir;
    const argv = this.inSite([
      process.execPath,
      this.agent.script,
      'run',
      ...common,
      '--provision-file',
      this.provisionFile,
      '--status-port',
      '7181',
      '--log-level',
      'info',
      ...this.runArgs,
    ]);
    const at = Date.now();
    this.proc = this.h.spawn(undefined, argv, { name: `agent-${this.site.name}`, cwd: REPO_ROOT, env: this.agent.env });
    return { at, proc: this.proc };
  }

  /** Runs a weft-agent command (status, flows, enroll, doctor) on the appliance (as another device: dataDir; another node: nodeName). */
  cli(args: string[], opts: { dataDir?: string; nodeName?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    const common = this.common();
    if (opts.dataDir) common[1] = opts.dataDir;
    if (opts.nodeName) common[common.indexOf('--node-name') + 1] = opts.nodeName;
    return exec(undefined, this.inSite([process.execPath, this.agent.script, ...args, ...common]), {
      timeoutMs: opts.timeoutMs ?? 60_000,
      env: this.agent.env,
    });
  }

  /** Like cli(args + --json), parsed; throws with the output when it is not JSON. */
  async cliJson<T>(args: string[], opts: { dataDir?: string; nodeName?: string } = {}): Promise<{ code: number; json: T }> {
    const r = await this.cli([...args, '--json'], opts);
    try {
      return { code: r.code, json: JSON.parse(r.stdout) as T };
    } catch {
      throw new Error(`weft-agent ${args.join(' ')} on ${this.site.name} printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
  }
}
