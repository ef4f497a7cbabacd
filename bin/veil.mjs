#!/usr/bin/env node
// The `veil` command line: runs src/cli/main.ts on the same core as the app, through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
