// A multi-node site's health from its nodes': online (all), degraded (some), offline (none), and the
// load the router weighs it by (a down node's share is not on offer).
import { describe, expect, it } from 'vitest';
import { aggregateNodes } from './nodes.ts';
import { initialHealthState } from './state-machine.ts';
import { createHealthModel } from './model.ts';
import type { SiteHealthState } from './types.ts';
import { liveServices } from './sites-view.ts';

const node = (name: string, condition: SiteHealthState['condition'], load = 0, extra: Partial<SiteHealthState> = {}): [string, SiteHealthState] => [
  name,
  { ...initialHealthState(name, 0), condition, health: condition, load, ...extra },
];

describe('aggregateNodes', () => {
  it.each<[string, [string, SiteHealthState][], string, number]>([
    ['every node online: online', [node('a', 'online'), node('b', 'online'), node('c', 'online')], 'online', 0],
    ['one of three down: degraded, the down third counted as full', [node('a', 'online'), node('b', 'offline'), node('c', 'online')], 'degraded', 1 / 3],
    ['one node failing a check: degraded', [node('a', 'online', 0.5), node('b', 'degraded', 0.5)], 'degraded', 0.5],
    ['no node up: offline', [node('a', 'offline'), node('b', 'offline')], 'offline', 1],
    ['a one-node site is a site with one node', [node('a', 'online', 0.25)], 'online', 0.25],
  ])('%s', (_name, nodes, health, load) => {
    const { state } = aggregateNodes(initialHealthState('plant', 0), new Map(nodes), 10);
    expect(state.health).toBe(health);
    expect(state.load).toBeCloseTo(load);
    expect(state.nodes?.map((n) => n.name)).toEqual(nodes.map(([n]) => n).sort());
  });

  it('names the down nodes in the reason and emits one event per change', () => {
    const prev = { ...initialHealthState('plant', 0), condition: 'online' as const, health: 'online' as const };
    const step = aggregateNodes(prev, new Map([node('a', 'online'), node('b', 'offline')]), 10);
    expect(step.event).toMatchObject({ from: 'online', to: 'degraded', reason: '1 of 2 node(s) up; down: b' });
    expect(aggregateNodes(step.state, new Map([node('a', 'online'), node('b', 'offline')]), 11).event).toBeUndefined();
  });
});

describe('the model with nodes', () => {
  it('steps each node on its own inputs, a never-heard node is offline, a dropped session takes only its node down', () => {
    const m = createHealthModel({ heartbeatIntervalMs: 1000, upAfter: 1 });
    m.setNodes('plant', ['n1', 'n2'], 0);
    const hb = (at: number) => ({
      type: 'heartbeat' as const,
      at,
      heartbeat: {
        v: 1 as const,
        at: '',
        nodeReady: true,
        enforcing: true,
        appliedGeneration: 3,
        checks: [],
        load: 0,
        link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 },
        serves: ['shop'],
      },
    });
    expect(m.applyNode('plant', 'n1', hb(1)).state.health).toBe('degraded');
    expect(m.applyNode('plant', 'n2', hb(2)).state.health).toBe('online');
    expect(m.applyNode('plant', 'n2', { type: 'session-down', at: 3 }).state).toMatchObject({ health: 'degraded' });
    expect(m.node('plant', 'n1')?.health).toBe('online');
    expect(m.tick(10_000).map((e) => e.to)).toEqual(['offline']);
  });
});

describe('liveServices', () => {
  const svc = { name: 'shop', addresses: ['10.0.0.1'], nodeAddresses: { n1: ['10.0.1.5'], n2: ['10.0.2.5'] } };
  const nh = (name: string, health: 'online' | 'offline', serves: string[] | null) => ({
    name,
    health,
    since: 0,
    lastHeartbeatAt: null,
    load: 0,
    appliedGeneration: null,
    tunnelHandshakeAgeS: null,
    agentVersion: null,
    kernelEnforcing: null,
    serves,
    lastReason: '',
  });
  it.each([
    ['both nodes up and serving: both addresses', [nh('n1', 'online', ['shop']), nh('n2', 'online', ['shop'])], ['10.0.1.5', '10.0.2.5']],
    ['one down: the other only', [nh('n1', 'offline', ['shop']), nh('n2', 'online', ['shop'])], ['10.0.2.5']],
    ['up but no pod of the service: not answered', [nh('n1', 'online', []), nh('n2', 'online', ['shop'])], ['10.0.2.5']],
    ['none serving: the site does not offer it', [nh('n1', 'offline', ['shop']), nh('n2', 'online', ['pos'])], null],
  ])('%s', (_name, nodes, want) => {
    const out = liveServices([svc], nodes);
    expect(out[0]?.addresses ?? null).toEqual(want);
  });
  it('a one-device site keeps its services as configured', () => expect(liveServices([svc], undefined)).toEqual([svc]));
});
