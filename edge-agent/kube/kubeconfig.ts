// Where the k3s API is and how to authenticate to it: a kubeconfig file (k3s writes
// /etc/rancher/k3s/k3s.yaml: client certificate and CA inline) or the in-cluster service account.
// Read by hand rather than with client-node's KubeConfig: that class alone loads the whole generated client
// (~25 MB of source held in the heap, ~100 MB of RSS), and the agent needs only these fields.
// Not supported (a clear KUBE_CONFIG error, not a silent failure): exec and auth-provider plugins, proxies.
import { errorMessage } from '../../base/index.ts';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KubeError, type KubeInventoryOptions } from './types.ts';

export interface KubeTarget {
  /** https://host:port (or http:// for a test server). */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTlsVerify: boolean;
  /** Bearer token, read at each request: service account tokens are rotated on disk. */
  token(): string | undefined;
  /** "user:password" for basic auth (rare; k3s can be set up so). */
  basic?: string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Named<T> = { name?: string } & T;
interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
}
interface UserEntry {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  exec?: unknown;
  'auth-provider'?: unknown;
}
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
  clusters?: Named<{ cluster?: ClusterEntry }>[];
  users?: Named<{ user?: UserEntry }>[];
}

export async function loadKubeConfig(opts: Pick<KubeInventoryOptions, 'kubeconfig'>, env: NodeJS.ProcessEnv = process.env): Promise<KubeTarget> {
  if (opts.kubeconfig !== undefined) return fromFile(opts.kubeconfig);
  if (!env.KUBERNETES_SERVICE_HOST) {
    throw new KubeError(
      'KUBE_CONFIG',
      'no kubeconfig given and not running in a pod (KUBERNETES_SERVICE_HOST is unset)',
      'pass --kubeconfig /etc/rancher/k3s/k3s.yaml, or run the agent as the k3s DaemonSet (edge-agent/deploy/k3s)',
    );
  }
  const host = env.KUBERNETES_SERVICE_HOST.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST;
  const tokenFile = join(SA_DIR, 'token');
  return {
    server: `https://${host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`,
    ca: existsSync(join(SA_DIR, 'ca.crt')) ? readFileSync(join(SA_DIR, 'ca.crt')) : undefined,
    insecureSkipTlsVerify: false,
    token: () => (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined),
  };
}

function fromFile(path: string): KubeTarget {
  if (!existsSync(path)) {
    throw new KubeError('KUBE_CONFIG', `kubeconfig ${path} does not exist`, 'k3s writes it to /etc/rancher/k3s/k3s.yaml; pass --kubeconfig <path>');
  }
  const bad = (what: string, hint = 'check the file is a valid kubeconfig') => new KubeError('KUBE_CONFIG', `kubeconfig ${path}: ${what}`, hint);
  let doc: KubeconfigFile;
  try {
    doc = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as KubeconfigFile;
  } catch (err) {
    throw new KubeError('KUBE_CONFIG', `kubeconfig ${path}: ${errorMessage(err)}`, 'check the file is a valid kubeconfig', { cause: err });
  }
  const ctxName = doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  if (!ctx || !cluster?.server) throw bad('has no current cluster', 'set current-context to a context whose cluster has a server');
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (user.exec || user['auth-provider'])
    throw bad(`user ${ctx.user}: exec and auth-provider plugins are not supported`, "use a token or a client certificate (k3s's own kubeconfig has one)");
  // Relative file references are relative to the kubeconfig, as kubectl reads them.
  const file = (p: string | undefined) => (p === undefined ? undefined : readFileSync(isAbsolute(p) ? p : join(dirname(path), p)));
  const inline = (d: string | undefined) => (d === undefined ? undefined : Buffer.from(d, 'base64'));
  let token: string | undefined;
  try {
    token = user.token ?? (user.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : undefined);
    return {
      server: cluster.server.replace(/\/+$/, ''),
      ca: inline(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']),
      cert: inline(user['client-certificate-data']) ?? file(user['client-certificate']),
      key: inline(user['client-key-data']) ?? file(user['client-key']),
      insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
      token: () => token,
      basic: user.username !== undefined ? `${user.username}:${user.password ?? ''}` : undefined,
    };
  } catch (err) {
    throw bad(`a file it names cannot be read: ${errorMessage(err)}`, 'fix the path in the kubeconfig or inline the data (*-data keys)');
  }
}
