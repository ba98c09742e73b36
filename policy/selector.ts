// Kubernetes label selector semantics: matchLabels AND every matchExpression.
import { WeftError } from '../base/pure.ts';
import type { NamespaceMatch, Selector } from './model.ts';

/** A selector written as text (a rollout's site selector, a kube `labelSelector`) that cannot be parsed. */
export class SelectorError extends WeftError<'SELECTOR_INVALID'> {
  override readonly name = 'SelectorError';
  constructor(message: string, hint?: string) {
    super('SELECTOR_INVALID', message, hint);
  }
}

export function matchesSelector(sel: Selector, labels: Record<string, string>): boolean {
  for (const k in sel.matchLabels) if (labels[k] !== sel.matchLabels[k]) return false;
  for (const r of sel.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    switch (r.operator) {
      case 'In':
        if (!has || !r.values.includes(labels[r.key])) return false;
        break;
      case 'NotIn':
        if (has && r.values.includes(labels[r.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

export function matchesNamespace(m: NamespaceMatch, name: string, labels: Record<string, string>): boolean {
  return 'name' in m ? m.name === name : matchesSelector(m.selector, labels);
}
