/**
 * Checks that a deployed Veil site serves exactly a local build of the source you reviewed:
 *
 *   git checkout <reviewed commit> && npm ci
 *   npx tsx scripts/verify-deployment.ts https://veil.example.org/           # builds to a temp dir
 *   npx tsx scripts/verify-deployment.ts https://veil.example.org/ --dist dist   # an existing build
 *
 * Prints the build hash (the one the app shows in its footer), each file's result and whether
 * the Content-Security-Policy header is the one computed from the site's config.json. Exits 0
 * when every file is the same, 1 when any differs or is missing, 2 on a usage error.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { verifyDeployment } from './build/verify';

async function main(argv: string[]): Promise<number> {
  const [site, flag, dist] = argv;
  if (!site || (flag !== undefined && (flag !== '--dist' || !dist))) {
    console.error('usage: verify-deployment <site URL> [--dist <local build dir>]');
    return 2;
  }
  let dir = dist;
  let temporary: string | undefined;
  if (!dir) {
    temporary = await mkdtemp(join(tmpdir(), 'veil-verify-'));
    dir = join(temporary, 'dist');
    console.log(`building the local source into ${dir} ...`);
    await promisify(execFile)(process.execPath, [
      'node_modules/vite/bin/vite.js',
      'build',
      '--outDir',
      dir,
      '--emptyOutDir',
      '--logLevel',
      'error',
    ]);
  }
  try {
    const report = await verifyDeployment(site, dir);
    console.log(`local build hash:    ${report.buildHash}`);
    console.log(`deployed build hash: ${report.deployedBuildHash ?? '(none in index.html)'}`);
    for (const file of report.files) console.log(`  ${file.result.padEnd(10)} ${file.path}`);
    console.log(
      report.cspHeader === undefined
        ? 'CSP header: none (only the <meta> fallback applies)'
        : `CSP header: ${report.cspMatchesConfig ? 'matches' : 'does NOT match'} the site's config.json`,
    );
    console.log(
      report.ok ? 'the deployment serves this build' : 'the deployment differs from this build',
    );
    return report.ok ? 0 : 1;
  } finally {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  }
}

process.exitCode = await main(process.argv.slice(2));
