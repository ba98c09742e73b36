import { describe, expect, it } from 'vitest';
import { parseViolation } from './nats-node.ts';
import {
  filterSubjects,
  hubUser,
  mqttFilterToSubject,
  renderAuthorization,
  renderNodeConfig,
  routerUser,
  siteUser,
  tombstoneUser,
  type NatsNodeConfig,
} from './nats-files.ts';
import { siteAclRules } from './mosquitto-files.ts';
import { siteGrants } from './site-grants.ts';

describe('NATS files', () => {
  it.each([
    ['weft/v1/site/a/bundle', ['weft.v1.site.a.bundle']],
    ['weft/v1/site/+/status', ['weft.v1.site.*.status']],
    ['weft/v1/broadcast/#', ['weft.v1.broadcast', 'weft.v1.broadcast.>']],
  ])('MQTT filter %s is subscribed as %j', (filter, subjects) => {
    expect(filterSubjects(filter)).toEqual(subjects);
    expect(mqttFilterToSubject(filter)).toBe(subjects[subjects.length - 1]);
  });

  it("gives a site exactly the Mosquitto ACL's grants, as subjects, and the MQTT delivery subjects to read", () => {
    const u = siteUser('store-042', 'store-042', 'pw');
    expect(u.permissions).toEqual({
      publish: {
        allow: [
          'weft.v1.site.store-042.status',
          'weft.v1.site.store-042.heartbeat',
          'weft.v1.site.store-042.ack',
          'weft.v1.site.store-042.events',
          'weft.v1.site.store-042.mesh',
        ],
      },
      subscribe: {
        allow: [
          'weft.v1.site.store-042.bundle',
          'weft.v1.site.store-042.update',
          'weft.v1.site.store-042.peers',
          'weft.v1.broadcast',
          'weft.v1.broadcast.>',
          '$MQTT.sub.>',
        ],
      },
    });
    // One source: the same grants render Mosquitto's rules.
    const g = siteGrants('store-042');
    expect(siteAclRules('store-042')).toEqual([...g.publish.map((t) => `topic write ${t}`), ...g.subscribe.map((f) => `topic read ${f}`)]);
  });

  it("gives a node of a multi-node site its own node topics, its site's bundle, update order and peers, and its siblings, in both brokers", () => {
    const u = siteUser('dc-1.n2', 'dc-1', 'pw', 'n2');
    expect(u.permissions).toEqual({
      // The mesh report is the site's, not one node's: a node publishes none (and never the hub's kinds).
      publish: {
        allow: ['weft.v1.site.dc-1.node.n2.status', 'weft.v1.site.dc-1.node.n2.heartbeat', 'weft.v1.site.dc-1.node.n2.ack', 'weft.v1.site.dc-1.node.n2.events'],
      },
      subscribe: {
        allow: [
          'weft.v1.site.dc-1.bundle',
          'weft.v1.site.dc-1.update',
          'weft.v1.site.dc-1.peers',
          'weft.v1.broadcast',
          'weft.v1.broadcast.>',
          'weft.v1.site.dc-1.node.*.status',
          'weft.v1.site.dc-1.node.*.heartbeat',
          '$MQTT.sub.>',
        ],
      },
    });
    const g = siteGrants('dc-1', 'n2');
    expect(siteAclRules('dc-1', 'n2')).toEqual([...g.publish.map((t) => `topic write ${t}`), ...g.subscribe.map((f) => `topic read ${f}`)]);
    expect(tombstoneUser('dc-1.n2', 'dc-1', 'x', 'n2').permissions).toEqual(u.permissions);
  });

  it('never lets a site or a router publish on $ subjects ($MQTT.msgs.> would forge any topic)', () => {
    for (const u of [siteUser('a', 'a', 'pw'), routerUser('pw'), tombstoneUser('a', 'a', 'pw')]) {
      expect((u.permissions.publish.allow ?? []).filter((s) => s.startsWith('$') || s === '>' || s.endsWith('.>'))).toEqual([]);
    }
  });

  it("gives routers statuses and heartbeats (sites' and nodes') to read and nothing to publish", () => {
    expect(routerUser('pw').permissions).toEqual({
      publish: { deny: ['>'] },
      subscribe: {
        allow: ['weft.v1.site.*.status', 'weft.v1.site.*.heartbeat', 'weft.v1.site.*.node.*.status', 'weft.v1.site.*.node.*.heartbeat', '$MQTT.sub.>'],
      },
    });
  });

  it('spells out full access for the hub (a retained publisher without permissions crashes a reload on 2.9.10)', () => {
    expect(hubUser('pw').permissions).toEqual({ publish: { allow: ['>'] }, subscribe: { allow: ['>'] } });
  });

  it('renders one user line per user, and refuses names that could change the file', () => {
    const text = renderAuthorization([hubUser('h'), siteUser('store-1', 'store-1', 'p1')]);
    expect(text).toContain('{ user: "_weft_hub", password: "h", permissions: { publish: { allow: [">"] }, subscribe: { allow: [">"] } } }');
    expect(text).toContain('{ user: "store-1", password: "p1", permissions: { publish: { allow: ["weft.v1.site.store-1.status"');
    for (const bad of ['evil"}, {user: x', 'a b', '', '$include'])
      expect(() => renderAuthorization([siteUser(bad, 'x', 'p')])).toThrow(/cannot be written to a NATS file/);
  });

  it('writes a node with JetStream, its MQTT listener, fixed replicas, authenticated routes and the shared authorization', () => {
    const c: NatsNodeConfig = {
      name: 'hub-a',
      mqtt: { host: '10.99.0.1', port: 1883 },
      clientPort: 4222,
      httpPort: 8222,
      cluster: { name: 'weft', host: '10.0.0.1', port: 6222, routes: ['10.0.0.2:6222', '10.0.0.3:6222'], routePassword: 'rp' },
      storeDir: '/d/js',
      authorizationFile: 'authorization.conf',
      maxPayloadBytes: 4194304,
    };
    const conf = renderNodeConfig(c);
    expect(conf).toContain('mqtt {\n  listen: "10.99.0.1:1883"');
    expect(conf).toContain('stream_replicas: 3');
    expect(conf).toContain('jetstream { store_dir: "/d/js" }');
    expect(conf).toContain('routes: ["nats-route://_weft_route:rp@10.0.0.2:6222", "nats-route://_weft_route:rp@10.0.0.3:6222"]');
    expect(conf).toContain('listen: "127.0.0.1:4222"');
    expect(conf).toMatch(/include "authorization.conf"\n$/);
    expect(renderNodeConfig({ ...c, cluster: { ...c.cluster, routes: [] } })).toContain('stream_replicas: 1');
  });

  it.each([
    [
      '[1] 2026/12/07 12:36:42.894167 [ERR] 127.0.0.1:53008 - mid:23 - "alpha" - Publish Violation - User "site-a", Subject "weft.v1.site.b.status"',
      { node: 'n1', kind: 'publish', user: 'site-a', subject: 'weft.v1.site.b.status' },
    ],
    [
      '[1] 2026/12/07 12:36:37.774279 [ERR] 127.0.0.1:36534 - mid:19 - "alpha" - Subscription Violation - User "site-a", Subject ">", SID >',
      { node: 'n1', kind: 'subscribe', user: 'site-a', subject: '>' },
    ],
    ['[1] 2026/12/07 12:36:35.879773 [INF] Server is ready', null],
  ])('reads permission violations from the log: %s', (line, want) => {
    expect(parseViolation('n1', line)).toEqual(want);
  });
});
