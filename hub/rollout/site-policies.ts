// Which policies a site's bundle carries. Every policy applies to every site, unless it carries the
// annotation `weft.dev/sites: "<key=value,...>"`: then only sites whose labels match get it.
// (Namespaces, Pods and workloads in a push are validation context only: sites take their inventory
// from their own k3s API.)
import type { LabelSelector, SiteRecord } from '../store/types.ts';
import { matches, parseSelector } from './selector.ts';

export const SITES_ANNOTATION = 'weft.dev/sites';
/** What a bundle carries: ClusterNetworkPolicy, NetworkPolicy, and v1alpha1 ANP/BANP kept when v1alpha2 cannot say them exactly. */
export const POLICY_KINDS = new Set(['ClusterNetworkPolicy', 'NetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The annotation's value, when present. */
export function siteAnnotation(obj: unknown): string | undefined {
  if (!isObj(obj) || !isObj(obj.metadata) || !isObj(obj.metadata.annotations)) return undefined;
  const v = obj.metadata.annotations[SITES_ANNOTATION];
  return typeof v === 'string' ? v : undefined;
}

const isPolicy = (o: unknown): boolean => isObj(o) && typeof o.kind === 'string' && POLICY_KINDS.has(o.kind);

export function policiesForSite(objects: readonly unknown[], site: Pick<SiteRecord, 'labels'>): unknown[] {
  return objects.filter((o) => {
    if (!isPolicy(o)) return false;
    const sel = siteAnnotation(o);
    return sel === undefined || matches(parseSelector(sel), site.labels);
  });
}

/**
 * The policy subsets of one version, computed once per distinct selection: sites whose labels pick
 * the same annotated policies share one array (a fleet usually has a handful of distinct sets).
 */
export class PolicySets {
  private readonly annotated: { index: number; selector: LabelSelector }[] = [];
  private readonly byKey = new Map<string, unknown[]>();

  constructor(private readonly objects: readonly unknown[]) {
    objects.forEach((o, index) => {
      const sel = siteAnnotation(o);
      if (sel !== undefined && isPolicy(o)) this.annotated.push({ index, selector: parseSelector(sel) });
    });
  }

  forSite(site: Pick<SiteRecord, 'labels'>): unknown[] {
    const key = this.annotated
      .filter((a) => matches(a.selector, site.labels))
      .map((a) => a.index)
      .join(',');
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = policiesForSite(this.objects, site)));
    return set;
  }
}
