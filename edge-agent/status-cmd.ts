// `weft-agent status [--json]`: asks the running agent; when it is not running, reads the store
// (read-only) and the state file so the technician still learns what the device knows.
import { errorMessage } from '../base/index.ts';
import { openStore } from '../offline-store/index.ts';
import type { AgentConfig } from './config.ts';
import { getJson } from './local-client.ts';
import { readStateLine } from './state-line.ts';
import type { AgentStatus } from './status-types.ts';
import { AGENT_VERSION } from './version.ts';

export interface StatusReport {
  running: boolean;
  status: AgentStatus | null;
  /** When not running: what the store and state file say. */
  offline?: { state: string | null; enrolled: boolean; siteId: string | null; lastKnownGood: number | null; outboxDepth: number | null; storeError?: string };
}

export async function collectStatus(cfg: AgentConfig): Promise<StatusReport> {
  try {
    return { running: true, status: await getJson<AgentStatus>(cfg, '/status') };
  } catch {
    const offline: NonNullable<StatusReport['offline']> = {
      state: readStateLine(cfg.stateFile),
      enrolled: false,
      siteId: null,
      lastKnownGood: null,
      outboxDepth: null,
    };
    try {
      const store = openStore(cfg.storePath, { readonly: true, integrityCheck: 'quick' });
      try {
        const e = store.identity.enrollment();
        offline.enrolled = e !== null;
        offline.siteId = e?.siteId ?? null;
        offline.lastKnownGood = store.bundles.lastKnownGood()?.generation ?? null;
        offline.outboxDepth = store.outbox.depth();
      } finally {
        store.close();
      }
    } catch (e) {
      offline.storeError = errorMessage(e);
    }
    return { running: false, status: null, offline };
  }
}

const ago = (iso: string | null) => (iso ? `${iso} (${Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))} s ago)` : 'never');

export function formatStatus(r: StatusReport): string {
  const lines: string[] = [];
  const kv = (k: string, v: string) => lines.push(`${(k + ':').padEnd(14)}${v}`);
  if (!r.running || !r.status) {
    const o = r.offline!;
    kv('agent', `not running (weft-agent ${AGENT_VERSION}); start it with \`systemctl start weft-agent\` or \`weft-agent run\``);
    kv('last state', o.state ?? 'unknown');
    kv('site', o.enrolled ? `${o.siteId} (enrolled)` : 'not enrolled');
    kv(
      'last good',
      o.lastKnownGood === null ? 'no bundle stored' : `generation ${o.lastKnownGood} (enforced from the kernel's pinned maps while the agent is down)`,
    );
    if (o.outboxDepth !== null) kv('outbox', `${o.outboxDepth} waiting`);
    if (o.storeError) kv('store', `cannot read: ${o.storeError}`);
    return lines.join('\n');
  }
  const s = r.status;
  const link = s.hub.link;
  kv('state', s.state);
  kv('site', s.enrolled ? `${s.siteId} (enrolled)${s.node !== undefined ? `, node ${s.node}` : ''}` : 'not enrolled');
  for (const n of s.siteNodes ?? []) {
    kv(
      `node ${n.name}`,
      `${n.state}, generation ${n.appliedGeneration ?? '-'}, agent ${n.agentVersion ?? '-'}, heard ${new Date(n.heardAt).toISOString()}${n.nodeReady === false ? ', not ready' : ''}`,
    );
  }
  kv(
    'hub link',
    link
      ? `${link.state}${link.connectedSince ? ` since ${new Date(link.connectedSince).toISOString()}` : ''} (MQTT ${link.mqttVersion === 5 ? '5' : '3.1.1'}), ${link.reconnects} reconnects${link.lastError ? `, last error: ${link.lastError}` : ''}`
      : 'not started',
  );
  if (s.hub.clockSkewMs !== null && Math.abs(s.hub.clockSkewMs) > 60_000) kv('clock', `off by ${Math.round(s.hub.clockSkewMs / 1000)} s from the hub: fix NTP`);
  kv(
    'tunnel',
    s.tunnel
      ? `${s.tunnel.up ? 'up' : 'down'}, handshake ${s.tunnel.handshakeAgeS === null ? 'never' : `${s.tunnel.handshakeAgeS} s ago`}${s.tunnel.detail ? ` (${s.tunnel.detail})` : ''}`
      : 'not configured',
  );
  kv('applied', `generation ${s.datapath.appliedGeneration}, at ${ago(s.datapath.appliedAt)}`);
  kv('enforcing', s.enforcing ? `since ${s.datapath.enforcingSince} (${s.datapath.timeToEnforcingS?.toFixed(2)} s after start)` : 'no');
  const ne = s.datapath.notEnforcing;
  kv('datapath', `${s.datapath.kind ?? 'none'}${ne ? ` (not enforcing: ${ne.reason} (${ne.code}); packets are not filtered)` : ''}`);
  kv(
    'rejected',
    s.lastRejection ? `generation ${s.lastRejection.generation} at ${s.lastRejection.at}: ${s.lastRejection.code} ${s.lastRejection.reason}` : 'none',
  );
  kv('outbox', s.outbox ? `${s.outbox.depth} waiting, ${s.outbox.lostRecords} lost` : 'store unavailable');
  kv('pods', `${s.pods.attached} attached`);
  if (s.store && (!s.store.writable || s.store.lastError))
    kv('store', `${s.store.writable ? 'writable' : 'READ-ONLY'}${s.store.lastError ? `: ${s.store.lastError}` : ''}`);
  for (const m of s.mesh ?? [])
    kv(
      `link ${m.site}`,
      `${m.state} since ${m.since}, handshake ${m.handshakeAgeS === null ? 'never' : `${Math.round(m.handshakeAgeS)} s ago`}${m.endpoint ? ` via ${m.endpoint}` : ''}`,
    );
  if (s.kube) kv('k3s', s.kube.synced ? 'synced' : `not synced${s.kube.lastError ? `: ${s.kube.lastError}` : ''}`);
  return lines.join('\n');
}
