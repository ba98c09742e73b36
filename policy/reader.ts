// Typed reading of untrusted parsed YAML/JSON: every wrong shape becomes a coded PolicyError at its path,
// and reading goes on, so one pass reports all errors of a document.
import { PolicyError, subPath, type PolicyErrorCode } from './errors.ts';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);
}

export class Reader {
  constructor(
    readonly file: string,
    readonly doc: number,
    readonly errors: PolicyError[],
  ) {}

  fail(code: PolicyErrorCode, path: string, message: string, hint: string, rule?: string): void {
    this.errors.push(new PolicyError(code, { file: this.file, doc: this.doc, path }, message, hint, rule));
  }

  /** One field of a given shape: absent or null gives null (an error when required); a wrong shape is an error. */
  private field<T>(parent: Obj, key: string, path: string, required: boolean, is: (v: unknown) => v is T, expected: string, hint: string): T | null {
    const v = parent[key];
    const p = subPath(path, key);
    if (v === undefined || v === null) {
      if (required) this.fail('POLICY_MISSING_FIELD', p, `${key} is required`, `add ${key}`);
      return null;
    }
    if (!is(v)) {
      this.fail('POLICY_BAD_TYPE', p, `expected ${expected}, got ${describe(v)}`, hint);
      return null;
    }
    return v;
  }

  object(parent: Obj, key: string, path: string, required = false): Obj | null {
    return this.field(parent, key, path, required, isObj, 'an object', 'write it as an object (key: value pairs)');
  }

  list(parent: Obj, key: string, path: string, required = false): unknown[] | null {
    return this.field(parent, key, path, required, (v): v is unknown[] => Array.isArray(v), 'a list', 'write it as a list (- item)');
  }

  string(parent: Obj, key: string, path: string, required = false): string | null {
    return this.field(parent, key, path, required, (v): v is string => typeof v === 'string', 'a string', 'write it as a string');
  }

  integer(parent: Obj, key: string, path: string, required = false): number | null {
    return this.field(
      parent,
      key,
      path,
      required,
      (v): v is number => typeof v === 'number' && Number.isInteger(v),
      'an integer',
      'write it as a whole number, without quotes',
    );
  }

  /** Each element that is an object, with its path; others are reported. */
  objects(items: unknown[], path: string): { item: Obj; path: string }[] {
    const out: { item: Obj; path: string }[] = [];
    items.forEach((item, i) => {
      const p = subPath(path, i);
      if (isObj(item)) out.push({ item, path: p });
      else this.fail('POLICY_BAD_TYPE', p, `expected an object, got ${describe(item)}`, 'each list item here is an object (key: value pairs)');
    });
    return out;
  }

  /** Reports fields this kind does not have: a typo like `podselector` must not silently widen a policy. */
  known(obj: Obj, keys: readonly string[], path: string): void {
    for (const k of Object.keys(obj)) {
      if (!keys.includes(k)) this.fail('POLICY_UNKNOWN_FIELD', subPath(path, k), `unknown field "${k}"`, `expected one of: ${keys.join(', ')}`);
    }
  }

  /** string -> string map, e.g. labels and matchLabels. */
  labels(parent: Obj, key: string, path: string): Record<string, string> {
    const m = this.object(parent, key, path);
    const out: Record<string, string> = {};
    if (!m) return out;
    for (const [k, v] of Object.entries(m)) {
      const p = subPath(subPath(path, key), k);
      if (!LABEL_KEY.test(k))
        this.fail(
          'POLICY_BAD_LABEL',
          p,
          `invalid label key "${k}"`,
          'a label key is an optional DNS prefix and "/" and a name of at most 63 characters: alphanumerics, "-", "_", "."',
        );
      else if (typeof v !== 'string')
        this.fail('POLICY_BAD_LABEL', p, `label value must be a string, got ${describe(v)}`, 'quote values that look like numbers or booleans: "1", "true"');
      else if (!LABEL_VALUE.test(v))
        this.fail('POLICY_BAD_LABEL', p, `invalid label value "${v}"`, 'at most 63 characters: alphanumerics, "-", "_", ".", starting and ending alphanumeric');
      else out[k] = v;
    }
    return out;
  }
}

const NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
export const LABEL_KEY = new RegExp(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?${NAME}$`);
export const LABEL_VALUE = new RegExp(`^(${NAME})?$`);
