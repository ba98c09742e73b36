// Enforcement before the network: the last-known-good bundle from the store is verified again
// (signature and site; its generation may equal what was applied) and either adopted, when the
// pinned kernel maps already hold its generation, or applied. A last-known-good that no longer
// verifies or compiles is marked rejected and the store falls back to the previous applied one.
import { errorCode, errorMessage } from '../base/index.ts';
import type { AgentStore } from '../offline-store/index.ts';
import { BundleError, verifyBundle } from '../policy/index.ts';
import { EnforceError, type Enforcer } from './enforcer.ts';
import { trustedKeysOf } from './bundle-intake.ts';
import type { Logger } from './logger.ts';

export type RestoreResult =
  | { kind: 'adopted'; generation: number }
  | { kind: 'applied'; generation: number }
  /** The kernel holds a generation the store does not know (store lost or recovered): keep it. */
  | { kind: 'pinned-only'; generation: number }
  | { kind: 'none' };

export async function restoreLastKnownGood(store: AgentStore | null, enforcer: Enforcer, kernelGeneration: number, log: Logger): Promise<RestoreResult> {
  const enrollment = store?.identity.enrollment() ?? null;
  for (let tries = 0; store && enrollment && tries < 32; tries++) {
    const lkg = store.bundles.lastKnownGood();
    if (!lkg) break;
    try {
      const payload = verifyBundle(lkg.bytes, { trustedKeys: trustedKeysOf(store), siteId: enrollment.siteId, appliedGeneration: 0 });
      const prepared = enforcer.prepare(payload);
      if (kernelGeneration === payload.generation) {
        await enforcer.adopt(prepared);
        return { kind: 'adopted', generation: payload.generation };
      }
      await enforcer.applyBundle(prepared, 'start');
      if (lkg.status !== 'applied') bestEffort(log, () => store.bundles.markApplied(lkg.id));
      return { kind: 'applied', generation: payload.generation };
    } catch (e) {
      if (!(e instanceof BundleError || e instanceof EnforceError)) throw e;
      log.error({ generation: lkg.generation, code: e.code, err: e.message }, 'last-known-good bundle no longer usable; falling back');
      if (!bestEffort(log, () => store.bundles.markRejected(lkg.id, e.code, e.message))) break;
    }
  }
  if (kernelGeneration > 0) {
    log.warn({ generation: kernelGeneration }, 'no usable bundle in the store; keeping the generation pinned in the kernel');
    enforcer.adoptPinned(kernelGeneration);
    return { kind: 'pinned-only', generation: kernelGeneration };
  }
  return { kind: 'none' };
}

/** A store write that may fail (disk full, read-only): logged, never fatal to enforcement. */
function bestEffort(log: Logger, fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    log.error({ code: errorCode(e), err: errorMessage(e) }, 'store write failed; enforcement continues');
    return false;
  }
}
