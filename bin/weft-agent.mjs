#!/usr/bin/env node
// The agent CLI from a checkout; `npm run build:agent` makes the single binary from the same entry.
import { register } from 'tsx/esm/api';

register();
await import('../edge-agent/cli/main.ts');
