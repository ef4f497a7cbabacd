/**
 * Starts the HSM proxy (server/hsm-proxy) as a child process against a SoftHSM2 token.
 */
import { fileURLToPath } from 'node:url';
import { startProcess, waitUntil, type Managed } from './process';
import type { SoftHsmToken } from './softhsm';

const MAIN = fileURLToPath(new URL('../../server/hsm-proxy/src/main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

export interface HsmProxyOptions {
  port: number;
  token: SoftHsmToken;
  keyLabel: string;
  allowedOrigins: string[];
}

export async function startHsmProxy(o: HsmProxyOptions): Promise<Managed> {
  const proxy = startProcess('hsm-proxy', process.execPath, [TSX, MAIN], {
    ...process.env,
    SOFTHSM2_CONF: o.token.conf,
    VEIL_HSM_HOST: '127.0.0.1',
    VEIL_HSM_PORT: String(o.port),
    VEIL_HSM_LIBRARY: o.token.libraryPath,
    VEIL_HSM_TOKEN: o.token.tokenLabel,
    VEIL_HSM_PIN: o.token.pin,
    VEIL_HSM_KEY_LABEL: o.keyLabel,
    VEIL_HSM_ALLOWED_ORIGINS: o.allowedOrigins.join(','),
  });
  await waitUntil(proxy, 'the HSM proxy', async () => {
    const response = await fetch(`http://127.0.0.1:${o.port}/v1/health`, {
      signal: AbortSignal.timeout(2000),
    });
    await response.body?.cancel();
    return response.ok;
  });
  return proxy;
}
