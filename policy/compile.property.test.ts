// The compiled tables, read by the TypeScript table lookup (what the kernel does), agree with the
// reference evaluator on random policies, inventories and flows, audit attribution included.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../base/pure.ts';
import { compile } from './compile.ts';
import { evaluate } from './evaluate.ts';
import { podKey, type Inventory } from './inventory.ts';
import { loadPolicies } from './load.ts';
import { lookup } from './lookup.ts';
import { flowOver, world } from './testing/arbitraries.ts';

const loadedWorld = world.map(({ objects, podIps }) => {
  const loaded = loadPolicies(objects);
  if (loaded.errors.length > 0) throw new Error(`generator made invalid objects: ${loaded.errors.map((e) => e.message).join('; ')}`);
  // On a site pods have addresses; in manifests they do not. Both must compile.
  const inventory: Inventory = podIps
    ? { ...loaded.inventory, pods: loaded.inventory.pods.map((p, i) => ({ ...p, ips: [`10.244.0.${i + 1}`, `fd44::${i + 1}`] })) }
    : loaded.inventory;
  return { policies: loaded.policies, inventory };
});

describe('compile + lookup agree with evaluate', () => {
  it('on every random flow', () => {
    fc.assert(
      fc.property(
        loadedWorld.chain((w) => fc.tuple(fc.constant(w), fc.array(flowOver(w.inventory.pods.map(podKey)), { minLength: 30, maxLength: 60 }))),
        ([{ policies, inventory }, flows]) => {
          const tables = compile(policies, inventory);
          for (const f of flows) expect(lookup(tables, f), JSON.stringify(f)).toEqual(evaluate(policies, inventory, f));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('deterministically: the same input, in any order, gives the same bytes', () => {
    fc.assert(
      fc.property(
        world.chain(({ objects }) => fc.tuple(fc.constant(objects), fc.shuffledSubarray(objects, { minLength: objects.length, maxLength: objects.length }))),
        ([objects, shuffled]) => {
          const a = loadPolicies(objects);
          const b = loadPolicies(shuffled);
          expect(canonicalJson(compile(b.policies, b.inventory))).toBe(canonicalJson(compile(a.policies, a.inventory)));
        },
      ),
      { numRuns: 100 },
    );
  });
});
