// Fuzzing the parser and validator: random text and randomly damaged manifests yield coded
// PolicyErrors with a place, never a crash or an uncoded exception.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PolicyError } from './errors.ts';
import { loadPolicies } from './load.ts';
import { parseManifests } from './parse.ts';
import { world } from './testing/arbitraries.ts';

function parseAndLoad(text: string): PolicyError[] {
  const parsed = parseManifests([{ file: 'fuzz.yaml', text }]);
  const loaded = loadPolicies(parsed.objects);
  return [...parsed.errors, ...loaded.errors];
}

function expectCoded(errors: PolicyError[]): void {
  for (const e of errors) {
    expect(e).toBeInstanceOf(PolicyError);
    expect(e.code).toMatch(/^POLICY_[A-Z_]+$/);
    expect(e.file).toBe('fuzz.yaml');
    expect(e.doc).toBeGreaterThanOrEqual(1);
    expect(e.message.length).toBeGreaterThan(0);
    expect(typeof e.path).toBe('string');
    expect(e.hint, `${e.code} at ${e.path} has a hint`).toBeTruthy();
  }
}

/** Every path to a value inside a JSON value. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function replaceAt(v: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? replaceAt(x, rest, value) : x));
  const o = v as Record<string, unknown>;
  return { ...o, [head]: replaceAt(o[head as string], rest, value) };
}

describe('parser fuzz', () => {
  it('random text gives coded errors or objects, never a throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({
            unit: fc.constantFrom('a', ':', '-', ' ', '\n', '{', '}', '[', ']', '"', '&', '*', '!', '#', '---', 'kind', 'List', 'items'),
            maxLength: 80,
          }),
        ),
        (text) => {
          expectCoded(parseAndLoad(text));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('random JSON values as manifests give coded errors, never a throw', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        expectCoded(parseAndLoad(JSON.stringify(v)));
      }),
      { numRuns: 500 },
    );
  });

  it('valid manifests with one value replaced give coded errors, never a throw', () => {
    fc.assert(
      fc.property(
        world.chain(({ objects }) => {
          const all = objects as unknown[];
          return fc
            .tuple(fc.constant(all), fc.nat(all.length - 1))
            .chain(([objs, i]) =>
              fc.tuple(
                fc.constant(objs),
                fc.constant(i),
                fc.constantFrom(...paths(objs[i])),
                fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, '', -1, 70000, 'TCPX', '10.0.0.0/33', { matchLabels: { 'bad key!': 1 } })),
              ),
            );
        }),
        ([objs, i, path, value]) => {
          const damaged = objs.map((o, k) => (k === i ? replaceAt(o, path, value) : o));
          const text = damaged.map((o) => stringify(o)).join('---\n');
          expectCoded(parseAndLoad(text));
        },
      ),
      { numRuns: 150 },
    );
  });
});
