// A hand-written table set for the datapath tests (policy.compile's output has the same shape).
// Pods: web (no policy), db (ingress isolated: web may reach TCP 5432, UDP 5000-5003, SCTP 9899,
// TCP 7000 is allowed but an audit policy would deny it; the partner network 198.51.100.0/24 may
// reach TCP 5432, except its host .9, which has an identity of its own), api (egress: DNS to the world denied).
import { VERDICT_ALLOW, VERDICT_DENY, type Tables } from '../../policy/index.ts';

export interface Addrs {
  web: string;
  db: string;
  api: string;
  web6?: string;
  db6?: string;
}

export const RULE = { isolation: 1, dbFromWeb: 2, dbUdp: 3, auditDb: 4, noDns: 5, denyAll: 6, allowAll: 7 } as const;

export function fixtureTables(a: Addrs, dbDefault: 'deny' | 'allow' = 'deny'): Tables {
  const allow = (ruleId: number, auditRuleId = 0) => ({ verdict: VERDICT_ALLOW, ruleId, auditRuleId }) as const;
  const deny = (ruleId: number) => ({ verdict: VERDICT_DENY, ruleId, auditRuleId: 0 }) as const;
  const host = (ip: string) => (ip.includes(':') ? `${ip}/128` : `${ip}/32`);
  return {
    version: 1,
    endpoints: [
      { endpointId: 1, pod: 'shop/web', ips: [a.web, ...(a.web6 ? [a.web6] : [])], identity: 100, ingressSet: 0, egressSet: 0 },
      { endpointId: 2, pod: 'shop/db', ips: [a.db, ...(a.db6 ? [a.db6] : [])], identity: 101, ingressSet: 1, egressSet: 0 },
      { endpointId: 3, pod: 'shop/api', ips: [a.api], identity: 102, ingressSet: 0, egressSet: 2 },
    ],
    ipcache: [
      { cidr: host(a.web), identity: 100 },
      ...(a.web6 ? [{ cidr: host(a.web6), identity: 100 }] : []),
      { cidr: host(a.db), identity: 101 },
      ...(a.db6 ? [{ cidr: host(a.db6), identity: 101 }] : []),
      { cidr: host(a.api), identity: 102 },
      // A partner network (a CIDR peer: the trie) with one host of it known apart (the hash).
      { cidr: '198.51.100.0/24', identity: 200 },
      { cidr: '198.51.100.9/32', identity: 201 },
    ],
    sets: [
      { id: 1, direction: 'ingress', default: dbDefault === 'deny' ? deny(RULE.isolation) : allow(RULE.allowAll) },
      { id: 2, direction: 'egress', default: allow(0) },
    ],
    rules: [
      { set: 1, peer: 100, proto: 6, port: 5432, portBits: 16, value: allow(RULE.dbFromWeb) },
      { set: 1, peer: 100, proto: 17, port: 5000, portBits: 14, value: allow(RULE.dbUdp) },
      { set: 1, peer: 100, proto: 6, port: 7000, portBits: 16, value: allow(RULE.dbFromWeb, RULE.auditDb) },
      { set: 1, peer: 100, proto: 132, port: 9899, portBits: 16, value: allow(RULE.dbFromWeb) },
      { set: 1, peer: 200, proto: 6, port: 5432, portBits: 16, value: allow(RULE.dbFromWeb) },
      { set: 1, peer: 100, proto: 1, port: 0, portBits: 0, value: allow(RULE.dbFromWeb) },
      { set: 1, peer: 100, proto: 58, port: 0, portBits: 0, value: allow(RULE.dbFromWeb) },
      { set: 2, peer: 1, proto: 17, port: 53, portBits: 16, value: deny(RULE.noDns) },
    ],
    identities: [
      { id: 100, description: 'shop/web' },
      { id: 101, description: 'shop/db' },
      { id: 102, description: 'shop/api' },
    ],
    attributions: [],
    sizes: { endpoints: 3, ipcache: 7, sets: 2, rules: 8, identities: 3, attributions: 0 },
  };
}
