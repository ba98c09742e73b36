import { describe, expect, it } from 'vitest';
import { checkErrno, formatSet, parseGet } from './uapi-text.ts';
import { keyToHex, WgPrivateKey } from './keys.ts';

const priv = WgPrivateKey.generate();
const peerA = WgPrivateKey.generate().publicKey();
const peerB = WgPrivateKey.generate().publicKey();

describe('UAPI set', () => {
  it('writes private key, port, peers in the documented order, keys in hex, ending in a blank line', () => {
    const text = formatSet({
      privateKey: priv,
      listenPort: 51820,
      replacePeers: true,
      peers: [
        { publicKey: peerA, endpoint: '192.0.2.1:51820', persistentKeepaliveS: 25, replaceAllowedIps: true, allowedIps: ['10.99.0.2/32', 'fd00:99::2/128'] },
        { publicKey: peerB, remove: true, endpoint: 'ignored:1' },
      ],
    });
    expect(text).toBe(
      [
        'set=1',
        `private_key=${priv.revealHex()}`,
        'listen_port=51820',
        'replace_peers=true',
        `public_key=${keyToHex(peerA)}`,
        'endpoint=192.0.2.1:51820',
        'persistent_keepalive_interval=25',
        'replace_allowed_ips=true',
        'allowed_ip=10.99.0.2/32',
        'allowed_ip=fd00:99::2/128',
        `public_key=${keyToHex(peerB)}`,
        'remove=true',
        '',
        '',
      ].join('\n'),
    );
  });

  it('rejects bad ports and keys before anything reaches the socket', () => {
    expect(() => formatSet({ listenPort: 70000 })).toThrow(expect.objectContaining({ code: 'TUNNEL_BAD_CONFIG' }));
    expect(() => formatSet({ peers: [{ publicKey: 'nope' }] })).toThrow(
      expect.objectContaining({ code: 'TUNNEL_BAD_KEY', message: 'peers[0].publicKey is not a WireGuard key' }),
    );
  });
});

describe('UAPI replies', () => {
  it('parses a get reply: device, peers, handshake time, counters', () => {
    const reply = [
      `private_key=${priv.revealHex()}`,
      'listen_port=51820',
      'fwmark=0',
      `public_key=${keyToHex(peerA)}`,
      'preshared_key=0000000000000000000000000000000000000000000000000000000000000000',
      'protocol_version=1',
      'endpoint=[2001:db8::1]:51820',
      'last_handshake_time_sec=1700000000',
      'last_handshake_time_nsec=250000000',
      'tx_bytes=1024',
      'rx_bytes=2048',
      'persistent_keepalive_interval=25',
      'allowed_ip=10.99.0.2/32',
      'allowed_ip=fd00:99::2/128',
      `public_key=${keyToHex(peerB)}`,
      'last_handshake_time_sec=0',
      'last_handshake_time_nsec=0',
      'tx_bytes=0',
      'rx_bytes=0',
      'persistent_keepalive_interval=0',
      'errno=0',
      '',
      '',
    ].join('\n');
    expect(parseGet(reply)).toEqual({
      publicKey: priv.publicKey(),
      listenPort: 51820,
      peers: [
        {
          publicKey: peerA,
          endpoint: '[2001:db8::1]:51820',
          allowedIps: ['10.99.0.2/32', 'fd00:99::2/128'],
          lastHandshakeMs: 1_700_000_000_250,
          rxBytes: 2048,
          txBytes: 1024,
          persistentKeepaliveS: 25,
        },
        { publicKey: peerB, endpoint: null, allowedIps: [], lastHandshakeMs: null, rxBytes: 0, txBytes: 0, persistentKeepaliveS: 0 },
      ],
    });
  });

  it('parses an empty device', () => {
    expect(parseGet('listen_port=0\nerrno=0\n\n')).toEqual({ publicKey: null, listenPort: 0, peers: [] });
  });

  it.each([
    ['wireguard-go EINVAL', 'errno=-22\n\n', -22],
    ['positive errno', 'errno=1\n\n', 1],
  ])('turns %s into TUNNEL_UAPI_ERRNO with the errno', (_n, reply, errno) => {
    expect(() => checkErrno(reply, 'set')).toThrow(expect.objectContaining({ code: 'TUNNEL_UAPI_ERRNO', detail: { errno } }));
  });

  it('reports a reply without errno, and a line that is not key=value', () => {
    expect(() => checkErrno('listen_port=1\n\n', 'get')).toThrow(expect.objectContaining({ code: 'TUNNEL_UAPI_PROTOCOL' }));
    expect(() => parseGet('garbage\nerrno=0\n\n')).toThrow(expect.objectContaining({ code: 'TUNNEL_UAPI_PROTOCOL' }));
  });
});
