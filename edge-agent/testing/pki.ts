// Test PKI made with the openssl CLI: a CA and a server certificate for 127.0.0.1/localhost, standing in
// for the hub's CA in enrollment tests.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprintOf } from '../pinned-https.ts';

export interface TestPki {
  caPem: string;
  caFingerprint: string;
  certPem: string;
  keyPem: string;
  /** Server chain as the hub presents it: leaf then CA. */
  chainPem: string;
}

const ossl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

export function makePki(dir: string, opts: { name?: string; days?: number } = {}): TestPki {
  const name = opts.name ?? 'ca';
  ossl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '30',
      '-subj',
      `/CN=weft test ${name}`,
    ],
    dir,
  );
  ossl(
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}-srv.key`, '-out', `${name}-srv.csr`, '-subj', '/CN=hub.test'],
    dir,
  );
  writeFileSync(join(dir, `${name}-ext.cnf`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  ossl(
    [
      'x509',
      '-req',
      '-in',
      `${name}-srv.csr`,
      '-CA',
      `${name}.pem`,
      '-CAkey',
      `${name}.key`,
      '-CAcreateserial',
      '-out',
      `${name}-srv.pem`,
      '-days',
      String(opts.days ?? 30),
      '-extfile',
      `${name}-ext.cnf`,
    ],
    dir,
  );
  const caPem = readFileSync(join(dir, `${name}.pem`), 'utf8');
  const certPem = readFileSync(join(dir, `${name}-srv.pem`), 'utf8');
  const der = Buffer.from(caPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return { caPem, caFingerprint: fingerprintOf(der), certPem, keyPem: readFileSync(join(dir, `${name}-srv.key`), 'utf8'), chainPem: certPem + caPem };
}
