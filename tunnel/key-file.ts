// The device's WireGuard private key on disk: generated on the device, written 0600 atomically
// (temp file, fsync, rename) so a power cut leaves either the old key or the new one.
import { errorMessage } from '../base/index.ts';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { TunnelError } from './errors.ts';
import { WgPrivateKey } from './keys.ts';

export function writePrivateKey(path: string, key: WgPrivateKey): void {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${key.revealBase64()}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file was never created or is already renamed
    }
    throw new TunnelError(
      'TUNNEL_KEY_FILE',
      `cannot write private key file ${path}: ${errorMessage(err)}`,
      'check that the directory exists and is writable by this user',
      { file: path },
    );
  }
}

/** Reads a key file; refuses one that group or others can read, like ssh does. */
export function readPrivateKey(path: string): WgPrivateKey {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode & 0o777;
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new TunnelError('TUNNEL_KEY_FILE', `cannot read private key file ${path}: ${errorMessage(err)}`, undefined, { file: path });
  }
  if (mode & 0o077) {
    throw new TunnelError('TUNNEL_KEY_FILE', `private key file ${path} is readable by others (mode ${mode.toString(8)})`, `chmod 600 ${path}`, { file: path });
  }
  try {
    return WgPrivateKey.fromBase64(text);
  } catch {
    throw new TunnelError(
      'TUNNEL_KEY_FILE',
      `private key file ${path} does not hold a WireGuard key`,
      'delete it to generate a new key (the hub must then learn the new public key)',
      { file: path },
    );
  }
}

/** The key at `path`, generating and storing one on first use. */
export function loadOrCreatePrivateKey(path: string): WgPrivateKey {
  try {
    statSync(path);
  } catch {
    const key = WgPrivateKey.generate();
    writePrivateKey(path, key);
    return key;
  }
  return readPrivateKey(path);
}
