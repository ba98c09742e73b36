// Response rate limiting for UDP, the scheme BIND, Knot and PowerDNS ship as RRL. A UDP source
// address can be forged, so without a limit anyone can aim a stream of our answers at a victim
// (reflection). Answers are counted per client network (/24 for IPv4, /56 for IPv6) and query name
// in a token bucket; past the rate most are dropped and every `slip`-th is sent truncated (TC=1, no
// records), so a real client behind that network retries over TCP, where addresses cannot be forged.
// Pure: the clock comes in as an argument. The table is an LRU, so spoofed sources cannot grow it.
import { CidrTrie } from './cidr-trie.ts';
import { parseCidrBytes, parseIpBytes, SOCKET_ADDRESS } from '../base/index.ts';
import { Lru } from './lru.ts';

export interface RrlConfig {
  /** Answers per second per client network and name; the bucket holds one second's worth. */
  responsesPerSecond: number;
  /** Every slip-th limited answer goes out truncated; 0 drops them all. */
  slip: number;
  /** CIDRs never limited (default loopback: local tools and the hub's own probes). */
  exempt: string[];
}

export type RrlVerdict = 'send' | 'slip' | 'drop';

interface Bucket {
  tokens: number;
  at: number;
  limited: number;
}

const TABLE_ENTRIES = 100_000;
/** Source addresses whose network (or exemption) is remembered; the map is emptied when full. */
const SOURCE_ENTRIES = 10_000;
/** The network key of an exempt source: never limited. */
const EXEMPT = '';

export class ResponseRateLimiter {
  private readonly table = new Lru<string, Bucket>(TABLE_ENTRIES);
  private readonly exempt = new CidrTrie<true>();
  /** Source address text -> its network's key (EXEMPT when exempt): no address parsing per answer. */
  private readonly networks = new Map<string, string>();

  constructor(private readonly cfg: RrlConfig) {
    for (const c of cfg.exempt) {
      const cidr = parseCidrBytes(c, { bare: true, ...SOCKET_ADDRESS });
      if (cidr) this.exempt.insert(cidr, true);
    }
  }

  /** What to do with the answer to `nameKey` for a client at `source`, at time `now` (ms). */
  check(source: string, nameKey: string, now: number): RrlVerdict {
    let net = this.networks.get(source);
    if (net === undefined) {
      net = this.network(source);
      if (this.networks.size >= SOURCE_ENTRIES) this.networks.clear();
      this.networks.set(source, net);
    }
    if (net === EXEMPT) return 'send';
    const key = `${net}|${nameKey}`;
    const rate = this.cfg.responsesPerSecond;
    let b = this.table.get(key);
    if (!b) {
      b = { tokens: rate, at: now, limited: 0 };
      this.table.set(key, b);
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'send';
    }
    b.limited++;
    return this.cfg.slip > 0 && b.limited % this.cfg.slip === 0 ? 'slip' : 'drop';
  }

  /** The key of the client network a source address is counted in (/24, /56), or EXEMPT. */
  private network(source: string): string {
    const ip = parseIpBytes(source, SOCKET_ADDRESS);
    if (!ip || this.exempt.lookup(ip).match) return EXEMPT;
    // Never '' for a real address: 3 or 7 bytes, read as latin1.
    return Buffer.from(ip.family === 4 ? ip.bytes.subarray(0, 3) : ip.bytes.subarray(0, 7)).toString('latin1');
  }
}
