// A plain Mosquitto (MQTT 5) on a free loopback port, for the link's MQTT 5 tests. The hub's supervised
// Mosquitto (ACLs, password files) is the hub's to test; agent tests cannot import hub/.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../base/index.ts';

export const mosquittoMissing = spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error ? 'mosquitto is not installed (npm run setup installs it)' : null;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const accepts = (port: number) =>
  new Promise<boolean>((r) => {
    const c = createConnection({ host: '127.0.0.1', port }, () => {
      c.destroy();
      r(true);
    });
    c.once('error', () => r(false));
  });

export async function startMosquitto(): Promise<{ url: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-wag-mosq-'));
  const port = await freePort();
  writeFileSync(join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const proc = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  let up = false;
  for (let i = 0; i < 500 && !up && proc.exitCode === null; i++) {
    up = await accepts(port);
    if (!up) await new Promise((r) => setTimeout(r, 20));
  }
  if (!up) {
    proc.kill();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mosquitto did not listen on ${port}`);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async close() {
      proc.kill('SIGTERM');
      await waitFor(() => proc.exitCode !== null || proc.signalCode !== null, { timeoutMs: 10_000, what: 'mosquitto exit' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
