// The store contract (testing/contract.ts) over PostgreSQL: a throwaway cluster of this test's own
// (initdb/pg_ctl as the postgres user, so root: the kernel project), one fresh database per case.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openPgStore } from './postgres/pg-store.ts';
import { CONTRACT } from './testing/contract.ts';
import { startPostgres, type TestPostgres } from './testing/postgres.ts';

let pgc: TestPostgres;
beforeAll(async () => {
  pgc = await startPostgres();
});
afterAll(() => pgc?.remove());
let n = 0;

describe('hub store contract: postgres', () => {
  it.each(CONTRACT)('%s', async (_name, run) => {
    const store = await openPgStore(await pgc.createDatabase(`contract_${n++}`));
    try {
      await run(store);
    } finally {
      await store.close();
    }
  });
});
