// Site links: which sites get WireGuard peers of each other. Ops declare links as a pair of sites or as
// a label selector ("stores of region=north mesh with the kind=warehouse site of their region"); this
// file turns the declared links and the sites into the pairs that get peers. Pure: no store, no clock.
// Nothing is a full mesh by default: a site with no declared link gets no site peer at all.

import type { LinkRecord, LinkSpec } from '../store/types.ts';

export type { LinkRecord, LinkSpec };

export interface LinkSite {
  id: string;
  labels: Record<string, string>;
  /** Only enrolled sites get peers (a pending site has no key, a revoked one must not be reached). */
  enrolled: boolean;
}

/** One pair of sites that gets peers, a < b, with the links that declared it. */
export interface SitePair {
  a: string;
  b: string;
  links: number[];
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** What is wrong with a link spec (the messages the API and CLI print), empty when it is fine. */
export function linkProblems(spec: LinkSpec): string[] {
  const out: string[] = [];
  if (spec.kind === 'pair') {
    if (spec.a === spec.b) out.push(`a site cannot link to itself (${spec.a})`);
    return out;
  }
  for (const [side, sel] of [
    ['from', spec.from],
    ['to', spec.to],
  ] as const) {
    if (Object.keys(sel).length === 0) out.push(`${side}: a selector needs at least one label (a link is never "every site")`);
    for (const [k, v] of Object.entries(sel)) {
      if (!LABEL_KEY.test(k)) out.push(`${side}: "${k}" is not a label key`);
      if (!LABEL_VALUE.test(v)) out.push(`${side}: "${v}" is not a label value`);
    }
  }
  for (const k of spec.same) if (!LABEL_KEY.test(k)) out.push(`same: "${k}" is not a label key`);
  return out;
}

const matches = (labels: Record<string, string>, sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);

const key = (x: string, y: string): [string, string] => (x < y ? [x, y] : [y, x]);

/** The pairs the links declare among the enrolled sites, sorted by (a, b). */
export function resolveLinks(links: readonly LinkRecord[], sites: readonly LinkSite[]): SitePair[] {
  const live = sites.filter((s) => s.enrolled);
  const byId = new Map(live.map((s) => [s.id, s]));
  const pairs = new Map<string, SitePair>();
  const add = (x: string, y: string, link: number) => {
    if (x === y) return;
    const [a, b] = key(x, y);
    const k = `${a}\n${b}`;
    const p = pairs.get(k) ?? { a, b, links: [] };
    if (!p.links.includes(link)) p.links.push(link);
    pairs.set(k, p);
  };
  for (const l of links) {
    const spec = l.spec;
    if (spec.kind === 'pair') {
      if (byId.has(spec.a) && byId.has(spec.b)) add(spec.a, spec.b, l.id);
      continue;
    }
    const from = live.filter((s) => matches(s.labels, spec.from));
    const to = live.filter((s) => matches(s.labels, spec.to));
    for (const f of from) for (const t of to) if (spec.same.every((k) => f.labels[k] !== undefined && f.labels[k] === t.labels[k])) add(f.id, t.id, l.id);
  }
  return [...pairs.values()].sort((p, q) => (p.a === q.a ? (p.b < q.b ? -1 : 1) : p.a < q.a ? -1 : 1));
}

/** The sites one site is linked with. */
export function peersOf(pairs: readonly SitePair[], siteId: string): string[] {
  return pairs.flatMap((p) => (p.a === siteId ? [p.b] : p.b === siteId ? [p.a] : [])).sort();
}
