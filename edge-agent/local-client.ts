// The CLI's side of the local status API: finds the running agent's port and reads from it.
import { get } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfig } from './config.ts';

/** The port the running agent wrote at start, else the configured one. */
export function agentPort(cfg: AgentConfig): number {
  try {
    const p = Number(readFileSync(join(cfg.dataDir, 'status-port'), 'utf8').trim());
    if (Number.isInteger(p) && p > 0) return p;
  } catch {
    // Not written (agent never started here, or read-only data dir).
  }
  return cfg.statusPort;
}

export function getJson<T>(cfg: AgentConfig, path: string, timeoutMs = 2000): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = get({ host: cfg.statusHost, port: agentPort(cfg), path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Streams ndjson lines from the agent until it ends or the signal aborts. */
export function streamLines(cfg: AgentConfig, path: string, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = get({ host: cfg.statusHost, port: agentPort(cfg), path, signal }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`agent answered HTTP ${res.statusCode}`));
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line) onLine(line);
        }
      });
      res.on('end', () => resolve());
      res.on('close', () => resolve());
    });
    req.on('error', (e) => (signal?.aborted ? resolve() : reject(e)));
  });
}
