import { describe, expect, it } from 'vitest';
import { HubError } from '../errors.ts';
import { diffLines, diffObjects } from './diff.ts';
import { planStages } from './plan.ts';
import { SelectorError } from '../../policy/index.ts';
import { matches, parseSelector } from './selector.ts';
import { policiesForSite, PolicySets } from './site-policies.ts';

const sites = ['s-05', 's-01', 's-03', 's-02', 's-04', 's-06', 's-07', 's-08', 's-09', 's-10'];
const byStage = (p: ReturnType<typeof planStages>) => p.stages.map((_, i) => p.assignment.filter((a) => a.stage === i).map((a) => a.siteId));

describe('planStages', () => {
  it.each([
    ['no stages: one stage with every site', [], [['s-01', 's-02', 's-03', 's-04', 's-05', 's-06', 's-07', 's-08', 's-09', 's-10']]],
    [
      'canary, then cumulative 30%, then the rest',
      [
        { name: 'canary', sites: ['s-07'] },
        { name: '30%', percent: 30 },
      ],
      [['s-07'], ['s-01', 's-02'], ['s-03', 's-04', 's-05', 's-06', 's-08', 's-09', 's-10']],
    ],
    [
      'percentages round up and never shrink',
      [
        { name: '1%', percent: 1 },
        { name: '5%', percent: 5 },
        { name: '100%', percent: 100 },
      ],
      [['s-01'], [], ['s-02', 's-03', 's-04', 's-05', 's-06', 's-07', 's-08', 's-09', 's-10']],
    ],
  ])('%s', (_n, stages, want) => {
    expect(byStage(planStages(sites, stages as never))).toEqual(want);
  });

  it('refuses a canary site outside the targets and a bad percentage', () => {
    expect(() => planStages(sites, [{ name: 'canary', sites: ['elsewhere'] }])).toThrow(HubError);
    expect(() => planStages(sites, [{ name: 'x', percent: 0 }])).toThrow(/percent/);
  });
});

describe('selectors and per-site policies', () => {
  it('parses key=value terms and matches every one', () => {
    expect(parseSelector('region=eu, kind=store')).toEqual({ matchLabels: { region: 'eu', kind: 'store' } });
    expect(matches(parseSelector(''), { any: 'x' })).toBe(true);
    expect(matches(parseSelector('region=eu,kind=store'), { region: 'eu', kind: 'factory' })).toBe(false);
    expect(() => parseSelector('region')).toThrow(SelectorError);
    expect(() => parseSelector('region!=eu')).toThrow(SelectorError);
  });

  it('gives a site every policy kind object, filtered by the weft.dev/sites annotation, and no inventory objects', () => {
    const np = (name: string, sel?: string) => ({
      kind: 'NetworkPolicy',
      metadata: { name, namespace: 'a', ...(sel ? { annotations: { 'weft.dev/sites': sel } } : {}) },
    });
    const objs = [
      np('all'),
      np('eu', 'region=eu'),
      np('us', 'region=us'),
      { kind: 'Namespace', metadata: { name: 'a' } },
      { kind: 'BaselineAdminNetworkPolicy', metadata: { name: 'default' } },
    ];
    const names = (o: unknown[]) => o.map((x) => (x as { metadata: { name: string } }).metadata.name);
    expect(names(policiesForSite(objs, { labels: { region: 'eu' } }))).toEqual(['all', 'eu', 'default']);
    expect(names(policiesForSite(objs, { labels: {} }))).toEqual(['all', 'default']);

    // A rollout computes each distinct selection once: sites that pick the same policies share it.
    const sets = new PolicySets(objs);
    const eu1 = sets.forSite({ labels: { region: 'eu', kind: 'store' } });
    expect(names(eu1)).toEqual(['all', 'eu', 'default']);
    expect(sets.forSite({ labels: { region: 'eu', kind: 'factory' } })).toBe(eu1);
    expect(names(sets.forSite({ labels: { region: 'us' } }))).toEqual(['all', 'us', 'default']);
    expect(names(sets.forSite({ labels: {} }))).toEqual(['all', 'default']);
  });
});

describe('version diff', () => {
  it('names added, removed and changed objects, and diffs lines', () => {
    const a = [
      { kind: 'NetworkPolicy', metadata: { name: 'x', namespace: 'n' }, spec: { a: 1 } },
      { kind: 'NetworkPolicy', metadata: { name: 'gone', namespace: 'n' } },
    ];
    const b = [
      { kind: 'NetworkPolicy', metadata: { name: 'x', namespace: 'n' }, spec: { a: 2 } },
      { kind: 'AdminNetworkPolicy', metadata: { name: 'new' } },
    ];
    expect(diffObjects(a, b)).toEqual({ added: ['AdminNetworkPolicy/new'], removed: ['NetworkPolicy/n/gone'], changed: ['NetworkPolicy/n/x'] });
    expect(diffLines('a\nb\nc', 'a\nc\nd')).toEqual([' a', '-b', ' c', '+d']);
  });
});
