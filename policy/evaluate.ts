// The reference evaluator: (policies, inventory, flow) -> verdict. The oracle for the compiler,
// the datapath and the CLI.
import { contextOf, EndpointError, resolveEndpoint, type Endpoint } from './context.ts';
import type { Inventory, Protocol } from './inventory.ts';
import type { PolicySet } from './model.ts';
import { decideSide, type SideOutcome } from './side.ts';
import { combine, type Verdict } from './verdict.ts';

export interface Flow {
  /** `<namespace>/<name>` of a pod or workload, or an IP address (external). */
  src: string;
  dst: string;
  protocol: Protocol;
  port: number;
}

const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

export function checkFlow(flow: Flow): void {
  if (!PROTOCOLS.includes(flow.protocol))
    throw new EndpointError('POLICY_BAD_FLOW', `unknown protocol ${JSON.stringify(flow.protocol)}`, 'use TCP, UDP or SCTP');
  if (!Number.isInteger(flow.port) || flow.port < 0 || flow.port > 65535)
    throw new EndpointError('POLICY_BAD_FLOW', `bad port ${JSON.stringify(flow.port)}`, 'ports are integers 0-65535');
}

export function evaluate(policies: PolicySet, inventory: Inventory, flow: Flow): Verdict {
  checkFlow(flow);
  const ctx = contextOf(policies, inventory);
  const src = resolveEndpoint(ctx, flow.src);
  const dst = resolveEndpoint(ctx, flow.dst);
  const peerOf = (e: Endpoint) => (e.kind === 'pod' ? e : { kind: 'ip' as const, ip: e.ip });
  const egress: SideOutcome | null =
    src.kind === 'pod' ? decideSide(ctx.rules(src.view, 'egress'), 'egress', src.view, peerOf(dst), flow.protocol, flow.port) : null;
  const ingress: SideOutcome | null =
    dst.kind === 'pod' ? decideSide(ctx.rules(dst.view, 'ingress'), 'ingress', dst.view, peerOf(src), flow.protocol, flow.port) : null;
  return combine(egress, ingress);
}
