// connlist's communication map agrees with the reference evaluator: on random policies and
// inventories, a pod-to-pod flow is allowed exactly when connlist lists its protocol and port.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connlist, type Connection } from './connlist.ts';
import { evaluate } from './evaluate.ts';
import { podKey } from './inventory.ts';
import { loadPolicies } from './load.ts';
import { world } from './testing/arbitraries.ts';

const PORTS = [1, 52, 53, 54, 79, 80, 81, 443, 999, 1000, 1001, 5353, 8080, 8081, 65535];

function listed(list: Connection[], src: string, dst: string, protocol: 'TCP' | 'UDP' | 'SCTP', port: number): boolean {
  const c = list.find((x) => x.src === src && x.dst === dst);
  return c !== undefined && c.ports[protocol].some(([from, to]) => port >= from && port <= to);
}

describe('connlist agrees with evaluate', () => {
  it('on every pod pair, protocol and port of random worlds', () => {
    fc.assert(
      fc.property(world, ({ objects }) => {
        const { policies, inventory, errors } = loadPolicies(objects);
        expect(errors).toEqual([]);
        const list = connlist(policies, inventory);
        const pods = inventory.pods.map(podKey);
        for (const src of pods)
          for (const dst of pods)
            if (src !== dst) {
              for (const protocol of ['TCP', 'UDP', 'SCTP'] as const)
                for (const port of PORTS) {
                  const want = evaluate(policies, inventory, { src, dst, protocol, port }).allowed;
                  expect(listed(list, src, dst, protocol, port), `${src} -> ${dst} ${protocol}/${port}`).toBe(want);
                }
            }
      }),
      { numRuns: 60 },
    );
  });
});
