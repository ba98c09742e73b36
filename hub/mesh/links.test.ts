import { describe, expect, it } from 'vitest';
import { linkProblems, peersOf, resolveLinks, type LinkRecord, type LinkSite, type LinkSpec } from './links.ts';

const site = (id: string, labels: Record<string, string>, enrolled = true): LinkSite => ({ id, labels, enrolled });
const SITES = [
  site('store-1', { kind: 'store', region: 'north' }),
  site('store-2', { kind: 'store', region: 'north' }),
  site('store-3', { kind: 'store', region: 'south' }),
  site('wh-north', { kind: 'warehouse', region: 'north' }),
  site('wh-south', { kind: 'warehouse', region: 'south' }),
  site('store-9', { kind: 'store', region: 'north' }, false),
];
const link = (id: number, spec: LinkSpec): LinkRecord => ({ id, spec, createdBy: 'ops', createdAt: 0 });
const sel = (from: Record<string, string>, to: Record<string, string>, same: string[] = []): LinkSpec => ({ kind: 'selector', from, to, same });

describe('resolveLinks', () => {
  it.each<[string, LinkRecord[], [string, string, number[]][]]>([
    ['nothing declared: no peers (never a full mesh)', [], []],
    ['a pair', [link(1, { kind: 'pair', a: 'store-2', b: 'store-1' })], [['store-1', 'store-2', [1]]]],
    ['a pair with a pending site gives nothing', [link(1, { kind: 'pair', a: 'store-1', b: 'store-9' })], []],
    ['a pair with an unknown site gives nothing', [link(1, { kind: 'pair', a: 'store-1', b: 'nope' })], []],
    [
      'region=north stores with every warehouse',
      [link(1, sel({ kind: 'store', region: 'north' }, { kind: 'warehouse' }))],
      [
        ['store-1', 'wh-north', [1]],
        ['store-1', 'wh-south', [1]],
        ['store-2', 'wh-north', [1]],
        ['store-2', 'wh-south', [1]],
      ],
    ],
    [
      'stores with the warehouse of their own region',
      [link(1, sel({ kind: 'store' }, { kind: 'warehouse' }, ['region']))],
      [
        ['store-1', 'wh-north', [1]],
        ['store-2', 'wh-north', [1]],
        ['store-3', 'wh-south', [1]],
      ],
    ],
    [
      'two links declaring one pair: one pair, both links named',
      [link(1, { kind: 'pair', a: 'store-1', b: 'wh-north' }), link(2, sel({ region: 'north', kind: 'store' }, { kind: 'warehouse', region: 'north' }))],
      [
        ['store-1', 'wh-north', [1, 2]],
        ['store-2', 'wh-north', [2]],
      ],
    ],
    [
      'a selector matching a site on both sides never pairs it with itself',
      [link(1, sel({ region: 'north' }, { region: 'north' }))],
      [
        ['store-1', 'store-2', [1]],
        ['store-1', 'wh-north', [1]],
        ['store-2', 'wh-north', [1]],
      ],
    ],
  ])('%s', (_name, links, want) => {
    expect(resolveLinks(links, SITES).map((p) => [p.a, p.b, p.links])).toEqual(want);
  });

  it('peersOf lists the other side of each pair', () => {
    const pairs = resolveLinks([link(1, sel({ kind: 'store' }, { kind: 'warehouse' }, ['region']))], SITES);
    expect(peersOf(pairs, 'wh-north')).toEqual(['store-1', 'store-2']);
    expect(peersOf(pairs, 'store-3')).toEqual(['wh-south']);
    expect(peersOf(pairs, 'store-9')).toEqual([]);
  });
});

describe('linkProblems', () => {
  it.each<[string, LinkSpec, string[]]>([
    ['a fine pair', { kind: 'pair', a: 'a', b: 'b' }, []],
    ['a site with itself', { kind: 'pair', a: 'a', b: 'a' }, ['a site cannot link to itself (a)']],
    ['a fine selector', sel({ region: 'north' }, { kind: 'warehouse' }, ['region']), []],
    ['an empty side', sel({}, { kind: 'warehouse' }), ['from: a selector needs at least one label (a link is never "every site")']],
    ['a bad key', sel({ 'no way': 'x' }, { kind: 'w' }), ['from: "no way" is not a label key']],
    ['a bad value', sel({ a: 'x' }, { kind: 'w w' }), ['to: "w w" is not a label value']],
  ])('%s', (_name, spec, want) => expect(linkProblems(spec)).toEqual(want));
});
