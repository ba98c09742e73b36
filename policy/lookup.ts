// A TypeScript interpreter of the datapath tables that does what the kernel does: endpoint by IP
// (or, for pods without IPs, by name), peer identity by ipcache LPM, one rule LPM per side.
// Property tests hold it against the evaluator; bpf/ mirrors it in C.
import { refOf } from './attributions.ts';
import { EndpointError } from './context.ts';
import { checkFlow, type Flow } from './evaluate.ts';
import { bitsOf, cidrContains, formatCidr, parseCidr, parseIp, type Cidr } from '../base/pure.ts';
import { PROTO_NUMBERS } from './compile/protocols.ts';
import { inBlock } from './port-blocks.ts';
import type { SideOutcome } from './side.ts';
import {
  IDENTITY_WORLD,
  RULE_PREFIX_ANY_PORT,
  RULE_PREFIX_ANY_PROTO,
  SET_NONE,
  VERDICT_ALLOW,
  type EndpointEntry,
  type RuleEntry,
  type RuleValue,
  type SetEntry,
  type Tables,
} from './tables.ts';
import { combine, type Verdict } from './verdict.ts';

interface Index {
  byName: Map<string, EndpointEntry>;
  byIp: Map<string, EndpointEntry>;
  ipcache: { cidr: Cidr; identity: number }[];
  sets: Map<number, SetEntry>;
  rules: Map<string, RuleEntry[]>;
}

const indexes = new WeakMap<Tables, Index>();

function indexOf(t: Tables): Index {
  let idx = indexes.get(t);
  if (idx) return idx;
  const byIp = new Map<string, EndpointEntry>();
  for (const e of t.endpoints)
    for (const ip of e.ips) {
      const p = parseIp(ip);
      if (p) byIp.set(formatCidr({ family: p.family, base: p.value, len: bitsOf(p.family) }), e);
    }
  const rules = new Map<string, RuleEntry[]>();
  for (const r of t.rules) {
    const k = `${r.set}:${r.peer}`;
    const list = rules.get(k);
    if (list) list.push(r);
    else rules.set(k, [r]);
  }
  idx = {
    byName: new Map(t.endpoints.map((e) => [e.pod, e])),
    byIp,
    ipcache: t.ipcache.map((e) => ({ cidr: parseCidr(e.cidr) as Cidr, identity: e.identity })),
    sets: new Map(t.sets.map((s) => [s.id, s])),
    rules,
  };
  indexes.set(t, idx);
  return idx;
}

const ALLOW_DEFAULT: RuleValue = { verdict: VERDICT_ALLOW, ruleId: 0, auditRuleId: 0 };

/** The rules LPM: the longest of peer-wide, protocol and port-block (protocol + bits) entries, else the set default. */
export function lookupRule(t: Tables, set: number, peer: number, proto: number, port: number): RuleValue {
  if (set === SET_NONE) return ALLOW_DEFAULT;
  const idx = indexOf(t);
  let best: RuleEntry | null = null;
  let bestLen = -1;
  for (const e of idx.rules.get(`${set}:${peer}`) ?? []) {
    let len: number;
    if (e.proto === null) len = RULE_PREFIX_ANY_PROTO;
    else if (e.proto !== proto || !inBlock({ port: e.port, bits: e.portBits }, port)) continue;
    else len = RULE_PREFIX_ANY_PORT + e.portBits;
    if (len > bestLen) {
      best = e;
      bestLen = len;
    }
  }
  return best ? best.value : (idx.sets.get(set) as SetEntry).default;
}

/** The ipcache LPM: the identity of the longest prefix holding the address, else the world. */
export function lookupIdentity(t: Tables, ipText: string): number {
  const ip = parseIp(ipText);
  if (!ip) return IDENTITY_WORLD;
  let best = -1;
  let id = IDENTITY_WORLD;
  for (const e of indexOf(t).ipcache) {
    if (e.cidr.len > best && cidrContains(e.cidr, ip)) {
      best = e.cidr.len;
      id = e.identity;
    }
  }
  return id;
}

type Resolved = { endpoint: EndpointEntry | null; identity: number };

function resolve(t: Tables, e: string): Resolved {
  const idx = indexOf(t);
  const ip = parseIp(e);
  if (ip) {
    // As in the kernel: an address that is a local endpoint's is that endpoint.
    const ep = idx.byIp.get(formatCidr({ family: ip.family, base: ip.value, len: bitsOf(ip.family) })) ?? null;
    return { endpoint: ep, identity: ep ? ep.identity : lookupIdentity(t, e) };
  }
  const ep = idx.byName.get(e);
  if (!ep)
    throw new EndpointError('POLICY_UNKNOWN_ENDPOINT', `unknown endpoint "${e}"`, 'name a pod of the tables as <namespace>/<name>, or give an IP address');
  return { endpoint: ep, identity: ep.identity };
}

function outcome(t: Tables, v: RuleValue): SideOutcome {
  return { allowed: v.verdict === VERDICT_ALLOW, by: refOf(t.attributions[v.ruleId]), audit: v.auditRuleId ? refOf(t.attributions[v.auditRuleId]) : null };
}

export function lookup(t: Tables, flow: Flow): Verdict {
  checkFlow(flow);
  const src = resolve(t, flow.src);
  const dst = resolve(t, flow.dst);
  const proto = PROTO_NUMBERS[flow.protocol];
  const egress = src.endpoint ? outcome(t, lookupRule(t, src.endpoint.egressSet, dst.identity, proto, flow.port)) : null;
  const ingress = dst.endpoint ? outcome(t, lookupRule(t, dst.endpoint.ingressSet, src.identity, proto, flow.port)) : null;
  return combine(egress, ingress);
}
