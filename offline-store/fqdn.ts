// Learned FQDN addresses (docs/datapath.md "FQDN egress"): the kernel's pinned map is the truth while
// the node runs; this copy puts it back after a reboot or into the fresh maps of an upgrade that
// changed their layout. Expiries are wall-clock here, as the kernel's monotonic clock restarts at boot.
import type { StoreContext } from './context.ts';
import type { FqdnStore, LearnedAddress } from './types.ts';

export function fqdnStore(ctx: StoreContext): FqdnStore {
  return {
    replaceAll(entries) {
      ctx.write('fqdn.replaceAll', () => {
        ctx.db.prepare('DELETE FROM fqdn_learned').run();
        const put = ctx.db.prepare('INSERT OR REPLACE INTO fqdn_learned (addr, pattern, expires_at) VALUES (?, ?, ?)');
        for (const e of entries) put.run(e.addr, e.pattern, Math.round(e.expiresAt));
      });
    },
    unexpired(now = ctx.clock()) {
      return ctx.read(
        'fqdn.unexpired',
        () =>
          ctx.db
            .prepare('SELECT addr, pattern, expires_at AS expiresAt FROM fqdn_learned WHERE expires_at > ? ORDER BY addr, pattern')
            .all(now) as LearnedAddress[],
      );
    },
    count() {
      return ctx.read('fqdn.count', () => (ctx.db.prepare('SELECT count(*) AS n FROM fqdn_learned').get() as { n: number }).n);
    },
  };
}
