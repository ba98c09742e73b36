// The release keys this agent trusts: a signed release-key set, held in the update folder once one
// arrived, else the one the image (or the DaemonSet's config) ships. A newer set is taken only when a
// key already trusted signed it and its version is above the held one, as for bundle keys.
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { publicKeyOf, type SignedKeySet, verifyKeySet } from '../../base/index.ts';
import { RELEASE_KEY_SET_CONTEXT } from '../../protocol/index.ts';
import { AgentError } from '../errors.ts';
import type { Slots } from './slots.ts';

const HELD = 'release-keys.json';

export interface HeldReleaseKeys {
  version: number;
  keys: Map<string, KeyObject>;
}

function read(path: string): SignedKeySet | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SignedKeySet;
  } catch {
    return null;
  }
}

/**
 * The held set. The shipped one is trusted as it is (it came with the image the technician flashed, like
 * the hub CA fingerprint in the provisioning file); it is still checked to be signed by a key it lists.
 */
export function heldReleaseKeys(slots: Slots, shipped: string): HeldReleaseKeys {
  const set = read(slots.path(HELD)) ?? read(shipped);
  if (!set)
    throw new AgentError(
      'UPDATE_NO_RELEASE_KEYS',
      `no release-key set in ${slots.path(HELD)} or ${shipped}`,
      'ship release-keys.json from `npm run build:release` with the image',
    );
  let payload: { keys: { keyId: string; publicKey: string }[]; version: number };
  try {
    payload = JSON.parse(set.payload);
  } catch (e) {
    throw new AgentError('UPDATE_NO_RELEASE_KEYS', 'the release-key set is not JSON', 'ship release-keys.json from `npm run build:release`', e);
  }
  const self = new Map<string, KeyObject>();
  for (const k of payload.keys ?? []) {
    const key = publicKeyOf(k);
    if (key) self.set(k.keyId, key);
  }
  const verified = verifyKeySet(set, { trustedKeys: self, version: 0, context: RELEASE_KEY_SET_CONTEXT });
  return { version: verified.version, keys: self };
}

/** Takes a newer set (throws KeySetError when it is not one) and holds it from now on. */
export function acceptReleaseKeys(slots: Slots, held: HeldReleaseKeys, set: SignedKeySet): HeldReleaseKeys {
  const p = verifyKeySet(set, { trustedKeys: held.keys, version: held.version, context: RELEASE_KEY_SET_CONTEXT });
  slots.writeFile(HELD, `${JSON.stringify(set)}\n`);
  return { version: p.version, keys: new Map(p.keys.map((k) => [k.keyId, publicKeyOf(k) as KeyObject])) };
}
