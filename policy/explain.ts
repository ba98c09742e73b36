// `explain`: which tier, policy and rule decided a flow, side by side, in data and in words.
import { contextOf, resolveEndpoint, type Endpoint } from './context.ts';
import { checkFlow, type Flow } from './evaluate.ts';
import { podKey, type Inventory } from './inventory.ts';
import type { Direction, PolicySet, RuleRef } from './model.ts';
import { decideSide, type PeerView, type SideOutcome } from './side.ts';
import { combine, type Verdict } from './verdict.ts';

export interface SideExplanation extends SideOutcome {
  direction: Direction;
  pod: string;
  /** The policies that apply to this pod in this direction, by tier, in the order they are met. */
  admin: string[];
  network: string[];
  baseline: string[];
}

export interface Explanation {
  flow: Flow;
  verdict: Verdict;
  sides: SideExplanation[];
}

/** `ClusterNetworkPolicy db-guard (Admin) ingress[0] "deny-mon"`, `NetworkPolicy shop/db-from-web ingress[0]`. */
export function describeRef(r: RuleRef): string {
  const tier = r.tier ? ` (${r.tier})` : '';
  const name = r.ruleName ? ` ${JSON.stringify(r.ruleName)}` : '';
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}${tier} ${r.rule}${name}`;
}

export function explain(policies: PolicySet, inventory: Inventory, flow: Flow): Explanation {
  checkFlow(flow);
  const ctx = contextOf(policies, inventory);
  const src = resolveEndpoint(ctx, flow.src);
  const dst = resolveEndpoint(ctx, flow.dst);
  const peerOf = (e: Endpoint): PeerView => (e.kind === 'pod' ? e : { kind: 'ip', ip: e.ip });
  const side = (self: Endpoint, other: Endpoint, direction: Direction): SideExplanation | null => {
    if (self.kind !== 'pod') return null;
    const r = ctx.rules(self.view, direction);
    const o = decideSide(r, direction, self.view, peerOf(other), flow.protocol, flow.port);
    return {
      ...o,
      direction,
      pod: podKey(self.view.pod),
      admin: r.admin.map((p) => p.name),
      network: r.network.map((p) => `${p.namespace}/${p.name}`),
      baseline: r.baseline.map((p) => p.name),
    };
  };
  const egress = side(src, dst, 'egress');
  const ingress = side(dst, src, 'ingress');
  return { flow, verdict: combine(egress, ingress), sides: [egress, ingress].filter((s): s is SideExplanation => s !== null) };
}

function sideWords(s: SideExplanation): string {
  const head = `${s.direction} of ${s.pod}: ${s.allowed ? 'allowed' : 'denied'}`;
  let why: string;
  if (s.by === null) {
    const applied = [...s.admin.map((n) => `ClusterNetworkPolicy ${n} (Admin)`), ...s.baseline.map((n) => `ClusterNetworkPolicy ${n} (Baseline)`)];
    // With nothing decided, every NetworkPolicy that selects the pod is in audit mode (an enforced one isolates).
    const isolation =
      s.network.length === 0
        ? 'no NetworkPolicy isolates it'
        : `NetworkPolicy ${s.network.join(', ')} isolate${s.network.length > 1 ? '' : 's'} it in audit mode only`;
    why =
      applied.length === 0 && s.network.length === 0
        ? `no policy selects ${s.pod} for ${s.direction}: default allow`
        : `${applied.length > 0 ? `no rule of ${applied.join(', ')} matched (or one passed) and ` : ''}${isolation}: default allow`;
  } else if (s.by.rule === 'isolation') {
    why = `${s.pod} is isolated for ${s.direction} by NetworkPolicy ${s.network.join(', ')} and no ${s.direction} rule of ${s.network.length > 1 ? 'them' : 'it'} matches`;
  } else {
    const tier = s.by.kind === 'NetworkPolicy' ? 'NetworkPolicy tier' : `${s.by.tier} tier`;
    why = `by ${describeRef(s.by).replace(` (${s.by.tier})`, '')} (${tier})`;
  }
  const audit = s.audit ? `\n    audit: ${describeRef(s.audit)} would deny (weft.dev/mode: audit, not enforced)` : '';
  return `  ${head}: ${why}${audit}`;
}

export function explainText(x: Explanation): string {
  const f = x.flow;
  const lines = [`${f.src} -> ${f.dst} ${f.protocol}/${f.port}: ${x.verdict.allowed ? 'ALLOWED' : 'DENIED'}`];
  if (x.sides.length === 0) lines.push('  neither end is a pod: no policy applies');
  for (const s of x.sides) {
    lines.push(sideWords(s));
    if (!s.allowed) break; // the packet never reaches the other side
  }
  return lines.join('\n');
}
