/**
 * Starts what the end-to-end tests need and returns the teardown: the local stack on free ports
 * in a temporary directory (fresh bucket per run) and the built app (dist/) served with a
 * config.json for it. Exposes VEIL_APP_URL, VEIL_HSM_URL, VEIL_MOTO_URL, VEIL_BUCKET, the demo
 * user's ID token (VEIL_DEMO_ID_TOKEN) and a port whose origin the stack also trusts, for
 * harness pages (VEIL_HARNESS_PORT).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/stack/process';
import { startStack, testBucketName } from '../../scripts/stack/stack';
import { serveStatic } from '../../scripts/stack/static-server';

export default async function globalSetup(): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // VEIL_DIST_DIR serves another build (e.g. `vite build --outDir /tmp/x`); default dist/.
  const dist = process.env.VEIL_DIST_DIR ?? 'dist';
  if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`${dist}/ is missing: run \`vite build\` first`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'veil-e2e-'));
  const appPort = await freePort();
  const appOrigin = `http://127.0.0.1:${appPort}`;
  // A second origin the stack trusts (bucket CORS, HSM proxy CORS), for test harness pages.
  const harnessPort = await freePort();
  const stack = await startStack({
    dir,
    motoPort: await freePort(),
    hsmPort: await freePort(),
    appOrigins: [appOrigin, `http://127.0.0.1:${harnessPort}`],
    bucket: testBucketName(),
  });
  const app = await serveStatic({ root: dist, port: appPort, config: stack.config });
  process.env.VEIL_APP_URL = `${app.origin}/`;
  process.env.VEIL_MOTO_URL = stack.motoUrl;
  process.env.VEIL_HSM_URL = stack.hsmUrl;
  process.env.VEIL_BUCKET = stack.config.bucket;
  process.env.VEIL_HARNESS_PORT = String(harnessPort);
  process.env.VEIL_DEMO_ID_TOKEN = stack.demoIdToken;
  process.env.VEIL_HSM_KEY_LABEL = stack.config.hsm.keyLabel;
  return async () => {
    await app.close();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
