// The store contract (testing/contract.ts) over the SQLite backend; store-pg.kernel.test.ts runs the
// same table over PostgreSQL.
import { afterAll, describe, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHubStore } from './sqlite-store.ts';
import { CONTRACT } from './testing/contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'weft-hub-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describe('hub store contract: sqlite', () => {
  it.each(CONTRACT)('%s', async (_name, run) => {
    const store = openHubStore(join(dir, `hub-${n++}.db`));
    try {
      await run(store);
    } finally {
      await store.close();
    }
  });
});
