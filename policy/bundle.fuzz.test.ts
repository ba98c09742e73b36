// Fuzzing the bundle verifier (issue 15 fuzz suite): a bundle arrives over MQTT from whoever holds
// the broker's trust, so damaged bytes, any JSON and re-signed envelopes must give a coded
// BundleError, never another exception, and no damaged bundle may verify. Fixed seeds.
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BundleError, encodeBundle, keyIdOf, signBundle, verifyBundle, type BundlePayload } from './bundle.ts';

const hub = generateKeyPairSync('ed25519');
const opts = { trustedKeys: new Map([[keyIdOf(hub.publicKey), hub.publicKey]]), siteId: 'store-1', appliedGeneration: 4 };
const payload: BundlePayload = {
  siteId: 'store-1',
  generation: 5,
  issuedAt: '2026-01-01T00:00:00Z',
  policyVersion: 3,
  policies: [{ kind: 'NetworkPolicy', metadata: { name: 'a' } }],
};
const good = encodeBundle(signBundle(payload, hub.privateKey));

/** 'ok' with the payload when it verifies, else the BundleError's code; anything else is thrown. */
function verdict(bytes: Uint8Array | string): string {
  try {
    verifyBundle(bytes, opts);
    return 'ok';
  } catch (e) {
    if (e instanceof BundleError) return e.code;
    throw e;
  }
}

describe('bundle verifier fuzz', () => {
  it('damaged bytes of a good bundle: a coded error, and never accepted unless the bytes are unchanged', () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
        runs++;
        const b = Buffer.from(good);
        for (const [i, v] of edits) b[i] = v;
        const v = verdict(b);
        // JSON allows a few harmless edits (whitespace outside strings): those must still be the same payload.
        if (v === 'ok') expect(verifyBundle(b, opts)).toEqual(payload);
        else expect(v).toMatch(/^BUNDLE_[A-Z_]+$/);
      }),
      { numRuns: 3_000, seed: 201 },
    );
    console.log(`fuzz bundle-bytes: ${runs} inputs`);
  });

  it('any JSON or text, and envelopes around any payload: coded errors only', () => {
    let runs = 0;
    const envelope = fc.record({
      format: fc.oneof(fc.string(), fc.constant(JSON.parse(good.toString()).format)),
      payload: fc.string(),
      signature: fc.string(),
      keyId: fc.string(),
    });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 400 }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          envelope.map((e) => JSON.stringify(e)),
        ),
        (text) => {
          runs++;
          expect(verdict(text)).toMatch(/^BUNDLE_[A-Z_]+$/);
        },
      ),
      { numRuns: 3_000, seed: 202 },
    );
    console.log(`fuzz bundle-json: ${runs} inputs`);
  });
});
