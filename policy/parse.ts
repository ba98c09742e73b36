// Manifest text -> plain objects with their place (file, document, path). YAML and JSON alike
// (JSON is YAML), multi-document files, and `kind: List` (or typed lists such as PodList) flattened.
import { parseAllDocuments } from 'yaml';
import { PolicyError, subPath } from './errors.ts';
import { isObj } from './reader.ts';
import { errorMessage } from '../base/pure.ts';

export interface ManifestObject {
  file: string;
  /** 1-based document index in the file. */
  doc: number;
  /** Path of the object inside its document: '' or `items[3]` for list items. */
  path: string;
  object: Record<string, unknown>;
}

export interface ManifestText {
  file: string;
  text: string;
}

export function isManifestObject(v: unknown): v is ManifestObject {
  return isObj(v) && typeof v.file === 'string' && typeof v.doc === 'number' && typeof v.path === 'string' && isObj(v.object);
}

function yamlError(file: string, doc: number, message: string): PolicyError {
  return new PolicyError('POLICY_YAML', { file, doc, path: '' }, message.split('\n')[0], 'fix the YAML/JSON syntax at the line shown');
}

export function parseManifests(docs: readonly ManifestText[]): { objects: ManifestObject[]; errors: PolicyError[] } {
  const objects: ManifestObject[] = [];
  const errors: PolicyError[] = [];
  for (const { file, text } of docs) {
    let parsed: ReturnType<typeof parseAllDocuments>;
    try {
      parsed = parseAllDocuments(text, { uniqueKeys: true });
    } catch (e) {
      errors.push(yamlError(file, 1, errorMessage(e)));
      continue;
    }
    const list = Array.isArray(parsed) ? parsed : [];
    list.forEach((d, i) => {
      const doc = i + 1;
      if (d.errors.length > 0) {
        for (const e of d.errors) errors.push(yamlError(file, doc, e.message));
        return;
      }
      let value: unknown;
      try {
        value = d.toJS({ maxAliasCount: 100 });
      } catch (e) {
        errors.push(yamlError(file, doc, errorMessage(e)));
        return;
      }
      if (value === null || value === undefined) return; // an empty document (e.g. a trailing ---)
      collect(value, file, doc, '', objects, errors);
    });
  }
  return { objects, errors };
}

function collect(value: unknown, file: string, doc: number, path: string, objects: ManifestObject[], errors: PolicyError[]): void {
  if (!isObj(value)) {
    errors.push(
      new PolicyError(
        'POLICY_NOT_OBJECT',
        { file, doc, path },
        'a manifest must be an object with apiVersion and kind',
        'each YAML document is one Kubernetes object, or a kind: List with items',
      ),
    );
    return;
  }
  const kind = value.kind;
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(value.items)) {
    // A typed list (PodList) may leave `kind` off its items: it is implied by the list.
    const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
    value.items.forEach((item, i) => {
      const p = subPath(subPath(path, 'items'), i);
      const withKind = itemKind && isObj(item) && item.kind === undefined ? { ...item, kind: itemKind } : item;
      collect(withKind, file, doc, p, objects, errors);
    });
    return;
  }
  objects.push({ file, doc, path, object: value });
}
