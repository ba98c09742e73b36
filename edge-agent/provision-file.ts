// weft-provision.json: what a technician drops on the appliance (written by `weft site token
// --provision-file`). Read with errors that name the file and field; the token is removed from it,
// atomically, once the hub accepted the enrollment.
import { errorCode, errorMessage } from '../base/index.ts';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { AgentError } from './errors.ts';
import { normalizeFingerprint } from './pinned-https.ts';

export interface StaticNetwork {
  interface?: string;
  address?: string;
  gateway?: string;
  dns?: string[];
}

export interface ProvisionFile {
  hubUrl: string;
  /** sha256 of the hub CA certificate (DER), hex. */
  caFingerprint: string;
  /** Absent once used. */
  token?: string;
  siteName: string;
  /** The token is a node token (weft site token --nodes N): this device enrolls as a node of the site, named by its k3s node name. */
  node?: boolean;
  network?: StaticNetwork;
}

const HINT = 'get a fresh file from central ops: weft site token --provision-file';

export function readProvisionFile(path: string): ProvisionFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AgentError(
      'PROVISION_NOT_FOUND',
      `${path}: cannot read the provisioning file (${errorCode(e) ?? errorMessage(e)})`,
      'place weft-provision.json on the boot partition or pass --file',
    );
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new AgentError('PROVISION_BAD_JSON', `${path}: not valid JSON (${errorMessage(e)})`, HINT);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AgentError('PROVISION_BAD_FIELD', `${path}: must be a JSON object`, HINT);
  const o = v as Record<string, unknown>;
  const need = (k: string, ok: (x: unknown) => boolean, what: string) => {
    if (!ok(o[k])) throw new AgentError('PROVISION_BAD_FIELD', `${path}: ${k} ${o[k] === undefined ? 'is missing' : `must be ${what}`}`, HINT);
  };
  const isStr = (x: unknown) => typeof x === 'string' && x.length > 0;
  need('hubUrl', (x) => isStr(x) && /^https:\/\//.test(x as string), 'an https:// URL');
  need('caFingerprint', (x) => isStr(x) && /^[0-9a-f]{64}$/.test(normalizeFingerprint(x as string)), 'the 64 hex digits of a sha256 fingerprint');
  need('siteName', isStr, 'a non-empty string');
  if (o.token !== undefined) need('token', isStr, 'a non-empty string');
  if (o.node !== undefined) need('node', (x) => typeof x === 'boolean', 'true or false');
  if (o.network !== undefined) need('network', (x) => typeof x === 'object' && x !== null && !Array.isArray(x), 'an object');
  return {
    hubUrl: o.hubUrl as string,
    caFingerprint: normalizeFingerprint(o.caFingerprint as string),
    token: o.token as string | undefined,
    siteName: o.siteName as string,
    ...(o.node === true ? { node: true } : {}),
    network: o.network as StaticNetwork | undefined,
  };
}

/**
 * Rewrites the file without its token: temp file in the same directory, fsync, rename over, fsync
 * the directory. A power cut leaves either the old file (token still usable) or the new one.
 */
export function removeToken(path: string): void {
  const v = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  if (!('token' in v)) return;
  delete v.token;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const mode = statSync(path).mode & 0o777;
  writeFileSync(tmp, JSON.stringify(v, null, 2) + '\n', { mode });
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // Some filesystems (vfat boot partitions) cannot fsync a directory; the rename is done.
  }
}
