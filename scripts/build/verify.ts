/**
 * Compares a deployed Veil site with a local build of the reviewed source, file by file (see
 * [Note: verifiable build]), and checks what the host adds: its config.json and the
 * Content-Security-Policy header it serves index.html with.
 *
 * [Note: what verify-deployment proves] The build hash in the app's footer is self-declared: a
 * host can serve any bytes with any hash in them. What proves a deployment is this check, run by
 * the team against a build of the reviewed commit: every file byte for byte, and the two things
 * the build cannot pin. config.json decides where the app sends credentials and wrapped keys
 * (a hostile `hsm.proxyUrl` would receive Model B data keys), so it is printed with its SHA-256
 * and compared with the team's expected copy (`--config`); the CSP header must be the policy
 * computed from that expected config (or, without one, from the deployed config), since a policy
 * computed only from the deployed file would bless whatever endpoints it names. A host that can
 * only serve the build's `<meta>` policy passes with `--allow-meta-only`, said out loud.
 * The files that keep their name across releases (index.html, veil-build.json, config.json and
 * the download service worker) must be served `no-cache` (or `no-store`, or `max-age=0`): a
 * cached copy would keep a fixed app or worker from reaching users.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../src/aws/config';
import { contentSecurityPolicy } from '../../src/hosting/csp';
import { DOWNLOAD_WORKER_SCRIPT } from '../../src/transfer/browser/download-sw-sink';
import { BUILD_MANIFEST, listFiles, type BuildManifest } from './verifiable-build';

export interface FileCheck {
  path: string;
  /** 'same', 'different' or the HTTP status/failure when it could not be fetched. */
  result: string;
}

export interface VerifyOptions {
  /** The config.json the team expects (parsed JSON); the deployed one must equal it. */
  readonly expectedConfig?: unknown;
  /** Accept a missing or different CSP header (a host that serves only the `<meta>` policy). */
  readonly allowMetaOnly?: boolean;
}

export interface VerifyReport {
  buildHash: string;
  /** The build hash the deployed index.html carries, if any. */
  deployedBuildHash: string | undefined;
  files: FileCheck[];
  /** The deployed config.json as served, or undefined when it could not be fetched. */
  deployedConfig: string | undefined;
  /** SHA-256 (hex) of the deployed config.json's bytes. */
  deployedConfigSha256: string | undefined;
  /** Why the deployed config.json is unusable (not JSON, refused by the app), if it is. */
  configProblem: string | undefined;
  /** Compared with --config: true or false; undefined when no expected config was given. */
  configMatchesExpected: boolean | undefined;
  /** The CSP header on index.html, or undefined when none is sent. */
  cspHeader: string | undefined;
  /** The policy the header must be (from the expected config, else the deployed one). */
  cspExpected: string | undefined;
  /** True when the header is that policy (with `'self'` or the site's own config.json URL). */
  cspMatches: boolean;
  /** Where cspExpected comes from. */
  cspBasis: 'expected config' | 'deployed config';
  /** Files of a fixed name served cacheable, as `path: "Cache-Control"` (empty when none). */
  cacheProblems: string[];
  ok: boolean;
}

/** Files whose name stays the same across releases: each load must revalidate them. */
export const UNCACHED_FILES = [
  'index.html',
  'veil-build.json',
  'config.json',
  DOWNLOAD_WORKER_SCRIPT,
];

/** True when a Cache-Control value makes a browser revalidate before each use. */
export function revalidatesEachUse(cacheControl: string | null): boolean {
  const directives = (cacheControl ?? '')
    .toLowerCase()
    .split(',')
    .map((part) => part.trim());
  return directives.some(
    (directive) =>
      directive === 'no-cache' || directive === 'no-store' || directive === 'max-age=0',
  );
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** JSON with object keys sorted, so two equal configs compare equal whatever their layout. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

/** The header values a config allows: config.json as `'self'` or as the site's exact URL. */
function policiesFor(config: unknown, origin: string): string[] {
  const parsed = parseConfig(config);
  return [
    contentSecurityPolicy(parsed),
    contentSecurityPolicy(parsed, { configUrl: `${origin}/config.json` }),
  ];
}

/**
 * Fetches every file of the local build `distDir` from `siteUrl` and compares the bytes; reads
 * the deployment's config.json and CSP header and checks them ([Note: what verify-deployment
 * proves]).
 * @throws Error when `options.expectedConfig` is not a config the app accepts.
 */
export async function verifyDeployment(
  siteUrl: string,
  distDir: string,
  fetcher: typeof fetch = fetch,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const base = siteUrl.endsWith('/') ? siteUrl : `${siteUrl}/`;
  const origin = new URL(base).origin;
  const expectedPolicies =
    options.expectedConfig === undefined ? undefined : policiesFor(options.expectedConfig, origin);
  const manifest = JSON.parse(
    await readFile(join(distDir, BUILD_MANIFEST), 'utf8'),
  ) as BuildManifest;
  const files: FileCheck[] = [];
  const cacheProblems: string[] = [];
  const checkCaching = (path: string, response: Response): void => {
    const cacheControl = response.headers.get('cache-control');
    if (UNCACHED_FILES.includes(path) && !revalidatesEachUse(cacheControl)) {
      cacheProblems.push(`${path}: ${JSON.stringify(cacheControl ?? '(none)')}`);
    }
  };
  let cspHeader: string | undefined;
  let deployedBuildHash: string | undefined;
  for (const path of await listFiles(distDir)) {
    let result: string;
    try {
      const response = await fetcher(new URL(path, base), { cache: 'no-store' });
      if (path === 'index.html')
        cspHeader = response.headers.get('content-security-policy') ?? undefined;
      if (response.ok) checkCaching(path, response);
      if (!response.ok) {
        result = `HTTP ${response.status}`;
      } else {
        const deployed = new Uint8Array(await response.arrayBuffer());
        if (path === 'index.html') {
          deployedBuildHash = /<meta name="veil-build-hash" content="([^"]+)"/.exec(
            new TextDecoder().decode(deployed),
          )?.[1];
        }
        const local = new Uint8Array(await readFile(join(distDir, path)));
        result = sha256(deployed) === sha256(local) ? 'same' : 'different';
      }
    } catch (error) {
      result = error instanceof Error ? error.message : String(error);
    }
    files.push({ path, result });
  }

  let deployedConfig: string | undefined;
  let deployedConfigSha256: string | undefined;
  let deployedJson: unknown;
  let configProblem: string | undefined;
  try {
    const response = await fetcher(new URL('config.json', base), { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    checkCaching('config.json', response);
    const bytes = new Uint8Array(await response.arrayBuffer());
    deployedConfig = new TextDecoder().decode(bytes);
    deployedConfigSha256 = sha256(bytes);
    deployedJson = JSON.parse(deployedConfig);
    parseConfig(deployedJson);
  } catch (error) {
    configProblem = error instanceof Error ? error.message : String(error);
  }
  const configMatchesExpected =
    options.expectedConfig === undefined
      ? undefined
      : configProblem === undefined &&
        canonicalJson(deployedJson) === canonicalJson(options.expectedConfig);

  let policies = expectedPolicies;
  if (!policies && configProblem === undefined) policies = policiesFor(deployedJson, origin);
  const cspMatches = cspHeader !== undefined && (policies ?? []).includes(cspHeader);
  const cspOk = cspMatches || options.allowMetaOnly === true;

  return {
    buildHash: manifest.buildHash,
    deployedBuildHash,
    files,
    deployedConfig,
    deployedConfigSha256,
    configProblem,
    configMatchesExpected,
    cspHeader,
    cspExpected: policies?.[0],
    cspMatches,
    cspBasis: expectedPolicies ? 'expected config' : 'deployed config',
    cacheProblems,
    ok:
      files.every((file) => file.result === 'same') &&
      deployedBuildHash === manifest.buildHash &&
      configProblem === undefined &&
      configMatchesExpected !== false &&
      cspOk &&
      cacheProblems.length === 0,
  };
}
