// Opens the store the hub's configuration names: `sqlite:<path>` (embedded, one process) or a
// PostgreSQL URL (hubs past one machine). The PostgreSQL client is loaded only when asked for, so the
// embedded hub does not load it.
import { StoreError } from './errors.ts';
import { openHubStore } from './sqlite-store.ts';
import type { HubStore } from './types.ts';

export async function openStore(spec: string): Promise<HubStore> {
  if (spec.startsWith('sqlite:')) return openHubStore(spec.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { openPgStore } = await import('./postgres/pg-store.ts');
    return openPgStore(spec);
  }
  throw new StoreError(
    'STORE_BAD_URL',
    `store ${spec}: want sqlite:<path> or postgres://...`,
    'pass --store sqlite:/var/lib/weft/hub.db or --store postgres://weft@db/weft',
  );
}
