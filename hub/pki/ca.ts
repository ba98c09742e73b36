// The hub CA (created on first start) and the server certificate of the hub's HTTPS listener.
// Agents pin the CA by its fingerprint: sha256 of the CA certificate's DER, in hex.
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { openssl } from './openssl.ts';
import { writePublic, writeSecret } from './files.ts';

export interface TlsMaterial {
  caCertPem: string;
  /** sha256 of the CA certificate DER, lowercase hex. */
  caFingerprint: string;
  certPem: string;
  keyPem: string;
}

function newEcKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function fingerprintOf(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
}

function ensureCa(dir: string, work: string): { certPath: string; keyPath: string } {
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  if (existsSync(certPath) && existsSync(keyPath)) return { certPath, keyPath };
  writeSecret(keyPath, newEcKeyPem());
  const out = join(work, 'ca.crt');
  openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    keyPath,
    '-out',
    out,
    '-days',
    '3650',
    '-subj',
    '/CN=Weft hub CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  writePublic(certPath, readFileSync(out));
  return { certPath, keyPath };
}

/**
 * Loads or creates the CA, then issues a fresh server certificate for the given names at every start
 * (cheap, and the names may have changed; agents pin the CA, never the server certificate).
 */
export function loadTls(dir: string, names: string[]): TlsMaterial {
  const work = mkdtempSync(join(tmpdir(), 'weft-pki-'));
  try {
    const ca = ensureCa(dir, work);
    const keyPem = newEcKeyPem();
    const keyPath = join(dir, 'server.key');
    writeSecret(keyPath, keyPem);
    const san = [...new Set(['localhost', '127.0.0.1', '::1', ...names])].map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    const csr = join(work, 'server.csr');
    const cn = names.find((n) => !isIP(n)) ?? 'localhost';
    openssl(['req', '-new', '-key', keyPath, '-out', csr, '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`]);
    const certPath = join(dir, 'server.crt');
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.certPath,
      '-CAkey',
      ca.keyPath,
      '-set_serial',
      `0x${createHash('sha256').update(keyPem).digest('hex').slice(0, 30)}`,
      '-days',
      '825',
      '-copy_extensions',
      'copyall',
      '-out',
      certPath,
    ]);
    const caCertPem = readFileSync(ca.certPath, 'utf8');
    return { caCertPem, caFingerprint: fingerprintOf(caCertPem), certPem: readFileSync(certPath, 'utf8'), keyPem };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
