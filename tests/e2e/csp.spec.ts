/**
 * The production build under its strict Content-Security-Policy (see [Note: content security
 * policy] in src/hosting/csp.ts): the global setup's static server sends the header computed from
 * the served config.json, as CloudFront does in infra/.
 *
 * 1. Every view, reached from the navigation, with a Cognito guest connected in Settings: no
 *    CSP violation (page events and console reports) and no request to an origin outside the
 *    configuration.
 * 2. The page's policies refuse an origin the configuration does not list.
 * 3. The `blob:` sources the preview added: a blob: image loads; a blob: script, a blob: worker and
 *    a data: image are still refused, each by its own directive.
 * 4. Without the header (a host that cannot set one), the build's `<meta>` plus the one the app
 *    adds after loading config.json still refuse it, and the app still runs.
 *
 * Not covered: violations inside the workers are reported to their own console, which
 * Playwright does not surface here; the request check does see the workers' requests.
 */
import { expect, test, type Page } from '@playwright/test';
import { freePort } from '../../scripts/stack/process';
import { serveStatic, type StaticServer } from '../../scripts/stack/static-server';
import { parseConfig, type VeilConfig } from '../../src/aws/config';
import { connectOnlyPolicy, connectSources, contentSecurityPolicy } from '../../src/hosting/csp';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

let rawConfig: unknown;
let config: VeilConfig;

test.beforeAll(async () => {
  rawConfig = await (await fetch(new URL('config.json', env('VEIL_APP_URL')))).json();
  config = parseConfig(rawConfig);
});

/** What the page reported: CSP violations (events and console) and every request's URL. */
interface Watch {
  violations: string[];
  requests: string[];
  errors: string[];
}

async function watch(page: Page): Promise<Watch> {
  const seen: Watch = { violations: [], requests: [], errors: [] };
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(
        `[csp-violation] ${event.effectiveDirective} blocked ${event.blockedURI} (${event.sourceFile}:${event.lineNumber})`,
      );
    });
  });
  page.on('console', (message) => {
    const text = message.text();
    if (/content security policy|\[csp-violation\]/i.test(text)) seen.violations.push(text);
  });
  page.on('request', (request) => seen.requests.push(request.url()));
  page.on('pageerror', (error) => seen.errors.push(error.message));
  return seen;
}

/** The origins the configuration allows, plus the app's own. */
function allowedOrigins(appOrigin: string): Set<string> {
  return new Set([appOrigin, ...connectSources(config).map((source) => new URL(source).origin)]);
}

/** Fetches `url` from the page and returns how it ended and the violations it raised. */
async function probe(page: Page, url: string): Promise<{ outcome: string; directives: string[] }> {
  return page.evaluate(async (target) => {
    const directives: string[] = [];
    const listener = (event: SecurityPolicyViolationEvent): void => {
      if (event.blockedURI.startsWith(new URL(target).origin)) {
        directives.push(`${event.effectiveDirective} :: ${event.originalPolicy}`);
      }
    };
    document.addEventListener('securitypolicyviolation', listener);
    let outcome: string;
    try {
      await fetch(target);
      outcome = 'fetched';
    } catch (error) {
      outcome = error instanceof TypeError ? 'refused' : String(error);
    }
    // Violation events are queued as a task after the fetch is refused.
    await new Promise((done) => setTimeout(done, 50));
    document.removeEventListener('securitypolicyviolation', listener);
    return { outcome, directives };
  }, url);
}

test('every view runs under the strict CSP and contacts only configured origins', async ({
  page,
}) => {
  const seen = await watch(page);
  const appUrl = env('VEIL_APP_URL');
  const appOrigin = new URL(appUrl).origin;
  const response = await page.goto(appUrl);
  expect(response?.headers()['content-security-policy']).toBe(
    contentSecurityPolicy(config, { configUrl: `${appOrigin}/config.json` }),
  );
  await expect(page.getByTestId('config-status')).toBeVisible();
  await expect(page.getByTestId('worker-status')).toHaveText(/Worker ready/);
  await expect(page.getByTestId('build-hash')).toHaveText(/^Build [0-9a-f]{12}$/);

  const nav = page.getByRole('navigation', { name: 'Main' }).getByRole('link');
  const labels = await nav.allTextContents();
  expect(labels).toEqual(expect.arrayContaining(['Upload', 'Files', 'Keys', 'Learn', 'Settings']));
  const visitAll = async (): Promise<void> => {
    for (const label of labels) {
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: label })
        .click();
      await expect(
        page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }),
      ).toHaveAttribute('aria-current', 'page');
      await expect(page.locator('main h1').first()).toBeVisible();
    }
  };
  await visitAll();

  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Settings' })
    .click();
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(
    /^[a-z]{2}(-[a-z]+)+-\d+:[0-9a-f-]{36}$/,
  );
  // Again with credentials: views that talk to AWS now do.
  await visitAll();
  await page.waitForLoadState('networkidle');

  expect(seen.violations).toEqual([]);
  expect(seen.errors).toEqual([]);
  const allowed = allowedOrigins(appOrigin);
  const outside = seen.requests.filter((url) => {
    const { protocol, origin } = new URL(url);
    return protocol !== 'data:' && protocol !== 'blob:' && !allowed.has(origin);
  });
  expect(outside).toEqual([]);
  // Credentials came from the configured Cognito endpoint.
  const cognito = config.endpoints.cognitoIdentity;
  expect(cognito && seen.requests.some((url) => url.startsWith(cognito))).toBe(true);
});

test('the policy refuses an origin the configuration does not list', async ({ page }) => {
  const appUrl = env('VEIL_APP_URL');
  await page.goto(appUrl);
  await expect(page.getByTestId('config-status')).toBeVisible();
  const unlisted = `http://127.0.0.1:${await freePort()}/probe`;
  const result = await probe(page, unlisted);
  expect(result.outcome).toBe('refused');
  expect(result.directives.length).toBeGreaterThan(0);
  expect(result.directives.every((entry) => entry.startsWith('connect-src'))).toBe(true);
  // A configured endpoint is still reachable from the page.
  const moto = await probe(page, `${env('VEIL_MOTO_URL')}/moto-api/`);
  expect(moto.directives).toEqual([]);
});

test('a blob: image loads (the preview); blob: scripts and workers and data: images stay refused', async ({
  page,
}) => {
  await page.goto(env('VEIL_APP_URL'));
  await expect(page.getByTestId('config-status')).toBeVisible();
  const result = await page.evaluate(async () => {
    const directives: string[] = [];
    const listener = (event: SecurityPolicyViolationEvent): void => {
      directives.push(event.effectiveDirective);
    };
    document.addEventListener('securitypolicyviolation', listener);
    const gif = Uint8Array.from(
      atob('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7'),
      (c) => c.charCodeAt(0),
    );
    const blobUrl = (bytes: BlobPart, type: string): string =>
      URL.createObjectURL(new Blob([bytes], { type }));
    const image = (src: string): Promise<string> =>
      new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve('loaded');
        img.onerror = () => resolve('refused');
        img.src = src;
      });
    const script = (src: string): Promise<string> =>
      new Promise((resolve) => {
        const tag = document.createElement('script');
        tag.onload = () => resolve('ran');
        tag.onerror = () => resolve('refused');
        tag.src = src;
        document.head.append(tag);
      });
    const worker = (src: string): Promise<string> =>
      new Promise((resolve) => {
        try {
          const started = new Worker(src);
          started.onmessage = () => resolve('ran');
          started.onerror = () => resolve('refused');
        } catch {
          resolve('refused');
        }
      });
    const outcome = {
      blobImage: await image(blobUrl(gif, 'image/gif')),
      dataImage: await image(`data:image/gif;base64,${btoa(String.fromCharCode(...gif))}`),
      blobScript: await script(blobUrl('window.__ran = 1', 'text/javascript')),
      worker: await worker(blobUrl('postMessage(1)', 'text/javascript')),
    };
    await new Promise((done) => setTimeout(done, 100));
    document.removeEventListener('securitypolicyviolation', listener);
    return { outcome, directives: [...new Set(directives)].sort() };
  });
  expect(result.outcome).toEqual({
    blobImage: 'loaded',
    dataImage: 'refused',
    blobScript: 'refused',
    worker: 'refused',
  });
  expect(result.directives).toEqual(['img-src', 'script-src-elem', 'worker-src']);
});

test.describe('without the header', () => {
  let bare: StaticServer;

  test.beforeAll(async () => {
    bare = await serveStatic({
      root: process.env.VEIL_DIST_DIR ?? 'dist',
      port: await freePort(),
      config: rawConfig,
      csp: false,
    });
  });

  test.afterAll(async () => {
    await bare.close();
  });

  test('the build meta and the run-time meta still confine connect-src', async ({ page }) => {
    const seen = await watch(page);
    const response = await page.goto(`${bare.origin}/`);
    expect(response?.headers()['content-security-policy']).toBeUndefined();
    await expect(page.getByTestId('config-status')).toBeVisible();
    await expect(page.getByTestId('worker-status')).toHaveText(/Worker ready/);
    const metas = await page
      .locator('meta[http-equiv="Content-Security-Policy"]')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('content')));
    expect(metas).toHaveLength(2);
    expect(metas[1]).toBe(connectOnlyPolicy(config));

    // The build's meta allows any loopback port; the run-time one only the configured ones.
    const unlisted = `http://127.0.0.1:${await freePort()}`;
    const result = await probe(page, `${unlisted}/probe`);
    expect(result.outcome).toBe('refused');
    expect(result.directives).toEqual([`connect-src :: ${connectOnlyPolicy(config)}`]);

    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Settings' })
      .click();
    await page.getByRole('button', { name: 'Get guest credentials' }).click();
    await expect(page.getByTestId('identity-id')).toBeVisible();
    expect(seen.violations.filter((text) => !text.includes(unlisted))).toEqual([]);
    expect(seen.errors).toEqual([]);
  });
});
