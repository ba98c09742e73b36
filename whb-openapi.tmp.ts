import { startTestHub } from './hub/testing/hub-fixture.ts';
const t = await startTestHub();
const r = await t.api('GET', '/docs/json');
for (const [path, ops] of Object.entries(r.body.paths as Record<string, Record<string, any>>)) {
  for (const [m, op] of Object.entries(ops)) {
    const codes = Object.keys(op.responses ?? {});
    const hasSchema = codes.some((c) => op.responses[c].content);
    console.log(m.padEnd(6), path.padEnd(40), codes.join(','), hasSchema ? '' : 'NO-RESPONSE-SCHEMA', ['post','put','patch'].includes(m) && !op.requestBody ? 'NO-BODY' : '', op.parameters ? 'params' : '');
  }
}
await t.close();
