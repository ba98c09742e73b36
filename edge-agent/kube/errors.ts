// Turns what a list or watch fails with (KubeHttpError with statusCode, a watch ERROR event, socket and TLS
// errors) into a KubeError that says what to fix.
import { KubeError } from './types.ts';
import { errorMessage } from '../../base/index.ts';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function httpStatus(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  }
  return undefined;
}

export function toKubeError(err: unknown, what: string, server: string): KubeError {
  if (err instanceof KubeError) return err;
  const code = httpStatus(err);
  if (code === 401) {
    return new KubeError(
      'KUBE_AUTH',
      `${what}: the API server at ${server} rejected the credentials (401 Unauthorized)`,
      "check the token or client certificate in the kubeconfig (k3s: /etc/rancher/k3s/k3s.yaml) or the pod's service account token",
      { cause: err },
    );
  }
  if (code === 403) {
    return new KubeError(
      'KUBE_FORBIDDEN',
      `${what}: forbidden (403) at ${server}`,
      'the weft-agent ClusterRole needs list and watch on this resource (edge-agent/deploy/k3s/rbac.yaml)',
      { cause: err },
    );
  }
  const net = networkCode(err);
  if (net) {
    return new KubeError(
      'KUBE_UNREACHABLE',
      `${what}: cannot reach the API server at ${server} (${net})`,
      'is k3s running? (systemctl status k3s); the agent keeps enforcing and retries',
      { cause: err },
    );
  }
  const detail = errorMessage(err);
  return new KubeError('KUBE_API', `${what}: ${code ? `HTTP ${code}: ` : ''}${detail.split('\n')[0]}`, 'see the API server logs', { cause: err });
}
