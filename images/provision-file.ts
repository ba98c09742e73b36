// weft-provision.json: what a technician drops on the boot partition. Checked here before it is
// written into an image, so a typo is caught at the desk, not at the store.
import { ImageError } from './errors.ts';

export interface ProvisionFile {
  hubUrl: string;
  /** sha256 of the hub CA certificate (DER), hex, colons allowed. */
  caFingerprint: string;
  token?: string;
  siteName: string;
  network?: { address?: string; gateway?: string; dns?: string[] };
}

function bad(path: string, msg: string, hint: string): never {
  throw new ImageError('IMAGE_BAD_PROVISION', `weft-provision.json ${path}: ${msg}`, hint);
}

export function parseProvisionFile(text: string): ProvisionFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    bad('', `not JSON (${(e as Error).message})`, 'produce it with `weft site token <site> --provision-file weft-provision.json`');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('', 'must be a JSON object', 'see docs/technician.md');
  const o = v as Record<string, unknown>;
  if (typeof o.hubUrl !== 'string' || !/^https:\/\/[^/\s]+/.test(o.hubUrl)) bad('hubUrl', 'must be an https:// URL', 'e.g. "https://hub.example.com:8443"');
  if (typeof o.caFingerprint !== 'string' || !/^[0-9a-f]{64}$/i.test(o.caFingerprint.replace(/:/g, ''))) {
    bad('caFingerprint', 'must be the 64 hex digits of the hub CA sha256 fingerprint', 'copy it from `weft site token --provision-file`');
  }
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token.length < 16)) bad('token', 'must be the enrollment token string', 'ask ops for a new token');
  if (typeof o.siteName !== 'string' || !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(o.siteName)) {
    bad('siteName', 'must be a site name of lowercase letters, digits and dashes', 'e.g. "store-042"');
  }
  if (o.network !== undefined && (typeof o.network !== 'object' || o.network === null)) bad('network', 'must be an object', 'omit it for DHCP');
  return o as unknown as ProvisionFile;
}
