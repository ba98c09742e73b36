// Downloads an artifact into `<dest>.part`, resuming with an HTTP Range request after a broken link or
// a power cut, hashing as it goes (the bytes already on disk are hashed first), and renames it to
// `dest` only when size and sha256 match the verified manifest. Nothing is written before the caller
// verified the manifest; a mismatch leaves nothing runnable behind.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { checkArtifact, type ReleaseManifest } from '../../protocol/index.ts';
import { AgentError } from '../errors.ts';

export interface DownloadOptions {
  url: string;
  dest: string;
  manifest: ReleaseManifest;
  /** Extra TLS options for https (the hub's CA). */
  ca?: string | Buffer;
  /** Called with bytes on disk as they grow. */
  progress?: (bytes: number) => void;
}

export interface Downloaded {
  path: string;
  /** Bytes fetched by this call (less than the size when it resumed). */
  fetched: number;
  resumedAt: number;
}

function request(url: string, from: number, ca: DownloadOptions['ca']): Promise<IncomingMessage> {
  const headers = from > 0 ? { range: `bytes=${from}-` } : {};
  return new Promise((resolve, reject) => {
    const req = url.startsWith('https:') ? httpsGet(url, { headers, ca }, resolve) : httpGet(url, { headers }, resolve);
    req.on('error', reject);
  });
}

async function hashPart(path: string, h: ReturnType<typeof createHash>): Promise<number> {
  if (!existsSync(path)) return 0;
  let n = 0;
  for await (const c of createReadStream(path)) {
    h.update(c as Buffer);
    n += (c as Buffer).length;
  }
  return n;
}

export async function download(o: DownloadOptions): Promise<Downloaded> {
  const part = `${o.dest}.part`;
  const h = createHash('sha256');
  let have = await hashPart(part, h);
  if (have > o.manifest.size) {
    rmSync(part, { force: true });
    return download(o);
  }
  const resumedAt = have;
  let fetched = 0;
  if (have < o.manifest.size) {
    const res = await request(o.url, have, o.ca).catch((e: unknown) => {
      throw new AgentError('UPDATE_DOWNLOAD_FAILED', `GET ${o.url}: ${(e as Error).message}`, 'the update resumes at the next order or start', e);
    });
    if (have > 0 && res.statusCode === 200) {
      // The server ignored the range: start over rather than append a second copy.
      res.resume();
      rmSync(part, { force: true });
      return download(o);
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      res.resume();
      throw new AgentError('UPDATE_DOWNLOAD_FAILED', `GET ${o.url}: HTTP ${res.statusCode}`, 'check the release is uploaded to the hub');
    }
    const out = createWriteStream(part, { flags: 'a', mode: 0o600 });
    try {
      for await (const c of res) {
        const b = c as Buffer;
        if (have + b.length > o.manifest.size)
          throw new AgentError('UPDATE_DOWNLOAD_FAILED', `${o.url} sends more than the manifest's ${o.manifest.size} bytes`);
        h.update(b);
        have += b.length;
        fetched += b.length;
        if (!out.write(b)) await new Promise<void>((r) => out.once('drain', () => r()));
        o.progress?.(have);
      }
    } catch (e) {
      if (e instanceof AgentError) throw e;
      throw new AgentError(
        'UPDATE_DOWNLOAD_FAILED',
        `GET ${o.url} broke after ${have} bytes: ${(e as Error).message}`,
        'the next attempt resumes where this one stopped',
        e,
      );
    } finally {
      await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
    }
  }
  const got = { sha256: h.digest('hex'), size: have };
  if (got.size < o.manifest.size)
    throw new AgentError('UPDATE_DOWNLOAD_FAILED', `${o.url} ended after ${got.size} of ${o.manifest.size} bytes`, 'the next attempt resumes');
  try {
    checkArtifact(o.manifest, got);
  } catch (e) {
    rmSync(part, { force: true });
    throw e;
  }
  renameSync(part, o.dest);
  return { path: o.dest, fetched, resumedAt };
}
