// What an unauthenticated client may cost the API. The public routes (enrollment, the CA, end users'
// /go redirects) are reachable by anyone: each gets a small body limit (a 3 MB nested JSON body to
// /v1/enroll used to block the event loop for a second while it was parsed) and a token bucket per
// client address, checked before the body is read. Authenticated routes keep the hub-wide limit.
import type { FastifyInstance } from 'fastify';
import { isPublicRoute } from './auth.ts';
import { HubError } from '../errors.ts';

export interface PublicLimits {
  /** Largest body a public route accepts (an enrollment request is under 2 KiB). */
  bodyLimitBytes: number;
  /** Requests per second per client address to public routes, and the burst allowed above it. */
  perSecond: number;
  burst: number;
  /** Addresses not rate limited: local tools and the benchmarks enroll from loopback. */
  exempt: string[];
}

export const PUBLIC_LIMITS: PublicLimits = { bodyLimitBytes: 16 * 1024, perSecond: 20, burst: 100, exempt: ['127.0.0.1', '::1', '::ffff:127.0.0.1'] };

/** Bounds the bucket table: spoofing is not possible over TCP, but many real addresses are. */
const MAX_CLIENTS = 100_000;

/** Token buckets per key. Pure: the clock is an argument. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes one token for `key`; false when it has none left. */
  take(key: string, now: number): boolean {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= MAX_CLIENTS) this.buckets.clear();
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/** Registers the body limit and the rate limit on every public route; call before adding routes. */
export function registerPublicLimits(app: FastifyInstance, limits: PublicLimits, now: () => number = Date.now): void {
  app.addHook('onRoute', (route) => {
    if (route.bodyLimit === undefined && isPublicRoute(route.url, route.config)) route.bodyLimit = limits.bodyLimitBytes;
  });
  const buckets = new TokenBuckets(limits.perSecond, limits.burst);
  const exempt = new Set(limits.exempt);
  app.addHook('onRequest', async (req, reply) => {
    if (!isPublicRoute(req.routeOptions.url, req.routeOptions.config) || exempt.has(req.ip)) return;
    if (!buckets.take(req.ip, now())) {
      reply.header('retry-after', String(Math.ceil(1 / limits.perSecond)));
      throw new HubError('RATE_LIMITED', `too many requests from ${req.ip}: at most ${limits.perSecond}/s to public routes`);
    }
  });
}
