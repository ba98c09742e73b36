import { describe, expect, it } from 'vitest';
import { siteMayPublish, siteMaySubscribe, topics } from '../../protocol/index.ts';
import { renderAclFile, renderConfig, renderPasswordFile, siteAclRules } from './mosquitto-files.ts';

const cred = { siteId: 'store-042', username: 'site-store-042', passwordHash: '$7$101$c2FsdA==$aGFzaA==' };

describe('Mosquitto files', () => {
  it('derives the ACL from siteMayPublish/siteMaySubscribe', () => {
    const rules = siteAclRules('store-042');
    expect(rules).toEqual([
      'topic write weft/v1/site/store-042/status',
      'topic write weft/v1/site/store-042/heartbeat',
      'topic write weft/v1/site/store-042/ack',
      'topic write weft/v1/site/store-042/events',
      'topic write weft/v1/site/store-042/mesh',
      'topic read weft/v1/site/store-042/bundle',
      'topic read weft/v1/site/store-042/update',
      'topic read weft/v1/site/store-042/peers',
      'topic read weft/v1/broadcast/#',
    ]);
    for (const r of rules) {
      const [, mode, topic] = r.split(' ');
      expect(mode === 'write' ? siteMayPublish('store-042', topic) : siteMaySubscribe('store-042', topic)).toBe(true);
    }
    expect(rules.some((r) => r.includes(topics.bundle('store-042')) && r.includes('write'))).toBe(false);
  });

  it('writes one user block per site and one password line per site', () => {
    expect(renderPasswordFile([cred])).toBe(`site-store-042:${cred.passwordHash}\n`);
    expect(renderAclFile([cred])).toMatch(/^user site-store-042\ntopic write weft\/v1\/site\/store-042\/status\n/);
  });

  it.each([['evil\ntopic readwrite #'], ['a b'], [''], ['x:y']])('refuses a username that would inject rules: %j', (username) => {
    expect(() => renderAclFile([{ ...cred, username }])).toThrow(/cannot be written to a Mosquitto file/);
    expect(() => renderPasswordFile([{ ...cred, username }])).toThrow(/cannot be written/);
  });

  it('forces client id = username on site listeners, and keeps the hub listener on loopback', () => {
    const conf = renderConfig({ dir: '/d', hosts: ['127.0.0.1', '10.99.0.1'], port: 8883, hubPort: 18830, tls: { keyFile: '/d/k', certFile: '/d/c' } });
    expect(conf).toContain(
      'listener 8883 10.99.0.1\nallow_anonymous false\npassword_file /d/passwd\nacl_file /d/acl\nuse_username_as_clientid true\ncertfile /d/c',
    );
    expect(conf).toContain('listener 18830 127.0.0.1\nallow_anonymous false\npassword_file /d/hub-passwd');
  });
});
