import { describe, expect, it } from 'vitest';
import { appliedReason, siteNodesVerdict, type NodeFacts, type SiteNodesVerdict } from './node-gate.ts';

const GRACE = { downGraceMs: 60_000 };
const up = (name: string, applied: number | null = null): NodeFacts => ({ name, appliedGeneration: applied, rejected: null, up: true, downSince: null });
const down = (name: string, since: number, applied: number | null = null): NodeFacts => ({
  name,
  appliedGeneration: applied,
  rejected: null,
  up: false,
  downSince: since,
});
const rejecting = (name: string, generation: number): NodeFacts => ({ ...up(name), rejected: { generation, code: 'BUNDLE_BAD_SIGNATURE', reason: 'nope' } });

describe('siteNodesVerdict: a site applied a generation when every ready node did', () => {
  it.each<[string, NodeFacts[], number, SiteNodesVerdict]>([
    ['one node applied: the one-node site applied', [up('a', 5)], 1000, { kind: 'applied', applied: ['a'], excluded: [] }],
    ['all three applied', [up('a', 5), up('b', 6), up('c', 5)], 1000, { kind: 'applied', applied: ['a', 'b', 'c'], excluded: [] }],
    [
      'one live node still on the old generation: wait, no deadline',
      [up('a', 5), up('b', 4), up('c', 5)],
      1000,
      { kind: 'waiting', waitingFor: ['b'], until: null },
    ],
    [
      'a node down for less than the grace holds the stage, until its grace ends',
      [up('a', 5), down('b', 1000), up('c', 5)],
      31_000,
      { kind: 'waiting', waitingFor: ['b'], until: 61_000 },
    ],
    ['a node down for the grace is left out', [up('a', 5), down('b', 1000), up('c', 5)], 61_000, { kind: 'applied', applied: ['a', 'c'], excluded: ['b'] }],
    [
      'a down node that applied before it went down counts as applied',
      [up('a', 5), down('b', 0, 5)],
      1000,
      { kind: 'applied', applied: ['a', 'b'], excluded: [] },
    ],
    [
      'every node down past the grace: nothing applied it, the site waits',
      [down('a', 0), down('b', 0)],
      120_000,
      { kind: 'waiting', waitingFor: [], until: null },
    ],
    [
      'the earliest grace end of several down nodes',
      [up('a', 5), down('b', 5000), down('c', 2000)],
      10_000,
      { kind: 'waiting', waitingFor: ['b', 'c'], until: 62_000 },
    ],
    [
      'a rejection by any node rejects for the site',
      [up('a', 5), rejecting('b', 5), up('c', 5)],
      1000,
      { kind: 'rejected', node: 'b', code: 'BUNDLE_BAD_SIGNATURE', reason: 'node b: BUNDLE_BAD_SIGNATURE nope' },
    ],
    [
      'a rejection of an older generation does not count',
      [up('a', 5), { ...rejecting('b', 4), appliedGeneration: 5 }],
      1000,
      { kind: 'applied', applied: ['a', 'b'], excluded: [] },
    ],
  ])('%s', (_name, nodes, now, want) => expect(siteNodesVerdict(5, nodes, now, GRACE)).toEqual(want));

  it('says which nodes were left out and after how long', () => {
    expect(appliedReason({ kind: 'applied', applied: ['a', 'c'], excluded: ['b'] }, GRACE)).toBe(
      'applied by node(s) a, c; left out (down longer than 60 s): b',
    );
  });
});
