/**
 * verify-deployment's verdict (scripts/build/verify.ts, [Note: what verify-deployment proves])
 * over a fake host: the right bytes are not enough; config.json must be the expected one and the
 * CSP header the policy computed from it, unless the host can only serve the `<meta>` policy.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { canonicalJson, verifyDeployment } from '../../../scripts/build/verify';
import { finishBuild, listFiles } from '../../../scripts/build/verifiable-build';
import { parseConfig } from '../../../src/aws/config';
import { contentSecurityPolicy } from '../../../src/hosting/csp';

const SITE = 'https://veil.acme.example/';
const expected = {
  region: 'eu-central-1',
  bucket: 'acme-veil-files',
  hsm: { proxyUrl: 'https://hsm.acme.example', keyLabel: 'veil-wrap-1' },
};
// The right bytes, and a config.json whose HSM proxy is the host's own server.
const hostile = { ...expected, hsm: { ...expected.hsm, proxyUrl: 'https://collector.example' } };
const policyOf = (config: unknown) => contentSecurityPolicy(parseConfig(config));

let dist: string;

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'veil-verify-'));
  await mkdir(join(dist, 'assets'));
  await writeFile(join(dist, 'assets/index-a.js'), 'console.log(1);\n');
  await writeFile(join(dist, 'veil-download-sw.js'), 'self.addEventListener("fetch", () => {});\n');
  await writeFile(
    join(dist, 'index.html'),
    '<!doctype html>\n<html><head><meta charset="UTF-8" />\n<script type="module" crossorigin src="/assets/index-a.js"></script></head><body></body></html>\n',
  );
  await finishBuild(dist);
});

afterAll(async () => {
  await rm(dist, { recursive: true, force: true });
});

/**
 * A host serving the build, `config` as config.json (its text as given) and `csp` on index.html;
 * assets with a year's caching, the rest `no-cache` unless `cacheControl` names their header.
 */
async function host(options: {
  config: unknown;
  csp: string | undefined;
  configText?: string;
  cacheControl?: Record<string, string>;
}) {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const path of await listFiles(dist)) {
    files.set(`/${path}`, new Uint8Array(await readFile(join(dist, path))));
  }
  files.set(
    '/config.json',
    new TextEncoder().encode(options.configText ?? JSON.stringify(options.config)),
  );
  return (input: string | URL | Request): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const body = files.get(url.pathname);
    if (!body) return Promise.resolve(new Response('', { status: 404 }));
    const headers = new Headers({
      'cache-control':
        options.cacheControl?.[url.pathname] ??
        (url.pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'),
    });
    if (url.pathname === '/index.html' && options.csp) {
      headers.set('content-security-policy', options.csp);
    }
    return Promise.resolve(new Response(body, { headers }));
  };
}

describe('verify-deployment', () => {
  test('the right bytes, the expected config.json and its policy: ok, and config.json is reported with its SHA-256', async () => {
    const text = `${JSON.stringify(expected, null, 2)}\n`;
    const fetcher = await host({ config: expected, configText: text, csp: policyOf(expected) });
    const report = await verifyDeployment(SITE, dist, fetcher, { expectedConfig: expected });
    expect(report.files.every((f) => f.result === 'same')).toBe(true);
    expect(report.deployedConfig).toBe(text);
    expect(report.deployedConfigSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(report.configMatchesExpected).toBe(true);
    expect(report.cspMatches).toBe(true);
    expect(report.ok).toBe(true);
  });

  test('a hostile config.json with a policy computed from it fails against the expected config', async () => {
    const fetcher = await host({ config: hostile, csp: policyOf(hostile) });
    const report = await verifyDeployment(SITE, dist, fetcher, { expectedConfig: expected });
    expect(report.files.every((f) => f.result === 'same')).toBe(true);
    expect(report.configMatchesExpected).toBe(false);
    expect(report.cspBasis).toBe('expected config');
    expect(report.cspMatches).toBe(false);
    expect(report.ok).toBe(false);
    // Without --config the check cannot know, but prints the file for the team to read.
    const blind = await verifyDeployment(SITE, dist, fetcher);
    expect(blind.deployedConfig).toContain('https://collector.example');
    expect(blind.configMatchesExpected).toBeUndefined();
  });

  test('a CSP header that is not the computed policy fails, even with the right config', async () => {
    const loose = policyOf(expected).replace("connect-src 'self'", "connect-src 'self' https:");
    const report = await verifyDeployment(SITE, dist, await host({ config: expected, csp: loose }));
    expect(report.cspMatches).toBe(false);
    expect(report.ok).toBe(false);
  });

  test('no CSP header fails unless the host is accepted as meta-only', async () => {
    const fetcher = await host({ config: expected, csp: undefined });
    const strict = await verifyDeployment(SITE, dist, fetcher, { expectedConfig: expected });
    expect(strict.cspHeader).toBeUndefined();
    expect(strict.ok).toBe(false);
    const metaOnly = await verifyDeployment(SITE, dist, fetcher, {
      expectedConfig: expected,
      allowMetaOnly: true,
    });
    expect(metaOnly.ok).toBe(true);
    // The waiver does not waive the config.
    const hostileMetaOnly = await verifyDeployment(
      SITE,
      dist,
      await host({ config: hostile, csp: undefined }),
      { expectedConfig: expected, allowMetaOnly: true },
    );
    expect(hostileMetaOnly.ok).toBe(false);
  });

  test('a config.json the app would refuse fails', async () => {
    const fetcher = await host({ config: { region: 'nowhere' }, csp: policyOf(expected) });
    const report = await verifyDeployment(SITE, dist, fetcher);
    expect(report.configProblem).toMatch(/region/);
    expect(report.ok).toBe(false);
  });

  test('a service worker or entry file served cacheable fails: a fix would not reach users', async () => {
    const immutable = 'public, max-age=31536000, immutable';
    const fetcher = await host({
      config: expected,
      csp: policyOf(expected),
      cacheControl: { '/veil-download-sw.js': immutable, '/config.json': 'max-age=300' },
    });
    const report = await verifyDeployment(SITE, dist, fetcher, { expectedConfig: expected });
    expect(report.files.every((f) => f.result === 'same')).toBe(true);
    expect(report.cacheProblems).toEqual([
      `veil-download-sw.js: "${immutable}"`,
      'config.json: "max-age=300"',
    ]);
    expect(report.ok).toBe(false);
  });

  test('configs compare by content, not by layout', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe(
      canonicalJson({ a: { c: 'x', d: [1, 2] }, b: 1 }),
    );
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });
});
