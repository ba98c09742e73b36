import { describe, expect, it } from 'vitest';
import { decode, encode, ProtocolError, parseSiteTopic, siteMayPublish, siteMaySubscribe, topics } from './index.ts';

describe('topics', () => {
  it.each([
    ['weft/v1/site/store-1/heartbeat', { siteId: 'store-1', kind: 'heartbeat' }],
    ['weft/v1/site/store-1/bundle', { siteId: 'store-1', kind: 'bundle' }],
    ['weft/v1/site/Store/heartbeat', null],
    ['weft/v1/site/store-1/other', null],
    ['weft/v2/site/store-1/ack', null],
    ['weft/v1/site/store-1/ack/x', null],
  ])('parses %s', (t, want) => expect(parseSiteTopic(t)).toEqual(want));

  it.each([
    ['store-1', topics.heartbeat('store-1'), true],
    ['store-1', topics.events('store-1'), true],
    ['store-1', topics.heartbeat('store-2'), false],
    ['store-1', topics.bundle('store-1'), false],
    ['store-1', topics.broadcast('keys'), false],
    ['store-1', 'weft/v1/site/+/heartbeat', false],
  ])('site %s may publish %s: %s', (site, t, want) => expect(siteMayPublish(site, t)).toBe(want));

  it.each([
    ['store-1', topics.bundle('store-1'), true],
    ['store-1', topics.bundle('store-2'), false],
    ['store-1', 'weft/v1/site/+/bundle', false],
    ['store-1', 'weft/v1/#', false],
    ['store-1', '#', false],
    ['store-1', topics.broadcastAll, true],
    ['store-1', topics.signingKeys, true],
    ['store-1', 'weft/v1/broadcast/+', false],
  ])('site %s may subscribe %s: %s', (site, f, want) => expect(siteMaySubscribe(site, f)).toBe(want));
});

describe('messages', () => {
  it('round-trips an ack', () => {
    const ack = { v: 1 as const, generation: 3, result: 'rejected' as const, code: 'BUNDLE_BAD_SIGNATURE', at: '2026-01-01T00:00:00Z' };
    expect(decode('ack', encode('ack', ack))).toEqual(ack);
  });
  it('acks carry an optional outbox seq: with it, without it (older agents), and never a bad one', () => {
    const ack = { v: 1 as const, generation: 3, result: 'applied' as const, at: '2026-01-01T00:00:00Z' };
    expect(decode('ack', encode('ack', { ...ack, seq: 17 }))).toEqual({ ...ack, seq: 17 });
    expect(decode('ack', Buffer.from(JSON.stringify(ack)))).toEqual(ack);
    expect(() => decode('ack', Buffer.from(JSON.stringify({ ...ack, seq: -1 })))).toThrow(/seq/);
  });
  it.each([
    ['not json', 'nope', 'PROTO_NOT_JSON'],
    ['wrong version', '{"v":2,"state":"online"}', 'PROTO_BAD_VERSION'],
    ['bad enum', '{"v":1,"state":"maybe"}', 'PROTO_BAD_FIELD'],
    ['array', '[1]', 'PROTO_BAD_VERSION'],
  ])('rejects %s with a code', (_n, payload, code) => {
    expect(() => decode('status', payload)).toThrowError(ProtocolError);
    try {
      decode('status', payload);
    } catch (e) {
      expect((e as ProtocolError).code).toBe(code);
    }
  });
  it('names the path of a bad field', () => {
    const hb = {
      v: 1,
      at: 'x',
      nodeReady: true,
      enforcing: true,
      appliedGeneration: 1,
      checks: [{ name: 'dns', ok: 'yes' }],
      load: 0.1,
      link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 },
    };
    expect(() => decode('heartbeat', JSON.stringify(hb))).toThrowError('checks[0].ok: must be a boolean');
  });
  it('reads whether a site enforces in the kernel; an older agent without the fields is still a valid heartbeat', () => {
    const old = {
      v: 1,
      at: 'x',
      nodeReady: true,
      enforcing: true,
      appliedGeneration: 1,
      checks: [],
      load: 0.1,
      link: { reconnects: 0, outboxDepth: 0, outboxLost: 0 },
    };
    expect(decode('heartbeat', JSON.stringify(old))).not.toHaveProperty('kernelEnforcing');
    const notEnforcing = { code: 'DATAPATH_LOAD', reason: 'kernel datapath unavailable' };
    expect(decode('heartbeat', JSON.stringify({ ...old, kernelEnforcing: false, notEnforcing }))).toMatchObject({ kernelEnforcing: false, notEnforcing });
    expect(() => decode('heartbeat', JSON.stringify({ ...old, kernelEnforcing: 'no' }))).toThrowError('kernelEnforcing: must be a boolean');
    expect(() => decode('heartbeat', JSON.stringify({ ...old, kernelEnforcing: false, notEnforcing: { code: 1 } }))).toThrowError(/notEnforcing\.code/);
  });
});
