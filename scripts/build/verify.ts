/**
 * Compares a deployed Veil site with a local build of the reviewed source, file by file (see
 * [Note: verifiable build]), and checks the security headers it is served with. A site served
 * through a CDN may add headers but must serve exactly these bytes.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseConfig } from '../../src/aws/config';
import { contentSecurityPolicy } from '../../src/hosting/csp';
import { BUILD_MANIFEST, listFiles, type BuildManifest } from './verifiable-build';

export interface FileCheck {
  path: string;
  /** 'same', 'different' or the HTTP status/failure when it could not be fetched. */
  result: string;
}

export interface VerifyReport {
  buildHash: string;
  /** The build hash the deployed index.html carries, if any. */
  deployedBuildHash: string | undefined;
  files: FileCheck[];
  /** The CSP header on index.html, or undefined when none is sent. */
  cspHeader: string | undefined;
  /** True when the header is the one computed from the deployed config.json. */
  cspMatchesConfig: boolean;
  ok: boolean;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Fetches every file of the local build `distDir` from `siteUrl` and compares the bytes; reads
 * the deployment's CSP header and config.json.
 */
export async function verifyDeployment(
  siteUrl: string,
  distDir: string,
  fetcher: typeof fetch = fetch,
): Promise<VerifyReport> {
  const base = siteUrl.endsWith('/') ? siteUrl : `${siteUrl}/`;
  const manifest = JSON.parse(
    await readFile(join(distDir, BUILD_MANIFEST), 'utf8'),
  ) as BuildManifest;
  const files: FileCheck[] = [];
  let cspHeader: string | undefined;
  let deployedBuildHash: string | undefined;
  for (const path of await listFiles(distDir)) {
    let result: string;
    try {
      const response = await fetcher(new URL(path, base), { cache: 'no-store' });
      if (path === 'index.html')
        cspHeader = response.headers.get('content-security-policy') ?? undefined;
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
  let cspMatchesConfig: boolean;
  try {
    const config = parseConfig(await (await fetcher(new URL('config.json', base))).json());
    const origin = new URL(base).origin;
    cspMatchesConfig = [
      contentSecurityPolicy(config),
      contentSecurityPolicy(config, { configUrl: `${origin}/config.json` }),
    ].includes(cspHeader ?? '');
  } catch {
    // No config.json, or one the app would refuse: no policy to compare with.
    cspMatchesConfig = false;
  }
  return {
    buildHash: manifest.buildHash,
    deployedBuildHash,
    files,
    cspHeader,
    cspMatchesConfig,
    ok: files.every((file) => file.result === 'same') && deployedBuildHash === manifest.buildHash,
  };
}
