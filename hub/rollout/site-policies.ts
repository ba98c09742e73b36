// Which policies a site's bundle carries. Every policy applies to every site, unless it carries the
// annotation `weft.dev/sites: "<key=value,...>"`: then only sites whose labels match get it.
// (Namespaces, Pods and workloads in a push are validation context only: sites take their inventory
// from their own k3s API.)
import type { SiteRecord } from '../store/types.ts';
import { matches, parseSelector } from './selector.ts';

export const SITES_ANNOTATION = 'weft.dev/sites';
export const POLICY_KINDS = new Set(['NetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The annotation's value, when present. */
export function siteAnnotation(obj: unknown): string | undefined {
  if (!isObj(obj) || !isObj(obj.metadata) || !isObj(obj.metadata.annotations)) return undefined;
  const v = obj.metadata.annotations[SITES_ANNOTATION];
  return typeof v === 'string' ? v : undefined;
}

export function policiesForSite(objects: readonly unknown[], site: Pick<SiteRecord, 'labels'>): unknown[] {
  return objects.filter((o) => {
    if (!isObj(o) || typeof o.kind !== 'string' || !POLICY_KINDS.has(o.kind)) return false;
    const sel = siteAnnotation(o);
    return sel === undefined || matches(parseSelector(sel), site.labels);
  });
}
