// Validation pieces shared by the three policy kinds: metadata, selectors, CIDRs, ports.
import { subPath } from './errors.ts';
import { cidrContains, cidrLast, formatCidr, parseCidr, type Cidr } from '../base/pure.ts';
import type { Protocol } from './inventory.ts';
import type { Operator, Requirement, Selector } from './model.ts';
import { isObj, type Obj, type Reader } from './reader.ts';

export const MODE_ANNOTATION = 'weft.dev/mode';
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
const OPERATORS: readonly Operator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
/** IANA_SVC_NAME: what a named container port may be called. */
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export interface Meta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  audit: boolean;
}

/** metadata.name (required), namespace (default `default`), labels, and the weft.dev/mode annotation. */
export function readMeta(r: Reader, obj: Obj, path: string): Meta | null {
  const meta = r.object(obj, 'metadata', path, true);
  if (!meta) return null;
  const mp = subPath(path, 'metadata');
  const name = r.string(meta, 'name', mp, true);
  const namespace = r.string(meta, 'namespace', mp) ?? 'default';
  if (name !== null && (name.length > 253 || !DNS_SUBDOMAIN.test(name))) {
    r.fail('POLICY_BAD_NAME', subPath(mp, 'name'), `invalid name "${name}"`, 'lowercase alphanumerics, "-" and ".", at most 253 characters');
  }
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) {
    r.fail('POLICY_BAD_NAME', subPath(mp, 'namespace'), `invalid namespace "${namespace}"`, 'lowercase alphanumerics and "-", at most 63 characters');
  }
  const labels = r.labels(meta, 'labels', mp);
  const annotations = r.object(meta, 'annotations', mp);
  let audit = false;
  const mode = annotations?.[MODE_ANNOTATION];
  if (mode !== undefined) {
    if (mode === 'audit') audit = true;
    else if (mode !== 'enforce') {
      r.fail(
        'POLICY_BAD_MODE',
        `${subPath(mp, 'annotations')}["${MODE_ANNOTATION}"]`,
        `unknown mode ${JSON.stringify(mode)}`,
        'use "audit" (log what would be denied) or "enforce" (the default)',
      );
    }
  }
  return name === null ? null : { name, namespace, labels, audit };
}

/** A LabelSelector; absent or null is the empty selector (everything). */
export function readSelector(r: Reader, parent: Obj, key: string, path: string): Selector {
  const obj = r.object(parent, key, path);
  const sel: Selector = { matchLabels: {}, matchExpressions: [] };
  if (!obj) return sel;
  const p = subPath(path, key);
  r.known(obj, ['matchLabels', 'matchExpressions'], p);
  sel.matchLabels = r.labels(obj, 'matchLabels', p);
  const exprs = r.list(obj, 'matchExpressions', p) ?? [];
  for (const { item, path: ep } of r.objects(exprs, subPath(p, 'matchExpressions'))) {
    r.known(item, ['key', 'operator', 'values'], ep);
    const k = r.string(item, 'key', ep, true);
    const op = r.string(item, 'operator', ep, true);
    const rawValues = r.list(item, 'values', ep) ?? [];
    const values: string[] = [];
    rawValues.forEach((v, i) => {
      if (typeof v === 'string') values.push(v);
      else
        r.fail(
          'POLICY_BAD_SELECTOR',
          subPath(subPath(ep, 'values'), i),
          `selector values must be strings, got ${JSON.stringify(v)}`,
          'quote values that look like numbers or booleans',
        );
    });
    if (op !== null && !OPERATORS.includes(op as Operator)) {
      r.fail('POLICY_BAD_SELECTOR', subPath(ep, 'operator'), `unknown operator "${op}"`, 'use In, NotIn, Exists or DoesNotExist');
      continue;
    }
    if (k === null || op === null) continue;
    const operator = op as Operator;
    if ((operator === 'In' || operator === 'NotIn') && rawValues.length === 0) {
      r.fail('POLICY_BAD_SELECTOR', subPath(ep, 'values'), `${operator} needs at least one value`, 'list the values, or use Exists/DoesNotExist');
    } else if ((operator === 'Exists' || operator === 'DoesNotExist') && rawValues.length > 0) {
      r.fail('POLICY_BAD_SELECTOR', subPath(ep, 'values'), `${operator} takes no values`, 'remove values, or use In/NotIn');
    }
    const req: Requirement = { key: k, operator, values: [...values].sort() };
    sel.matchExpressions.push(req);
  }
  return sel;
}

export function readCidr(r: Reader, v: unknown, path: string): Cidr | null {
  const c = typeof v === 'string' ? parseCidr(v.trim()) : null;
  if (!c) r.fail('POLICY_BAD_CIDR', path, `invalid CIDR ${JSON.stringify(v)}`, 'write an address and a prefix length, e.g. 10.0.0.0/8 or fd00::/8');
  return c;
}

/** ipBlock's except entries must lie inside its cidr (Kubernetes rejects them otherwise). */
export function readExcepts(r: Reader, cidr: Cidr, items: unknown[], path: string): Cidr[] {
  const out: Cidr[] = [];
  items.forEach((v, i) => {
    const p = subPath(path, i);
    const c = readCidr(r, v, p);
    if (!c) return;
    const inside = c.family === cidr.family && c.len > cidr.len && cidrContains(cidr, { family: c.family, value: c.base }) && cidrLast(c) <= cidrLast(cidr);
    if (!inside)
      r.fail('POLICY_BAD_CIDR', p, `except ${formatCidr(c)} is not inside cidr ${formatCidr(cidr)}`, 'each except must be a strict sub-range of the cidr');
    else out.push(c);
  });
  return out;
}

export function readProtocol(r: Reader, obj: Obj, path: string, required = false): Protocol | null {
  const p = r.string(obj, 'protocol', path, required);
  if (p === null) return required ? null : 'TCP';
  if (!PROTOCOLS.includes(p as Protocol)) {
    r.fail('POLICY_BAD_PROTOCOL', subPath(path, 'protocol'), `unknown protocol "${p}"`, 'use TCP, UDP or SCTP');
    return null;
  }
  return p as Protocol;
}

export function readPortNumber(r: Reader, obj: Obj, key: string, path: string, required = false): number | null {
  const n = r.integer(obj, key, path, required);
  if (n !== null && (n < 1 || n > 65535)) {
    r.fail('POLICY_BAD_PORT', subPath(path, key), `port ${n} is out of range`, 'ports are 1-65535');
    return null;
  }
  return n;
}

export function checkPortName(r: Reader, name: string, path: string): boolean {
  if (name.length <= 15 && PORT_NAME.test(name) && !name.includes('--')) return true;
  r.fail(
    'POLICY_BAD_PORT',
    path,
    `invalid port name "${name}"`,
    'a named port has at most 15 lowercase alphanumerics or "-", with at least one letter; numbers are written without quotes',
  );
  return false;
}

/** Policy rule lists: absent or null is no rules. */
export function ruleItems(r: Reader, spec: Obj, key: string, path: string): { item: Obj; path: string }[] {
  const list = r.list(spec, key, path);
  return list ? r.objects(list, subPath(path, key)) : [];
}

export { isObj };
