// Every bundle that arrives goes through here: verify (signature, trusted key, site, generation),
// record it as received, compile it, commit it as last-known-good, apply it, and ack. A bundle that
// fails any step is rejected with its code and nothing of it is applied; the previous generation
// stays live. A store that cannot be written (disk full, read-only) rejects the bundle too: the rule
// is "last-known-good committed before anything is applied", and the live generation keeps enforcing.
import { errorMessage } from '../base/index.ts';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { AgentStore, BundleRecord } from '../offline-store/index.ts';
import { BundleError, verifyBundle } from '../policy/index.ts';
import type { AckMessage } from '../protocol/index.ts';
import { EnforceError, type Enforcer } from './enforcer.ts';
import type { Logger } from './logger.ts';
import type { AgentMetrics } from './metrics.ts';

export type IntakeOutcome =
  | { result: 'applied'; generation: number }
  | { result: 'rejected'; generation: number; code: string; reason: string }
  | { result: 'duplicate'; generation: number | null };

export interface IntakeOptions {
  store: AgentStore;
  enforcer: Enforcer;
  siteId: string;
  log: Logger;
  metrics?: AgentMetrics;
  /** Queues an ack (through the outbox, high priority). */
  sendAck: (ack: AckMessage) => void;
  clock?: () => number;
}

/** Trusted hub signing keys from the enrollment (base64 SPKI DER by key id). */
export function trustedKeysOf(store: AgentStore): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const k of store.identity.enrollment()?.signingKeys ?? []) {
    keys.set(k.keyId, createPublicKey({ key: Buffer.from(k.publicKey, 'base64'), format: 'der', type: 'spki' }));
  }
  return keys;
}

/** The generation a bundle claims, before verification; null when it cannot be read. For the record only. */
function claimedGeneration(bytes: Buffer): number | null {
  try {
    const env = JSON.parse(bytes.toString('utf8')) as { payload?: unknown };
    const g = typeof env.payload === 'string' ? (JSON.parse(env.payload) as { generation?: unknown }).generation : undefined;
    return Number.isSafeInteger(g) ? (g as number) : null;
  } catch {
    return null;
  }
}

export class BundleIntake {
  lastRejection: { generation: number; code: string; reason: string; at: number } | null = null;
  private readonly clock: () => number;

  constructor(private readonly o: IntakeOptions) {
    this.clock = o.clock ?? Date.now;
  }

  async receive(raw: Uint8Array): Promise<IntakeOutcome> {
    const bytes = Buffer.from(raw);
    const claimed = claimedGeneration(bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const { store, enforcer } = this.o;
    const seen = store.bundles.findBySha256(sha);
    // The retained bundle comes again on every (re)subscribe: the one in force is not news.
    if (seen && (seen.status === 'rejected' || seen.generation === enforcer.appliedGeneration)) return { result: 'duplicate', generation: seen.generation };

    let payload;
    try {
      payload = verifyBundle(bytes, { trustedKeys: trustedKeysOf(store), siteId: this.o.siteId, appliedGeneration: enforcer.appliedGeneration });
    } catch (e) {
      if (!(e instanceof BundleError)) throw e;
      return this.reject(bytes, claimed ?? 0, e.code, e.message);
    }
    let prepared;
    try {
      prepared = enforcer.prepare(payload);
    } catch (e) {
      if (!(e instanceof EnforceError)) throw e;
      return this.reject(bytes, payload.generation, e.code, e.message);
    }
    let rec: BundleRecord;
    try {
      rec = store.bundles.recordReceived(bytes, payload.generation);
      store.bundles.setLastKnownGood(rec.id);
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'STORE_IO';
      this.o.metrics?.storeWriteFailures.inc({ code });
      this.o.log.error(
        { code, generation: payload.generation, err: errorMessage(e) },
        'cannot commit the bundle as last-known-good; not applying it, the live generation keeps enforcing',
      );
      return this.reject(null, payload.generation, code, `store write failed: ${errorMessage(e)}`);
    }
    try {
      await enforcer.applyBundle(prepared);
    } catch (e) {
      const code = e instanceof EnforceError ? e.code : 'DATAPATH_APPLY';
      this.safeStore(() => store.bundles.markRejected(rec.id, code, errorMessage(e)));
      return this.reject(null, payload.generation, code, errorMessage(e));
    }
    this.safeStore(() => store.bundles.markApplied(rec.id));
    this.o.sendAck({ v: 1, generation: payload.generation, result: 'applied', at: new Date(this.clock()).toISOString() });
    return { result: 'applied', generation: payload.generation };
  }

  /** Records (when bytes are given) and acks a rejection. */
  private reject(bytes: Buffer | null, generation: number, code: string, reason: string): IntakeOutcome {
    this.o.log.warn({ generation, code, reason }, 'bundle rejected');
    this.o.metrics?.bundlesRejected.inc({ code });
    this.lastRejection = { generation, code, reason, at: this.clock() };
    if (bytes) {
      this.safeStore(() => {
        const rec = this.o.store.bundles.recordReceived(bytes, generation || null);
        this.o.store.bundles.markRejected(rec.id, code, reason);
      });
    }
    this.o.sendAck({ v: 1, generation, result: 'rejected', code, reason: reason.slice(0, 1000), at: new Date(this.clock()).toISOString() });
    return { result: 'rejected', generation, code, reason };
  }

  private safeStore(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'STORE_IO';
      this.o.metrics?.storeWriteFailures.inc({ code });
      this.o.log.error({ code, err: errorMessage(e) }, 'store write failed; enforcement continues');
    }
  }
}
