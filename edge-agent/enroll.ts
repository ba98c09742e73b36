// Enrollment: `weft-agent enroll --file` and first boot share this. The device's keys are made on
// the device (the store generates and keeps them, 0600), the hub is reached over HTTPS pinned to its
// CA fingerprint, transient failures are retried with jittered backoff, the result is persisted, and
// only then is the one-time token deleted from the provisioning file. Each attempt signs a fresh
// hub challenge into its proof, so a recorded request cannot be replayed, and a retry after a lost
// answer (token already spent by this very device) still enrolls.
import { errorMessage } from '../base/index.ts';
import { sign } from 'node:crypto';
import type { AgentStore, DeviceIdentity, Enrollment } from '../offline-store/index.ts';
import { enrollProofMessage, type EnrollRequest, type EnrollResponse } from '../protocol/index.ts';
import { backoffDelay, sleep, type BackoffOptions } from './backoff.ts';
import { AgentError } from './errors.ts';
import type { Logger } from './logger.ts';
import { hasDefaultRoute, isNoRouteError } from './net-ready.ts';
import { pinnedRequest } from './pinned-https.ts';
import { readProvisionFile, removeToken, type ProvisionFile } from './provision-file.ts';
import type { StateLine } from './state-line.ts';
import { AGENT_VERSION } from './version.ts';

/** Hub answers that retrying cannot fix: the technician needs a new file or the hub a fix. */
const PERMANENT = new Set([
  'ENROLL_TOKEN_INVALID',
  'ENROLL_TOKEN_EXPIRED',
  'ENROLL_TOKEN_USED',
  'ENROLL_SITE_MISMATCH',
  'ENROLL_BAD_PROOF',
  'ENROLL_KEY_MISMATCH',
  'ENROLL_SITE_REVOKED',
  'ENROLL_WG_KEY_INVALID',
  'ENROLL_WG_KEY_IN_USE',
  'ENROLL_CA_MISMATCH',
  'ENROLL_TLS_UNTRUSTED',
  'ENROLL_TLS_HOSTNAME',
  'ENROLL_NO_TOKEN',
  'PROVISION_BAD_HUB_URL',
  'ENROLL_SITE_MODE',
  'ENROLL_NODE_NAME_INVALID',
]);

const FIX: Record<string, string> = {
  ENROLL_TOKEN_INVALID: 'the token is not known to the hub: get a fresh provisioning file (weft site token --provision-file)',
  ENROLL_TOKEN_EXPIRED: 'the token expired: get a fresh provisioning file (weft site token --provision-file)',
  ENROLL_TOKEN_USED: 'the token was already used by another device: get a fresh provisioning file',
  ENROLL_SITE_MISMATCH: 'siteName in the provisioning file does not match the token: use the file as the hub wrote it',
  ENROLL_BAD_PROOF: 'the device key proof failed: report this as a bug with `weft-agent status --json`',
  ENROLL_KEY_MISMATCH: 'this site is enrolled with another device key: ask central ops to re-issue the site (weft site token)',
  ENROLL_SITE_REVOKED: 'the site was revoked at the hub: ask central ops',
  ENROLL_WG_KEY_INVALID: 'the device WireGuard key was refused: report this as a bug with `weft-agent status --json`',
  ENROLL_WG_KEY_IN_USE: 'another site uses this device WireGuard key (a cloned image?): reset the device keys (reflash) and enroll again',
  ENROLL_SITE_MODE:
    'a node token needs the node name (NODE_NAME), and a one-device site takes its one-time token without one: ask central ops which the site is',
  ENROLL_NODE_NAME_INVALID: 'the node name must be one DNS label (lowercase letters, digits, dashes): set NODE_NAME or nodeName in the agent config',
};

export const isPermanent = (code: string): boolean => PERMANENT.has(code);

function buildRequest(p: ProvisionFile, id: DeviceIdentity, challenge: string | null, nodeName?: string): EnrollRequest {
  const base = {
    token: p.token,
    siteName: p.siteName,
    wireguardPublicKey: id.wireguardPublicKey,
    ...(challenge === null ? {} : { challenge }),
    ...(p.node && nodeName !== undefined ? { nodeName } : {}),
  };
  return {
    ...base,
    identityPublicKey: id.identityPublicKey,
    agentVersion: AGENT_VERSION,
    proof: sign(null, Buffer.from(enrollProofMessage(base), 'utf8'), id.ed25519PrivateKey).toString('base64'),
  };
}

function parseResponse(body: string): EnrollResponse {
  let r: Partial<EnrollResponse>;
  try {
    r = JSON.parse(body) as Partial<EnrollResponse>;
  } catch {
    throw new AgentError('ENROLL_BAD_RESPONSE', 'the hub answered with something that is not JSON', 'is hubUrl the hub API and not another web server?');
  }
  if (typeof r.siteId !== 'string' || typeof r.broker?.url !== 'string' || !Array.isArray(r.signingKeys) || typeof r.wireguard?.hubPublicKey !== 'string') {
    throw new AgentError('ENROLL_BAD_RESPONSE', 'the hub answer lacks siteId, broker, signingKeys or wireguard', 'hub and agent versions may not match');
  }
  return r as EnrollResponse;
}

function hubError(status: number, body: string): AgentError {
  let code = status >= 500 ? 'ENROLL_HUB_ERROR' : 'ENROLL_REFUSED';
  let message = `hub answered HTTP ${status}`;
  try {
    const j = JSON.parse(body) as { code?: unknown; message?: unknown; error?: { code?: unknown; message?: unknown } };
    const c = j.code ?? j.error?.code;
    const m = j.message ?? j.error?.message;
    if (typeof c === 'string') code = c;
    if (typeof m === 'string') message = `${message}: ${m}`;
  } catch {
    // Non-JSON error page: keep the status.
  }
  return new AgentError(code, message, FIX[code] ?? (status >= 500 || status === 429 ? 'the hub is busy or failing: the agent retries by itself' : undefined));
}

/** A one-time challenge to sign; null from a hub before challenges (404), which takes a v1 proof with a token. */
async function fetchChallenge(url: URL, fingerprint: string, opts: { timeoutMs?: number; now?: () => Date }): Promise<string | null> {
  const res = await pinnedRequest(url, fingerprint, { method: 'POST', body: '{}', ...opts });
  if (res.status === 404) return null;
  if (res.status < 200 || res.status >= 300) throw hubError(res.status, res.body);
  try {
    const c = (JSON.parse(res.body) as { challenge?: unknown }).challenge;
    if (typeof c === 'string' && c !== '') return c;
  } catch {
    // reported below
  }
  throw new AgentError('ENROLL_BAD_RESPONSE', 'the hub answered the challenge request without a challenge', 'hub and agent versions may not match');
}

/** One enrollment: a challenge, then POST /v1/enroll. */
export async function enrollOnce(
  p: ProvisionFile,
  id: DeviceIdentity,
  opts: { timeoutMs?: number; now?: () => Date; nodeName?: string } = {},
): Promise<{ response: EnrollResponse; hubDate: number | null }> {
  let url: URL;
  try {
    url = new URL('/v1/enroll', p.hubUrl.endsWith('/') ? p.hubUrl : `${p.hubUrl}/`);
  } catch {
    throw new AgentError('PROVISION_BAD_HUB_URL', `hubUrl ${p.hubUrl} is not a URL`, 'fix hubUrl in the provisioning file');
  }
  const challenge = await fetchChallenge(new URL('/v1/enroll/challenge', url), p.caFingerprint, opts);
  const res = await pinnedRequest(url, p.caFingerprint, { method: 'POST', body: JSON.stringify(buildRequest(p, id, challenge, opts.nodeName)), ...opts });
  if (res.status < 200 || res.status >= 300) throw hubError(res.status, res.body);
  return { response: parseResponse(res.body), hubDate: res.date };
}

export interface EnrollOptions {
  store: AgentStore;
  provisionFile: string;
  log: Logger;
  state?: StateLine;
  /** Attempts for transient failures (Infinity on first boot). */
  attempts?: number;
  /** On first boot even permanent failures are retried (slowly), showing the error meanwhile. */
  retryPermanent?: boolean;
  backoff?: BackoffOptions;
  signal?: AbortSignal;
  /** Is there an uplink yet (default: a default route exists)? Tests inject it. */
  networkUp?: () => boolean;
  /** This device's k3s node name: sent when the provisioning file holds a node token. */
  nodeName?: string;
}

/** Enrolls unless already enrolled; returns the stored enrollment. Throws the last AgentError. */
export async function enroll(o: EnrollOptions): Promise<Enrollment> {
  const existing = o.store.identity.enrollment();
  if (existing) return existing;
  const p = readProvisionFile(o.provisionFile);
  if (!p.token) {
    throw new AgentError(
      'ENROLL_NO_TOKEN',
      `${o.provisionFile} has no token and this device is not enrolled`,
      'the token was used already: get a fresh provisioning file (weft site token --provision-file)',
    );
  }
  // Keys first and persisted: a retry (or a retry after a crash) proves the same key to the hub.
  const id = o.store.identity.getOrCreate();
  const attempts = o.attempts ?? 5;
  const backoff = o.backoff ?? { minMs: 1000, maxMs: 60_000 };
  const networkUp = o.networkUp ?? (() => hasDefaultRoute());
  let lastError: string | undefined;
  let noRoute = false; // the last try found no route: keep saying so rather than flicker
  let reached = false; // the hub answered once: the network works, default route or not (hub on the LAN)
  // `attempt` counts tries that had a network (what the technician sees); `tries` all, for the limit.
  for (let attempt = 1, tries = 1; ; tries++) {
    // Without an uplink the request is still tried (the hub may be on the local link), but the
    // console says why it cannot work yet rather than showing an enrollment error.
    const offline = !reached && !networkUp();
    o.state?.set(offline || noRoute ? { kind: 'waiting-network' } : { kind: 'enrolling', attempt, lastError });
    try {
      const { response, hubDate } = await enrollOnce(p, id, { nodeName: o.nodeName });
      const saved = o.store.identity.saveEnrollment({ ...response, hubCaFingerprint: p.caFingerprint });
      o.store.config.set('hubUrl', p.hubUrl);
      if (hubDate !== null) o.store.config.set('hubClockSkewMs', Date.now() - hubDate);
      try {
        removeToken(o.provisionFile);
      } catch (e) {
        o.log.warn({ file: o.provisionFile, err: errorMessage(e) }, 'enrolled, but could not remove the token from the provisioning file; delete it by hand');
      }
      o.log.info({ siteId: saved.siteId, broker: saved.broker.url }, 'enrolled');
      o.state?.set({ kind: 'enrolled', siteId: saved.siteId });
      return saved;
    } catch (e) {
      const err = e instanceof AgentError ? e : new AgentError('ENROLL_FAILED', errorMessage(e));
      noRoute = isNoRouteError(err);
      reached ||= err.code !== 'ENROLL_HUB_UNREACHABLE';
      const noNetwork = noRoute || (offline && err.code === 'ENROLL_HUB_UNREACHABLE');
      const permanent = isPermanent(err.code);
      o.log.warn({ attempt, code: err.code, err: err.message, noNetwork }, 'enrollment attempt failed');
      if ((permanent && !o.retryPermanent) || tries >= attempts || o.signal?.aborted) {
        o.state?.set({ kind: 'enroll-failed', error: `${err.message} (${err.code})`, fix: err.hint });
        throw err;
      }
      if (noNetwork) {
        // DHCP usually completes within seconds: poll at the shortest backoff, count no attempt.
        o.state?.set({ kind: 'waiting-network' });
        if (!(await sleep(backoffDelay(1, backoff), o.signal))) throw err;
        continue;
      }
      attempt++;
      lastError = `${err.message}${permanent && err.hint ? `; fix: ${err.hint}` : ''}`;
      const delay = backoffDelay(permanent ? attempt + 3 : attempt - 1, backoff);
      if (!(await sleep(delay, o.signal))) throw err;
    }
  }
}
