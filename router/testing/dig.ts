// Runs the real `dig` (bind9-dnsutils) and parses its output: the router's tests query the running
// server the way an operator would.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DigRecord {
  name: string;
  ttl: number;
  type: string;
  data: string;
}

export interface DigResult {
  status: string;
  flags: Set<string>;
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  /** The CLIENT-SUBNET line of the reply's OPT pseudosection, e.g. `10.1.2.0/24/16`. */
  clientSubnet: string | null;
  ednsUdp: number | null;
  /** dig saw TC=1 over UDP and retried over TCP. */
  retriedTcp: boolean;
  raw: string;
}

function section(out: string, title: string): DigRecord[] {
  const m = out.match(new RegExp(`;; ${title} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`));
  if (!m) return [];
  return m[1]
    .split('\n')
    .filter((l) => l && !l.startsWith(';'))
    .map((l) => {
      const [name, ttl, , type, ...data] = l.split(/\s+/);
      return { name, ttl: Number(ttl), type, data: data.join(' ') };
    });
}

export function parseDig(raw: string): DigResult {
  const status = raw.match(/status: (\w+)/)?.[1] ?? 'NONE';
  const flags = new Set((raw.match(/;; flags: ([^;]*);/)?.[1] ?? '').trim().split(/\s+/).filter(Boolean));
  return {
    status,
    flags,
    answer: section(raw, 'ANSWER'),
    authority: section(raw, 'AUTHORITY'),
    additional: section(raw, 'ADDITIONAL'),
    clientSubnet: raw.match(/; CLIENT-SUBNET: (\S+)/)?.[1] ?? null,
    ednsUdp: Number(raw.match(/; EDNS: version: \d+, flags:[^;]*; udp: (\d+)/)?.[1] ?? NaN) || null,
    retriedTcp: raw.includes('Truncated, retrying in TCP mode'),
    raw,
  };
}

/** `dig @host -p port <args>` with one try and a short timeout, so a broken server fails fast. */
export async function dig(host: string, port: number, ...args: string[]): Promise<DigResult> {
  const { stdout } = await run('dig', [`@${host}`, '-p', String(port), '+norec', '+time=2', '+tries=1', ...args], { timeout: 10_000 });
  return parseDig(stdout);
}

/** Whether `dig` is installed; when not, says why `what` is skipped (a capability truly absent). */
export function hasDig(what: string): boolean {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn(`dig (bind9-dnsutils) is not installed: skipping ${what}; run npm run setup`);
    return false;
  }
}
