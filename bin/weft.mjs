#!/usr/bin/env node
// The ops CLI from a checkout (the hub runs from source; the agent ships as a single binary).
import { register } from 'tsx/esm/api';

register();
await import('../hub/cli/main.ts');
