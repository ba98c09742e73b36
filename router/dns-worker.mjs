// Entry of the DNS worker thread. The hub runs from TypeScript sources, and a worker does not inherit
// the loader its parent registered: register it here, then start the worker proper.
import { register } from 'tsx/esm/api';

register();
await import('./dns-worker.ts');
