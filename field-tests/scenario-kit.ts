// What the field scenarios share: the policies ops push, hub views they poll, and the checks
// that turn a pod-to-pod connection into allowed / denied.
import { generateKeyPairSync } from 'node:crypto';
import { stringify } from 'yaml';
import { encodeBundle, signBundle } from '../policy/index.ts';
import { probe } from './lib/connectivity.ts';
import type { ProbeResult } from './lib/connectivity.ts';
import type { Harness } from './lib/harness.ts';
import type { HubProcess } from './lib/hub-process.ts';
import { POD_NAMESPACE } from './lib/site-agent.ts';
import type { SiteAgent } from './lib/site-agent.ts';
import { waitFor } from './lib/weft-fabric.ts';

/** Every pod runs an echo server on this port. */
export const APP_PORT = 7000;

const netpol = (name: string, spec: Record<string, unknown>, audit = false) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: POD_NAMESPACE, ...(audit ? { annotations: { 'weft.dev/mode': 'audit' } } : {}) },
  spec,
});
const ingressFrom = (to: string, from: string) => ({
  podSelector: { matchLabels: { app: to } },
  policyTypes: ['Ingress'],
  ingress: [{ from: [{ podSelector: { matchLabels: { app: from } } }], ports: [{ protocol: 'TCP', port: APP_PORT }] }],
});

/** The policy files ops push: default-deny (enforced or audit) plus allow rules. */
export function policyFiles(o: { audit?: boolean; webFromDb?: boolean }): { name: string; content: string }[] {
  const docs = [
    netpol('default-deny', { podSelector: {}, policyTypes: ['Ingress'] }, o.audit),
    netpol('db-from-web', ingressFrom('db', 'web')),
    ...(o.webFromDb ? [netpol('web-from-db', ingressFrom('web', 'db'))] : []),
  ];
  return [{ name: 'shop.yaml', content: docs.map((d) => stringify(d)).join('---\n') }];
}

export interface SiteView {
  id: string;
  state: string;
  generation: number;
  wireguardKey: string | null;
  overlayAddresses: string[];
  lastAck: { generation: number; result: 'applied' | 'rejected'; code: string | null } | null;
  acks: { generation: number; result: 'applied' | 'rejected'; code: string | null }[];
}

/** The answer of POST /v1/rollouts, /v1/rollouts/rollback and GET /v1/rollouts/:id (the parts the scenarios read). */
export interface RolloutStatus {
  rollout: { id: number; kind: string; state: string; reason: string | null };
}

export const siteView = (hub: HubProcess, id: string) => hub.call<SiteView>('GET', `/v1/sites/${id}`);

/** Pushes a policy version; returns its number. */
export async function push(hub: HubProcess, files: { name: string; content: string }[], message: string): Promise<number> {
  return (await hub.call<{ version: number }>('POST', '/v1/policies', { files, message })).version;
}

/** Waits until the site acked (applied) a generation newer than `after`; returns it. */
export function waitApplied(hub: HubProcess, id: string, after: number, timeoutMs = 90_000): Promise<number> {
  return waitFor(
    `${id} applies a generation after ${after}`,
    async () => {
      const v = await siteView(hub, id);
      return v.generation > after && v.lastAck?.generation === v.generation && v.lastAck.result === 'applied' ? v.generation : undefined;
    },
    timeoutMs,
  );
}

/** One TCP connection from pod `from` to pod `to` (1-based) of a site, echoed on success. */
export function connect(h: Harness, a: SiteAgent, from: number, to: number): Promise<ProbeResult> {
  return probe(h, a.site.pods[from - 1].ns, { host: a.site.pods[to - 1].ip, port: APP_PORT, timeoutMs: 1500 });
}

/** 'allowed' when the connection is made and echoed (so replies pass), 'denied' when it times out (dropped). */
export async function verdictOf(h: Harness, a: SiteAgent, from: number, to: number): Promise<'allowed' | 'denied' | string> {
  const r = await connect(h, a, from, to);
  return r.outcome === 'connected' ? 'allowed' : r.outcome === 'timeout' ? 'denied' : `${r.outcome} (${r.error ?? ''})`;
}

/** A bundle for `siteId` claiming the hub's key id but signed with another key: what an attacker on the broker can make. */
export function forgedBundle(siteId: string, hubKeyId: string, generation: number): Buffer {
  const { privateKey } = generateKeyPairSync('ed25519');
  const signed = signBundle({ siteId, generation, issuedAt: new Date().toISOString(), policyVersion: 9999, policies: [] }, privateKey);
  return encodeBundle({ ...signed, keyId: hubKeyId });
}

export interface VerdictLine {
  verdict: string;
  src: string;
  dst: string;
  dport: number;
  policy: { kind: string; namespace?: string; name: string } | null;
}

/** `weft-agent flows --verdict <v> --json` on the appliance, parsed. */
export async function agentFlows(a: SiteAgent, verdict: 'deny' | 'audit'): Promise<VerdictLine[]> {
  const r = await a.cli(['flows', '--verdict', verdict, '--json']);
  if (r.code !== 0) throw new Error(`weft-agent flows exited ${r.code}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as VerdictLine);
}
