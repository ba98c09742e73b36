// The status page a technician opens on the appliance (http://127.0.0.1:7181/): the one-line state
// in large type, then the facts behind it. Plain HTML, refreshes itself, no scripts.
import type { VerdictRecord } from '../protocol/index.ts';
import type { AgentStatus } from './status-types.ts';
import { policyLabel } from './verdicts.ts';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function statusPage(s: AgentStatus, flows: VerdictRecord[]): string {
  const row = (k: string, v: unknown) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`;
  const link = s.hub.link;
  const rows = [
    row('site', s.siteId ?? 'not enrolled'),
    row(
      'datapath',
      `${s.datapath.kind ?? 'none'}${s.datapath.notEnforcing ? ` (not enforcing: ${s.datapath.notEnforcing.reason} (${s.datapath.notEnforcing.code}))` : ''}`,
    ),
    row('applied generation', `${s.datapath.appliedGeneration}${s.datapath.appliedAt ? ` at ${s.datapath.appliedAt}` : ''}`),
    row('enforcing since', s.datapath.enforcingSince ?? 'not enforcing'),
    row('hub link', link ? `${link.state}${link.lastError ? ` (${link.lastError})` : ''}, ${link.reconnects} reconnects` : 'not configured'),
    row(
      'tunnel',
      s.tunnel
        ? `${s.tunnel.up ? 'up' : 'down'}, last handshake ${s.tunnel.handshakeAgeS === null ? 'never' : `${s.tunnel.handshakeAgeS} s ago`}`
        : 'not configured',
    ),
    row('last rejection', s.lastRejection ? `generation ${s.lastRejection.generation}: ${s.lastRejection.code} ${s.lastRejection.reason}` : 'none'),
    row('outbox', s.outbox ? `${s.outbox.depth} waiting, ${s.outbox.lostRecords} lost` : 'store unavailable'),
    row('pods attached', s.pods.attached),
    row('version', s.version),
  ].join('\n');
  const flowRows = flows
    .slice()
    .reverse()
    .map(
      (f) =>
        `<tr class="${esc(f.verdict)}"><td>${esc(f.at.slice(11, 19))}</td><td>${esc(f.verdict)}</td><td>${esc(f.endpoint)} ${esc(f.direction)}</td><td>${esc(f.src)}:${f.sport} → ${esc(f.dst)}:${f.dport}/${f.proto}</td><td>${esc(policyLabel(f.policy))}${f.policy ? ` ${esc(f.policy.rule)}` : ''}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>Weft appliance: ${esc(s.state)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}h1{font-size:1.8rem}.ok{color:#11692c}.bad{color:#a4121b}
th{text-align:left;padding-right:1rem;font-weight:600}td,th{padding:.2rem .4rem}tr.deny td{color:#a4121b}table{border-collapse:collapse}</style></head>
<body><h1 class="${s.enforcing ? 'ok' : 'bad'}">${esc(s.state)}</h1>
<table>${rows}</table>
<h2>Recent flows</h2><table>${flowRows || '<tr><td>none yet</td></tr>'}</table>
<p>Commands: <code>weft-agent status</code>, <code>weft-agent doctor</code>, <code>weft-agent flows --follow</code></p></body></html>
`;
}
