/**
 * Narrows the page's connect-src to the configured endpoints once config.json is loaded (see
 * [Note: content security policy] in csp.ts). Chromium, Firefox and Safari enforce a CSP `<meta>`
 * that a script adds to `<head>`, alongside the policies already in force: policies only ever
 * add restrictions, so this cannot loosen the header or the build's meta. Measured in Chromium
 * by tests/e2e/csp.spec.ts, which checks that a request to an unlisted origin is refused.
 */
import type { VeilConfig } from '../aws/config';
import { VeilError } from '../core/errors';
import { connectOnlyPolicy } from './csp';

/** The `name` attribute of the added meta, so tests and tools can find it. */
export const RUNTIME_CSP_META = 'veil-runtime-csp';

/**
 * Adds the narrowing policy for `config` to `doc` in the production build (once; the dev
 * server's hot reload talks to its own origin, so it is left alone there).
 * @throws VeilError CONFIG_INVALID when an endpoint holds characters a policy cannot carry.
 */
export function narrowConnectSrc(config: VeilConfig, doc: Document = document): void {
  if (!import.meta.env.PROD) return;
  if (doc.head.querySelector(`meta[name="${RUNTIME_CSP_META}"]`)) return;
  const meta = doc.createElement('meta');
  meta.httpEquiv = 'Content-Security-Policy';
  meta.name = RUNTIME_CSP_META;
  try {
    meta.content = connectOnlyPolicy(config);
  } catch (error) {
    throw new VeilError('CONFIG_INVALID', error instanceof Error ? error.message : undefined);
  }
  doc.head.append(meta);
}
