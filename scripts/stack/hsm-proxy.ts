/**
 * Starts the HSM proxy (server/hsm-proxy) as a child process against a SoftHSM2 token, trusting
 * the local user pool's tokens, with a key policy and an audit log in the stack's directory.
 */
import { existsSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PolicyDocument } from '../../server/hsm-proxy/src/policy';
import { HSM_ROUTES } from '../../src/keyrings/hsm-api';
import { assertPortFree, startedWhenReady, startProcess, type Managed } from './process';
import type { SoftHsmToken } from './softhsm';

const MAIN = fileURLToPath(new URL('../../server/hsm-proxy/src/main.ts', import.meta.url));
const TSX_LOADER = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

export interface HsmProxyOptions {
  port: number;
  /** Directory for the policy, the JWKS copy and the audit log. */
  dir: string;
  token: SoftHsmToken;
  keyLabel: string;
  allowedOrigins: string[];
  userPoolId: string;
  clientId: string;
  /** The user pool's JWKS URL (moto serves it); copied to a file the proxy trusts. */
  jwksUrl: string;
  /** Written only when the stack's directory has no policy yet, so local edits survive. */
  defaultPolicy: PolicyDocument;
  extraEnv?: NodeJS.ProcessEnv;
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
}

/** The proxy's health route; over HTTPS the certificate is not checked (this is only a liveness probe). */
function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = (url.startsWith('https:') ? httpsGet : httpGet)(
      url,
      { rejectUnauthorized: false, timeout: 2000 },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}

export interface RunningProxy {
  managed: Managed;
  policyFile: string;
  auditLog: string;
}

export async function startHsmProxy(o: HsmProxyOptions): Promise<RunningProxy> {
  const jwksFile = join(o.dir, 'cognito-jwks.json');
  const policyFile = join(o.dir, 'hsm-policy.json');
  const auditLog = join(o.dir, 'hsm-audit.log');
  // A restart while moto is down keeps the copy from before (moto's signing key is fixed).
  const jwks = await fetch(o.jwksUrl).catch(() => undefined);
  if (jwks?.ok) await writeFile(jwksFile, await jwks.text());
  else if (!existsSync(jwksFile)) {
    throw new Error(`could not read the user pool's JWKS at ${o.jwksUrl}`);
  }
  if (!existsSync(policyFile)) {
    await writeFile(policyFile, `${JSON.stringify(o.defaultPolicy, null, 2)}\n`);
  }
  await assertPortFree(o.port, 'the HSM proxy');
  // `node --import tsx`: one process, which gets the stop signal itself.
  const managed = startProcess('hsm-proxy', process.execPath, ['--import', TSX_LOADER, MAIN], {
    ...process.env,
    SOFTHSM2_CONF: o.token.conf,
    VEIL_HSM_HOST: '127.0.0.1',
    VEIL_HSM_PORT: String(o.port),
    VEIL_HSM_LIBRARY: o.token.libraryPath,
    VEIL_HSM_TOKEN_LABEL: o.token.tokenLabel,
    VEIL_HSM_PIN: o.token.pin,
    VEIL_HSM_KEY_LABEL: o.keyLabel,
    VEIL_HSM_ALLOWED_ORIGINS: o.allowedOrigins.join(','),
    VEIL_HSM_USER_POOL_ID: o.userPoolId,
    VEIL_HSM_CLIENT_ID: o.clientId,
    VEIL_HSM_JWKS_FILE: jwksFile,
    VEIL_HSM_POLICY_FILE: policyFile,
    VEIL_HSM_AUDIT_LOG: auditLog,
    ...(o.tls ? { VEIL_HSM_TLS_CERT: o.tls.certFile, VEIL_HSM_TLS_KEY: o.tls.keyFile } : {}),
    ...o.extraEnv,
  });
  const scheme = o.tls ? 'https' : 'http';
  await startedWhenReady(managed, 'the HSM proxy', () =>
    healthy(`${scheme}://127.0.0.1:${o.port}${HSM_ROUTES.health.path}`),
  );
  return { managed, policyFile, auditLog };
}
