// Backing up the PostgreSQL store (docs/ops.md): pg_dump -Fc of the database the hubs share, restored
// with pg_restore into an empty database; a hub started on it has everything written before the dump.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub } from '../testing/hub-fixture.ts';
import { postgresBin, startPostgres, type TestPostgres } from './testing/postgres.ts';

let pgc: TestPostgres;
beforeAll(async () => {
  pgc = await startPostgres();
});
afterAll(() => pgc?.remove());

const site = (name: string) => ({ name, labels: { region: 'eu' }, lat: 1, lon: 2, clientCidrs: [], capacity: 1, services: [] });

describe('backing up the PostgreSQL store', () => {
  it('pg_dump while hubs run, pg_restore into a new database: a hub on it has every site and policy written before the dump', {
    timeout: 120_000,
  }, async () => {
    const bin = postgresBin()!;
    const url = await pgc.createDatabase('hub');
    const t = await startTestHub((c) => {
      c.store = url;
    });
    try {
      expect((await t.api('POST', '/v1/sites', site('store-1'))).status).toBe(201);
      const v = await t.api('POST', '/v1/policies', {
        files: [
          { name: 'p.yaml', content: 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: shop}\nspec: {podSelector: {}}\n' },
        ],
        message: 'v1',
      });
      expect(v.status).toBe(201);
      const dump = join(t.dir, 'weft.dump');
      execFileSync(join(bin, 'pg_dump'), ['-Fc', '-f', dump, url]);
      expect((await t.api('POST', '/v1/sites', site('store-2'))).status).toBe(201);
      await t.stop();
      const restored = await pgc.createDatabase('restored');
      execFileSync(join(bin, 'pg_restore'), ['--no-owner', '-d', restored, dump]);
      await t.restart((c) => {
        c.store = restored;
      });
      expect((await t.api('GET', '/v1/sites')).body.map((s: { name: string }) => s.name)).toEqual(['store-1']);
      expect((await t.api('GET', `/v1/policies/${v.body.version}`)).body).toMatchObject({ message: 'v1' });
    } finally {
      await t.close();
    }
  });
});
