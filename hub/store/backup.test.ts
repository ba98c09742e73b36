// Backing up the embedded store while the hub runs (docs/ops.md): sqlite3's online .backup of hub.db
// gives a consistent copy; a hub started on it has everything written before the backup.
import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestHub } from '../testing/hub-fixture.ts';

const hasSqlite3 = (() => {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasSqlite3) console.warn('hub/store/backup.test.ts skipped: the sqlite3 CLI is not installed (npm run setup installs it)');

const site = (name: string) => ({ name, labels: { region: 'eu' }, lat: 1, lon: 2, clientCidrs: [], capacity: 1, services: [] });

describe.skipIf(!hasSqlite3)('backing up the embedded store', () => {
  it('sqlite3 .backup of a running hub restores everything written before it', { timeout: 60_000 }, async () => {
    const t = await startTestHub();
    try {
      expect((await t.api('POST', '/v1/sites', site('store-1'))).status).toBe(201);
      const v = await t.api('POST', '/v1/policies', {
        files: [
          { name: 'p.yaml', content: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: shop}\nspec: {podSelector: {}}\n' },
        ],
        message: 'v1',
      });
      expect(v.status).toBe(201);
      const backup = join(t.dir, 'backup.db');
      execFileSync('sqlite3', [join(t.dir, 'hub.db'), `.backup '${backup}'`]);
      // Written after the backup: not in it.
      expect((await t.api('POST', '/v1/sites', site('store-2'))).status).toBe(201);
      await t.stop();
      // Restore: the backup replaces the database (and its WAL) while the hub is stopped.
      for (const f of ['hub.db', 'hub.db-wal', 'hub.db-shm']) rmSync(join(t.dir, f), { force: true });
      copyFileSync(backup, join(t.dir, 'hub.db'));
      await t.restart();
      expect((await t.api('GET', '/v1/sites')).body.map((s: { name: string }) => s.name)).toEqual(['store-1']);
      expect((await t.api('GET', `/v1/policies/${v.body.version}`)).body).toMatchObject({ message: 'v1' });
    } finally {
      await t.close();
    }
  });
});
