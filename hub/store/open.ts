// Opens the store the hub's configuration names: `sqlite:<path>` (embedded, one process) or a
// PostgreSQL URL (hubs past one machine).
import { StoreError } from './errors.ts';
import { openHubStore } from './sqlite-store.ts';
import type { HubStore } from './types.ts';

export async function openStore(spec: string): Promise<HubStore> {
  if (spec.startsWith('sqlite:')) return openHubStore(spec.slice('sqlite:'.length));
  throw new StoreError('STORE_BAD_URL', `store ${spec}: want sqlite:<path>`, 'pass --store sqlite:/var/lib/weft/hub.db');
}
