// Building, signing, recording and publishing one site's bundle. The generation is taken and the
// bundle recorded in one transaction before it is published, so a generation is never reused and
// a bundle is never published that the store does not know (a crash in between is healed by
// republishing the recorded bundle on resume).
import { signBundleTree, signKeySet } from '../../policy/index.ts';
import { delivery, topics, type SigningKeysMessage } from '../../protocol/index.ts';
import type { SigningKeys } from '../pki/signing-keys.ts';
import type { BundleRecord, HubStore, SiteRecord, StoreRepos } from '../store/types.ts';
import { PolicySets } from './site-policies.ts';

/** The hub's MQTT client as the rollout needs it (mqtt.js publishAsync fits). */
export interface Publisher {
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
}

export class BundleService {
  constructor(
    private readonly store: HubStore,
    private readonly keys: SigningKeys,
    private readonly publisher: Publisher,
    private readonly now: () => number,
  ) {}

  /**
   * Records a new generation of each site's bundle, built from `policyVersion` (0: no policies), in ONE
   * transaction of a few statements (a stage of thousands of sites is one commit and, on PostgreSQL,
   * a few round trips, not thousands). The policy version is read and filtered once per distinct site
   * selection, and the sites of each distinct policy set share ONE signature (signBundleTree: the
   * shared policies and the root of the sites' (site, generation) leaves); each site's bundle carries
   * its path to that root, so it verifies for that site and generation only.
   * `onRecorded` runs once in the same transaction with every record (the engine marks them published).
   */
  async recordMany(
    sites: readonly SiteRecord[],
    policyVersion: number,
    rolloutId: number | null,
    onRecorded?: (tx: StoreRepos, bs: readonly BundleRecord[]) => Promise<void>,
  ): Promise<BundleRecord[]> {
    if (!sites.length) return [];
    const objects = policyVersion === 0 ? [] : ((await this.store.policies.get(policyVersion))?.objects ?? []);
    const t = this.now();
    const issuedAt = new Date(t).toISOString();
    const { privateKey } = this.keys.active(t);
    const sets = new PolicySets(objects);
    return this.store.tx(
      async (tx) => {
        const generations = await tx.rollouts.nextGenerations(sites.map((s) => s.id));
        // Sites by the policy set they get (a fleet usually has a handful).
        const groups = new Map<unknown[], number[]>();
        sites.forEach((site, i) => {
          const policies = sets.forSite(site);
          const g = groups.get(policies);
          if (g) g.push(i);
          else groups.set(policies, [i]);
        });
        const out: BundleRecord[] = new Array(sites.length);
        for (const [policies, idx] of groups) {
          const leaves = idx.map((i) => ({ siteId: sites[i].id, generation: generations[i] }));
          const bytes = signBundleTree({ issuedAt, policyVersion, policies }, leaves, privateKey);
          idx.forEach((i, k) => {
            out[i] = { siteId: sites[i].id, generation: generations[i], policyVersion, rolloutId, bundle: bytes[k], createdAt: t };
          });
        }
        await tx.rollouts.addBundles(out);
        await onRecorded?.(tx, out);
        return out;
      },
      // Published right after: a power cut must not roll the generation back and reissue it with other content.
      { durable: true },
    );
  }

  async publish(b: BundleRecord): Promise<void> {
    await this.publisher.publish(topics.bundle(b.siteId), Buffer.from(b.bundle, 'utf8'), delivery.bundle);
  }

  /**
   * Publishes every enrolled site's latest bundle again, retained (same generation, same bytes): the
   * embedded broker keeps retained messages in memory only, and a site that reconnects after a hub
   * restart (or a replaced appliance enrolling) must find its bundle there. Agents ignore a
   * generation they already applied.
   */
  async republishLatest(): Promise<number> {
    const all = await this.store.rollouts.latestBundles();
    await Promise.all(all.map((b) => this.publish(b)));
    return all.length;
  }

  /** Removes a revoked site's retained bundle (an empty retained payload clears it). */
  async clear(siteId: string): Promise<void> {
    await this.publisher.publish(topics.bundle(siteId), Buffer.alloc(0), delivery.bundle);
  }

  /**
   * Publishes the keys agents must trust now (retained), as a set signed by a key every agent already
   * trusts: done before a new key signs anything, and right after a revocation.
   */
  async publishKeys(): Promise<void> {
    const now = this.now();
    const keys = this.keys.trusted(now).map((k) => ({ keyId: k.keyId, publicKey: k.publicKey }));
    const set = signKeySet({ version: this.keys.version(now), issuedAt: new Date(now).toISOString(), keys }, this.keys.keySetSigner(now).privateKey);
    const msg: SigningKeysMessage = { v: 1, keys, set };
    await this.publisher.publish(topics.signingKeys, Buffer.from(JSON.stringify(msg), 'utf8'), { qos: 1, retain: true });
  }
}
