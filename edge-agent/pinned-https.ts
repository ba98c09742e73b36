// HTTPS to the hub before the device trusts anything: the provisioning file carries the sha256
// fingerprint of the hub CA certificate (DER). The server's chain must contain that CA, the leaf
// must chain up to it by signature, be valid at the device's time and name the host we dialed.
// No request byte leaves the device before these checks pass (they run in createConnection).
import { createHash, X509Certificate } from 'node:crypto';
import { Agent, request, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import { connect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { AgentError } from './errors.ts';
import { errorCode } from '../base/index.ts';

export function normalizeFingerprint(fp: string): string {
  return fp
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, '')
    .replace(/[:\s]/g, '');
}

export const fingerprintOf = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

/** The chain the server sent, leaf first, as DER. */
function peerChain(sock: TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  let c: DetailedPeerCertificate | undefined = sock.getPeerCertificate(true);
  while (c && c.raw && out.length < 10) {
    out.push(c.raw);
    if (!c.issuerCertificate || c.issuerCertificate === c || c.issuerCertificate.raw?.equals(c.raw)) break;
    c = c.issuerCertificate;
  }
  return out;
}

/** Throws an AgentError (ENROLL_CA_MISMATCH, ENROLL_TLS_UNTRUSTED, ENROLL_CLOCK_SKEW, ENROLL_TLS_HOSTNAME). */
export function checkPinnedChain(chainDer: Buffer[], host: string, fingerprint: string, now: Date): void {
  const want = normalizeFingerprint(fingerprint);
  const certs = chainDer.map((d) => new X509Certificate(d));
  const caIndex = chainDer.findIndex((d) => fingerprintOf(d) === want);
  if (caIndex < 0) {
    throw new AgentError(
      'ENROLL_CA_MISMATCH',
      `the hub's certificate chain does not contain the pinned CA ${want.slice(0, 16)}… (it presented ${chainDer.map((d) => fingerprintOf(d).slice(0, 16) + '…').join(', ') || 'nothing'})`,
      'check caFingerprint in the provisioning file against the hub (weft site token --provision-file writes it), and that hubUrl points at the real hub, not a proxy that intercepts TLS',
    );
  }
  for (let i = 0; i < caIndex; i++) {
    if (!certs[i].checkIssued(certs[i + 1]) || !certs[i].verify(certs[i + 1].publicKey)) {
      throw new AgentError(
        'ENROLL_TLS_UNTRUSTED',
        `certificate ${certs[i].subject.replace(/\n/g, ', ')} is not signed by the pinned CA's chain`,
        'the hub must present its server certificate issued by its CA',
      );
    }
  }
  for (const c of certs.slice(0, caIndex + 1)) {
    if (now < new Date(c.validFrom) || now > new Date(c.validTo)) {
      throw new AgentError(
        'ENROLL_CLOCK_SKEW',
        `the hub certificate is valid ${c.validFrom} to ${c.validTo}, but this device's clock says ${now.toISOString()}`,
        'set the clock (NTP reachable? `timedatectl`), or renew the hub certificate if it really expired',
      );
    }
  }
  const leaf = certs[0];
  const named = isIP(host) ? leaf.checkIP(host) : leaf.checkHost(host);
  if (!named)
    throw new AgentError(
      'ENROLL_TLS_HOSTNAME',
      `the hub certificate does not name ${host}`,
      'use the hub URL whose host is in the certificate (its DNS name or IP)',
    );
}

/** Connects with TLS, checks the pinned chain, and only then hands the socket to the HTTP client. */
class PinnedAgent extends Agent {
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly fingerprint: string,
    private readonly now: () => Date,
  ) {
    super({ keepAlive: false });
  }

  override createConnection(_o: RequestOptions, cb?: (err: Error | null, s: Duplex) => void): undefined {
    const done = cb ?? (() => undefined);
    const host = this.host;
    const sock = connect({ host, port: this.port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    sock.once('secureConnect', () => {
      try {
        checkPinnedChain(peerChain(sock), host, this.fingerprint, this.now());
        done(null, sock);
      } catch (e) {
        sock.destroy();
        done(e as Error, sock);
      }
    });
    sock.once('error', (e) => done(e, sock));
    return undefined;
  }
}

export interface PinnedResponse {
  status: number;
  body: string;
  /** The hub's Date header (ms), for the clock-skew check. */
  date: number | null;
}

/** One HTTPS request pinned to the CA fingerprint. Network failures are AgentError ENROLL_HUB_UNREACHABLE. */
export function pinnedRequest(
  url: URL,
  fingerprint: string,
  opts: { method: string; body?: string; timeoutMs?: number; now?: () => Date },
): Promise<PinnedResponse> {
  if (url.protocol !== 'https:') {
    return Promise.reject(new AgentError('PROVISION_BAD_HUB_URL', `hub URL must be https://, got ${url.protocol}//`, 'fix hubUrl in the provisioning file'));
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        method: opts.method,
        host,
        port: url.port || 443,
        path: url.pathname + url.search,
        agent: new PinnedAgent(host, Number(url.port || 443), fingerprint, opts.now ?? (() => new Date())),
        headers: { 'content-type': 'application/json', ...(opts.body ? { 'content-length': Buffer.byteLength(opts.body) } : {}) },
        timeout: opts.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const d = res.headers.date ? Date.parse(res.headers.date) : NaN;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), date: Number.isNaN(d) ? null : d });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 15_000} ms`)));
    req.on('error', (e) => {
      if (e instanceof AgentError) return reject(e);
      const code = errorCode(e);
      reject(
        new AgentError(
          'ENROLL_HUB_UNREACHABLE',
          `hub unreachable: ${code ?? e.message}`,
          'check the uplink, DNS and the hub URL; `weft-agent doctor` tests the route',
          e,
        ),
      );
    });
    if (opts.body) req.write(opts.body);
    req.end();
  });
}
