import { describe, expect, it } from 'vitest';
import { parseWgDump } from './wg-tool.ts';
import { WgPrivateKey } from './keys.ts';

describe('wg show dump', () => {
  it('parses the device line and peer lines', () => {
    const priv = WgPrivateKey.generate();
    const peer = WgPrivateKey.generate().publicKey();
    const other = WgPrivateKey.generate().publicKey();
    const dump = [
      [priv.revealBase64(), priv.publicKey(), '51820', 'off'].join('\t'),
      [peer, '(none)', '192.0.2.9:40000', '10.99.0.2/32,fd00:99::2/128', '1700000000', '300', '400', '25'].join('\t'),
      [other, '(none)', '(none)', '(none)', '0', '0', '0', 'off'].join('\t'),
      '',
    ].join('\n');
    expect(parseWgDump(dump)).toEqual({
      publicKey: priv.publicKey(),
      listenPort: 51820,
      peers: [
        {
          publicKey: peer,
          endpoint: '192.0.2.9:40000',
          allowedIps: ['10.99.0.2/32', 'fd00:99::2/128'],
          lastHandshakeMs: 1_700_000_000_000,
          rxBytes: 300,
          txBytes: 400,
          persistentKeepaliveS: 25,
        },
        { publicKey: other, endpoint: null, allowedIps: [], lastHandshakeMs: null, rxBytes: 0, txBytes: 0, persistentKeepaliveS: 0 },
      ],
    });
  });

  it('parses a device without a key and refuses truncated output', () => {
    expect(parseWgDump('(none)\t(none)\t0\toff\n')).toEqual({ publicKey: null, listenPort: 0, peers: [] });
    expect(() => parseWgDump('')).toThrow(expect.objectContaining({ code: 'TUNNEL_COMMAND_FAILED' }));
    expect(() => parseWgDump('(none)\t(none)\t0\toff\nabc\tdef\n')).toThrow(expect.objectContaining({ code: 'TUNNEL_COMMAND_FAILED' }));
  });
});
