// Child process for crash.test.ts: writes as the agent does and prints each step only after it committed,
// so the parent can kill -9 it at any moment and check that everything printed survived.
import { openStore } from '../index.ts';

const store = openStore(process.argv[2]);
for (let gen = 1; ; gen++) {
  const b = store.bundles.recordReceived(Buffer.from(`bundle-${gen}`), gen);
  store.bundles.setLastKnownGood(b.id);
  process.stdout.write(`lkg ${gen}\n`);
  const { seq } = store.outbox.append('weft/v1/site/s/ack', `applied ${gen}`, 'high');
  process.stdout.write(`seq ${seq}\n`);
  store.bundles.markApplied(b.id);
  process.stdout.write(`applied ${gen}\n`);
}
