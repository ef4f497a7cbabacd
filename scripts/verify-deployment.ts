/**
 * Checks that a deployed Veil site serves exactly a local build of the source you reviewed, with
 * the config.json and Content-Security-Policy header you expect ([Note: what verify-deployment
 * proves] in scripts/build/verify.ts):
 *
 *   git checkout <reviewed commit> && npm ci
 *   npx tsx scripts/verify-deployment.ts https://veil.example.org/ --config expected.json
 *   npx tsx scripts/verify-deployment.ts https://veil.example.org/ --dist dist --config expected.json
 *   ... --allow-meta-only     a host that cannot send the CSP header (the <meta> policy only)
 *
 * Without --dist it builds the source into a temporary folder first. Prints the build hash (the
 * one the app shows in its footer, which alone proves nothing), each file's result, the deployed
 * config.json with its SHA-256, and the CSP verdict. Exits 0 when everything matches, 1 when
 * anything differs or is missing, 2 on a usage error.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { verifyDeployment, type VerifyReport } from './build/verify';

const USAGE =
  'usage: verify-deployment <site URL> [--dist <local build dir>] [--config <expected config.json>] [--allow-meta-only]';

function print(report: VerifyReport, expectedPath: string | undefined): void {
  console.log(`local build hash:    ${report.buildHash}`);
  console.log(`deployed build hash: ${report.deployedBuildHash ?? '(none in index.html)'}`);
  for (const file of report.files) console.log(`  ${file.result.padEnd(10)} ${file.path}`);
  console.log('');
  if (report.deployedConfig === undefined) {
    console.log(`config.json: could not be fetched (${report.configProblem ?? 'unknown'})`);
  } else {
    console.log(`deployed config.json (SHA-256 ${report.deployedConfigSha256 ?? ''}):`);
    console.log(report.deployedConfig.trimEnd());
    if (report.configProblem) console.log(`config.json is NOT usable: ${report.configProblem}`);
  }
  if (report.configMatchesExpected === undefined) {
    console.log(
      'config.json: no --config given; read it above: it decides where the app sends credentials and wrapped keys',
    );
  } else {
    console.log(
      `config.json: ${report.configMatchesExpected ? 'matches' : 'does NOT match'} ${expectedPath ?? 'the expected config'}`,
    );
  }
  console.log('');
  if (report.cspHeader === undefined) console.log('CSP header: none');
  else {
    console.log(
      `CSP header: ${report.cspMatches ? 'matches' : 'does NOT match'} the policy computed from the ${report.cspBasis}`,
    );
    if (!report.cspMatches) console.log(`  served:   ${report.cspHeader}`);
  }
  if (!report.cspMatches) {
    console.log(`  expected: ${report.cspExpected ?? '(no usable config to compute it from)'}`);
  }
  console.log('');
  if (report.cacheProblems.length === 0) {
    console.log('caching: the entry files and the service worker are revalidated on each load');
  } else {
    console.log(
      'caching: served cacheable, so a new release would not reach users (serve them no-cache):',
    );
    for (const problem of report.cacheProblems) console.log(`  ${problem}`);
  }
  const withConfig = report.configMatchesExpected === true ? ' with the expected config.json' : '';
  console.log(
    report.ok
      ? `the deployment serves this build${withConfig}`
      : 'the deployment does NOT check out: see the results above',
  );
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dist: { type: 'string' },
        config: { type: 'string' },
        'allow-meta-only': { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    return 2;
  }
  const [site, ...extra] = parsed.positionals;
  if (!site || extra.length > 0) {
    console.error(USAGE);
    return 2;
  }
  let expectedConfig: unknown;
  const expectedPath = parsed.values.config;
  if (expectedPath !== undefined) {
    try {
      expectedConfig = JSON.parse(await readFile(expectedPath, 'utf8'));
    } catch (error) {
      console.error(`cannot read ${expectedPath}: ${error instanceof Error ? error.message : ''}`);
      return 2;
    }
  }
  let dir = parsed.values.dist;
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
    const report = await verifyDeployment(site, dir, fetch, {
      expectedConfig,
      allowMetaOnly: parsed.values['allow-meta-only'],
    });
    print(report, expectedPath);
    if (parsed.values['allow-meta-only'] && !report.cspMatches) {
      console.log(
        'accepted without a matching CSP header (--allow-meta-only): frame-ancestors and the policy for workers are not enforced',
      );
    }
    return report.ok ? 0 : 1;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  } finally {
    if (temporary) await rm(temporary, { recursive: true, force: true });
  }
}

process.exitCode = await main(process.argv.slice(2));
