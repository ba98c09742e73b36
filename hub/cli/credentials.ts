// `weft login` state: hub URL, API token and the pinned hub CA, in ~/.config/weft/credentials (0600).
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Credentials {
  hub: string;
  token: string;
  /** PEM of the hub CA, pinned at login by its fingerprint (absent for plain-HTTP loopback hubs). */
  caPem?: string;
}

export function credentialsPath(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'weft', 'credentials');
}

export function saveCredentials(path: string, c: Credentials): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function loadCredentials(path: string): Credentials | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const c = JSON.parse(text) as Partial<Credentials>;
  return typeof c.hub === 'string' && typeof c.token === 'string' ? (c as Credentials) : null;
}
