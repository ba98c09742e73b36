// Every bundle that arrives goes through here: verify (signature, trusted key, site, generation),
// record it as received, compile it, commit it as last-known-good, apply it, and ack. A bundle that
// fails any step is rejected with its code and nothing of it is applied; the previous generation
// stays live. A store that cannot be written (disk full, read-only) rejects the bundle too: the rule
// is "last-known-good committed before anything is applied", and the live generation keeps enforcing.
//
// The keys bundles are verified with change only through a signed key set (policy/key-set.ts) that a
// key already trusted signed, with a higher version. A bundle refused for a key not (yet) trusted is
// kept and tried again when a key set arrives: the retained bundle is not sent again by itself.
import { errorCode, errorMessage } from '../base/index.ts';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { AgentStore, BundleRecord } from '../offline-store/index.ts';
import { BundleError, KeySetError, verifyBundle, verifyKeySet } from '../policy/index.ts';
import type { AckMessage, SigningKeysMessage } from '../protocol/index.ts';
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
    const env = JSON.parse(bytes.toString('utf8')) as { payload?: unknown; site?: { generation?: unknown } };
    // Format 2 (one signature for many sites) names the generation beside the payload, format 1 inside it.
    const g = env.site ? env.site.generation : typeof env.payload === 'string' ? (JSON.parse(env.payload) as { generation?: unknown }).generation : undefined;
    return Number.isSafeInteger(g) ? (g as number) : null;
  } catch {
    return null;
  }
}

export type KeysOutcome =
  | { result: 'updated'; version: number; retried: IntakeOutcome | null }
  | { result: 'unchanged' }
  | { result: 'rejected'; code: string; reason: string };

function versionOf(payload: string): number | null {
  try {
    const v = (JSON.parse(payload) as { version?: unknown }).version;
    return Number.isSafeInteger(v) ? (v as number) : null;
  } catch {
    return null;
  }
}

/**
 * A key set from the broadcast keys topic. Trusted only when signed by a key already trusted and
 * newer than the one held; then it replaces the trusted keys. Anything else changes nothing (a hub
 * before signed sets sends none: the keys stay).
 */
export function acceptKeySet(o: Pick<IntakeOptions, 'store' | 'log' | 'metrics'>, msg: SigningKeysMessage): KeysOutcome {
  const { store, log } = o;
  const refuse = (code: string, reason: string): KeysOutcome => {
    log.warn({ code, reason }, 'hub signing keys refused; the trusted keys stay as they were');
    return { result: 'rejected', code, reason };
  };
  if (!msg.set) return refuse('KEYS_UNSIGNED', 'the hub sent an unsigned key set (a hub before signed sets, or a forgery)');
  const held = store.identity.enrollment()?.signingKeysVersion ?? 0;
  let set;
  try {
    set = verifyKeySet(msg.set, { trustedKeys: trustedKeysOf(store), version: held });
  } catch (e) {
    if (!(e instanceof KeySetError)) throw e;
    // The retained set comes again on every (re)subscribe: the one held is not news.
    if (e.code === 'KEYS_STALE_VERSION' && versionOf(msg.set.payload) === held) return { result: 'unchanged' };
    return refuse(e.code, e.message);
  }
  try {
    store.identity.updateSigningKeys(set.keys, set.version);
  } catch (e) {
    const code = errorCode(e) ?? 'STORE_IO';
    o.metrics?.storeWriteFailures.inc({ code });
    return refuse(code, `could not store the new hub signing keys: ${errorMessage(e)}`);
  }
  log.info({ version: set.version, keys: set.keys.map((k) => k.keyId) }, 'hub signing keys updated');
  return { result: 'updated', version: set.version, retried: null };
}

export class BundleIntake {
  lastRejection: { generation: number; code: string; reason: string; at: number } | null = null;
  private readonly clock: () => number;
  /** The last bundle refused for an untrusted key: tried again when the trusted keys change. */
  private awaitingKey: Buffer | null = null;

  constructor(private readonly o: IntakeOptions) {
    this.clock = o.clock ?? Date.now;
  }

  async receive(raw: Uint8Array): Promise<IntakeOutcome> {
    const bytes = Buffer.from(raw);
    const claimed = claimedGeneration(bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const { store, enforcer } = this.o;
    const seen = store.bundles.findBySha256(sha);
    // The retained bundle comes again on every (re)subscribe: the one in force is not news, nor one
    // rejected for good. One rejected for an unknown key is tried again: the key may have come since.
    const final = seen?.status === 'rejected' && seen.rejectCode !== 'BUNDLE_UNKNOWN_KEY';
    if (seen && (final || seen.generation === enforcer.appliedGeneration)) return { result: 'duplicate', generation: seen.generation };
    this.awaitingKey = null;

    let payload;
    try {
      payload = verifyBundle(bytes, { trustedKeys: trustedKeysOf(store), siteId: this.o.siteId, appliedGeneration: enforcer.appliedGeneration });
    } catch (e) {
      if (!(e instanceof BundleError)) throw e;
      if (e.code === 'BUNDLE_UNKNOWN_KEY') this.awaitingKey = bytes;
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
      const code = errorCode(e) ?? 'STORE_IO';
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

  /** A key set from the broadcast keys topic (acceptKeySet); when it is taken, a bundle that waited for a key is tried again. */
  async acceptKeys(msg: SigningKeysMessage): Promise<KeysOutcome> {
    const out = acceptKeySet(this.o, msg);
    if (out.result !== 'updated' || !this.awaitingKey) return out;
    return { ...out, retried: await this.receive(this.awaitingKey) };
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
      const code = errorCode(e) ?? 'STORE_IO';
      this.o.metrics?.storeWriteFailures.inc({ code });
      this.o.log.error({ code, err: errorMessage(e) }, 'store write failed; enforcement continues');
    }
  }
}
