// `weft-agent flows [--follow] [--verdict deny|audit|allow] [--pod ns/name] [--json]`: verdict events
// from the running agent, with the policy and rule that decided, one per line (Hubble-like).
import { errorMessage } from '../base/index.ts';
import type { VerdictRecord } from '../protocol/index.ts';
import type { AgentConfig } from './config.ts';
import { AgentError } from './errors.ts';
import { streamLines } from './local-client.ts';
import type { FlowFilter } from './status-types.ts';
import { policyLabel } from './verdicts.ts';

const PROTO: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 132: 'SCTP' };

export function formatFlow(r: VerdictRecord): string {
  const site = r.remoteSite ? ` (site ${r.remoteSite})` : '';
  const arrow = r.direction === 'egress' ? `${r.endpoint} -> ${r.dst}:${r.dport}${site}` : `${r.src}:${r.sport}${site} -> ${r.endpoint}:${r.dport}`;
  const by = r.policy ? `${policyLabel(r.policy)} ${r.policy.rule}` : 'default';
  return `${r.at}  ${r.verdict.toUpperCase().padEnd(5)}  ${(PROTO[r.proto] ?? String(r.proto)).padEnd(4)}  ${arrow}  (${r.direction}, by ${by}, gen ${r.generation})`;
}

export function flowsPath(f: FlowFilter & { follow?: boolean }): string {
  const q = new URLSearchParams();
  if (f.verdict) q.set('verdict', f.verdict);
  if (f.pod) q.set('pod', f.pod);
  if (f.follow) q.set('follow', '1');
  const s = q.toString();
  return `/flows${s ? `?${s}` : ''}`;
}

export async function runFlows(
  cfg: AgentConfig,
  f: FlowFilter & { follow?: boolean; json?: boolean },
  out: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (f.verdict && !['allow', 'deny', 'audit'].includes(f.verdict)) throw new AgentError('USAGE', `--verdict must be allow, deny or audit, got ${f.verdict}`);
  if (f.pod && !/^[^/]+\/[^/]+$/.test(f.pod)) throw new AgentError('USAGE', `--pod must be namespace/name, got ${f.pod}`);
  try {
    await streamLines(cfg, flowsPath(f), (line) => out(f.json ? line : formatFlow(JSON.parse(line) as VerdictRecord)), signal);
  } catch (e) {
    throw new AgentError('AGENT_NOT_RUNNING', `cannot reach the agent's status API: ${errorMessage(e)}`, 'is the agent running? `systemctl status weft-agent`');
  }
}
