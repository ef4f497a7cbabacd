#!/usr/bin/env node
// The `veil` command line: src/cli/main.ts on the same core as the app.
//
// [Note: bundled CLI] Compiling the TypeScript through tsx costs about 1.5 s of CPU on every run,
// which dominates short commands and a `veil cp` measured against `aws s3 cp`. `npm run
// build:cli` bundles the CLI ahead (esbuild, packages left external) into .veil/cli/veil.mjs;
// this entry runs that bundle only when it is newer than every source file it is built from, and
// otherwise compiles the sources through tsx as before, so an edited source is never run stale.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The AWS SDK prints an 8-line notice on Node versions it will stop supporting; a command line
// that promises one line on failure keeps it quiet (the SDK reads this when a client is made).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}.veil/cli/veil.mjs`;

/** The newest modification time of the files under `folder`, in milliseconds. */
function newestUnder(folder) {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = `${folder}/${entry.name}`;
    const time = entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs;
    if (time > newest) newest = time;
  }
  return newest;
}

function bundleIsCurrent() {
  try {
    const built = statSync(bundle).mtimeMs;
    const sources = Math.max(newestUnder(`${root}src`), statSync(`${root}package.json`).mtimeMs);
    return built > sources;
  } catch {
    return false;
  }
}

async function commandLine() {
  if (process.env.VEIL_CLI_FROM_SOURCE !== '1' && bundleIsCurrent()) {
    return import(pathToFileURL(bundle).href);
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import('../src/cli/main.ts');
}

await (await commandLine()).runProgram();
