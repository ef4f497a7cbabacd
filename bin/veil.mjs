#!/usr/bin/env node
// The `veil` command line: runs src/cli/main.ts on the same core as the app, through tsx.
import { register } from 'tsx/esm/api';

// The AWS SDK prints an 8-line notice on Node versions it will stop supporting; a command line
// that promises one line on failure keeps it quiet (the SDK reads this when a client is made).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../src/cli/main.ts');
