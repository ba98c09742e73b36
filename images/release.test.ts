// The release files build:release writes, read back the way an agent reads them: the manifest verifies
// against the release-key set, the artifact's bytes match it, and one changed byte is caught.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyIdOf, verifyKeySet } from '../base/index.ts';
import { checkArtifact, RELEASE_KEY_SET_CONTEXT, verifyRelease } from '../protocol/index.ts';
import { hashFile, releaseKey, signArtifact, writeReleaseKeySet } from './release.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-release-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('release files', () => {
  it('makes a 0600 release key once and reads it back', () => {
    const path = join(dir, 'release.pem');
    const k = releaseKey(path, true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(keyIdOf(createPublicKey(releaseKey(path)))).toBe(keyIdOf(createPublicKey(k)));
    expect(() => releaseKey(join(dir, 'absent.pem'))).toThrow(/not found/);
  });

  it('signs an artifact that verifies, and refuses it with one byte changed', async () => {
    const key = releaseKey(join(dir, 'release.pem'));
    const file = join(dir, 'weft-agent-0.3.0');
    writeFileSync(file, Buffer.alloc(300_000, 7));
    const r = await signArtifact({ kind: 'agent', file, version: '0.3.0', minHubVersion: '0.1.0', key, issuedAt: '2026-12-07T00:00:00Z' });
    const set = writeReleaseKeySet(dir, 1, [key], key, '2026-12-07T00:00:00Z');
    // The first set an appliance holds comes with its image: trusted as it is, then only newer ones.
    const held = verifyKeySet(JSON.parse(readFileSync(join(dir, 'release-keys.json'), 'utf8')), {
      trustedKeys: new Map([[set.keyId, createPublicKey(key)]]),
      version: 0,
      context: RELEASE_KEY_SET_CONTEXT,
    });
    const trusted = new Map(held.keys.map((k) => [k.keyId, createPublicKey(key)]));
    const m = verifyRelease(JSON.parse(readFileSync(r.path, 'utf8')), { trustedKeys: trusted, kind: 'agent', installed: '0.2.0' });
    expect(m).toMatchObject({ version: '0.3.0', size: 300_000, file: 'weft-agent-0.3.0' });
    expect(() => checkArtifact(m, { sha256: r.manifest.sha256, size: statSync(file).size })).not.toThrow();
    const bytes = readFileSync(file);
    bytes[1234] ^= 1;
    writeFileSync(file, bytes);
    const got = await hashFile(file);
    expect(() => checkArtifact(m, got)).toThrow(expect.objectContaining({ code: 'RELEASE_HASH_MISMATCH' }));
    const stranger = generateKeyPairSync('ed25519').privateKey;
    const forged = await signArtifact({ kind: 'agent', file, version: '0.3.1', minHubVersion: '0.1.0', key: stranger, issuedAt: 'x' });
    expect(() => verifyRelease(forged.signed, { trustedKeys: trusted, kind: 'agent' })).toThrow(expect.objectContaining({ code: 'RELEASE_UNKNOWN_KEY' }));
  });
});
