// Serves the dashboard's static files (built by hub/ui/build.ts into build/ui/) at /ui/ on every hub
// listener, same origin as the API, with a strict Content-Security-Policy: scripts, styles and data
// only from this origin, no inline script or style, no framing. The files hold no secrets, so they are
// public; everything they show comes from the token-guarded API.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const UI_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'ui');

export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  svg: 'image/svg+xml',
  map: 'application/json',
};

/** The headers every dashboard response carries. */
export const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
} as const;

export function uiRoutes(app: FastifyInstance, dir = UI_DIR): void {
  const route = { config: { role: 'public' as const }, schema: { hide: true } };
  app.get('/ui', route, async (_req, reply) => reply.redirect('/ui/', 302));
  const serve = async (file: string, reply: FastifyReply) => {
    const ext = /^[a-z0-9][a-z0-9.-]*\.([a-z]+)$/.exec(file)?.[1];
    reply.headers(SECURITY_HEADERS);
    const type = ext ? TYPES[ext] : undefined;
    if (!type) return reply.status(404).type('text/plain').send('not found');
    let body: Buffer;
    try {
      body = await readFile(join(dir, file));
    } catch {
      if (file !== 'index.html') return reply.status(404).type('text/plain').send('not found');
      return reply.status(503).type('text/plain').send('the dashboard is not built: run `npm run setup` (hub/ui/build.ts)');
    }
    // index.html names the bundle by content hash, so everything but the page itself is cached for long.
    reply.header('cache-control', file === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable');
    return reply.type(type).send(body);
  };
  app.get('/ui/', route, async (_req, reply) => serve('index.html', reply));
  app.get<{ Params: { file: string } }>('/ui/:file', route, async (req, reply) => serve(req.params.file, reply));
}
