#!/usr/bin/env node
// The standalone end-user router (DNS and HTTP /go) from a checkout: see docs/router.md.
import { register } from 'tsx/esm/api';

register();
const { runRouterProcess } = await import('../router/main.ts');
runRouterProcess(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`weft-router: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
