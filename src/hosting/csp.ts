/**
 * [Note: content security policy] Veil's production build runs under one strict policy:
 *
 *   default-src 'none'; script-src 'self'; style-src 'self'; worker-src 'self';
 *   connect-src <config.json> <the configured S3, KMS, Cognito and HSM proxy endpoints>;
 *   img-src 'self' blob:; media-src blob:; frame-src blob:; base-uri 'none'; form-action 'none';
 *   frame-ancestors 'none'; object-src 'none'
 *
 * The one function here computes it from a config, and every place that delivers it uses it:
 * - the HTTP header of CloudFront's response headers policy (infra/, at deploy time, from the
 *   same config object that becomes config.json);
 * - the header of the local static server (scripts/stack/static-server.ts), so every end-to-end
 *   test runs the app under it;
 * - a `<meta>` fallback for hosts that cannot set headers, in two parts (a meta policy cannot
 *   know the deployment at build time): the build writes `metaPolicy()` into index.html, every
 *   strict directive with a connect-src bounded to https and loopback; once config.json is
 *   loaded, the app adds a second meta with `connect-src` for exactly the configured endpoints
 *   (src/hosting/runtime-csp.ts). A page enforces every policy it has, so the result is as
 *   strict as the header. A meta policy cannot carry frame-ancestors and does not reach workers;
 *   the header does both.
 *
 * connect-src also names where config.json comes from: the exact URL when the host knows its
 * own origin (the static server; CloudFront with a custom domain), otherwise `'self'`. The
 * tightening meta leaves it out, since config.json is fetched before it is added.
 *
 * The `blob:` sources serve the preview ([Note: preview shows only authenticated bytes] in
 * state/files/preview-core.ts) and nothing else: images (`<img>`), audio and video, and a PDF in
 * an `<iframe>`, each from a Blob the app built of plaintext that passed authentication, typed
 * from the file name's extension, never from storage. A `blob:` URL belongs to the origin whose
 * script made it, and only the app's own scripts run here (script-src 'self'), so no one else
 * can put content behind one; a document loaded from it inherits this policy. An SVG in `<img>`
 * runs no script. The PDF iframe is not sandboxed: Chromium's PDF viewer refuses to load in a
 * sandboxed frame (measured: the frame shows an error page), and the Blob is typed
 * application/pdf, so the viewer, not the page, renders it. No `data:`, no other origin.
 *
 * This module is pure (no DOM, no AWS SDK) so the infrastructure code imports it too, with
 * values that may be CDK tokens: names are only templated, never parsed, unless they are URLs.
 */
import type { Endpoints, VeilConfig } from '../aws/config';

/** What the policy depends on: the parts of a config that name endpoints. */
export type CspConfig = Pick<
  VeilConfig,
  'region' | 'bucket' | 'endpoints' | 'forcePathStyle' | 'cognito' | 'kms' | 'hsm' | 'targets'
>;

export interface CspOptions {
  /** The absolute URL config.json is served from; default `'self'`. */
  readonly configUrl?: string;
}

/** The directives that do not depend on the deployment, in the order they are written. */
export const FIXED_DIRECTIVES: readonly (readonly [string, string])[] = [
  ['default-src', "'none'"],
  ['script-src', "'self'"],
  ['style-src', "'self'"],
  ['worker-src', "'self'"],
  ['img-src', "'self' blob:"],
  ['media-src', 'blob:'],
  ['frame-src', 'blob:'],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['frame-ancestors', "'none'"],
  ['object-src', "'none'"],
];

/** The connect-src of the build-time meta: every deployment's endpoints fall inside it. */
export const META_CONNECT_BOUND = ["'self'", 'https:', 'http://127.0.0.1:*', 'http://localhost:*'];

/** CloudFront's limit on the Content-Security-Policy value of a response headers policy. */
export const CLOUDFRONT_CSP_MAX_CHARS = 1783;

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const KMS_ARN_REGION = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/;

/** AWS's DNS suffix for a region: China's partition differs; tokens count as the standard one. */
function dnsSuffix(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/**
 * A URL as a CSP source expression: scheme, host, port and path (a path ending in `/` allows
 * everything below it). Strings that are not URLs (CDK tokens) are kept as written.
 */
function source(url: string, path = ''): string {
  let value: string;
  try {
    const parsed = new URL(url);
    value = `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}${path}`;
  } catch {
    value = `${url.replace(/\/+$/, '')}${path}`;
  }
  // A wildcard would widen the policy to hosts nobody configured.
  if (/[\s;,'*]/.test(value)) throw new TypeError(`not usable in a CSP: ${value}`);
  return value;
}

/** The region of a Cognito pool id (`us-east-1:uuid`, `us-east-1_abc`), or undefined. */
function poolRegion(poolId: string | undefined, separator: ':' | '_'): string | undefined {
  const region = poolId?.split(separator)[0];
  return region && REGION.test(region) ? region : undefined;
}

/** The S3 sources for one bucket, as the SDK addresses it (virtual-hosted unless it cannot be). */
function s3Sources(bucket: string, region: string, endpoints: Endpoints, pathStyle: boolean) {
  // The SDK falls back to path-style for names that are not valid host labels under TLS.
  // `${...}` stands for a value known at deploy time (a CDK token), never a dotted name.
  const usePath = pathStyle || bucket.replace(/\$\{[^}]*\}/g, '').includes('.');
  const base = endpoints.s3 ?? `https://s3.${region}.${dnsSuffix(region)}`;
  if (usePath) return [source(base, `/${bucket}`), source(base, `/${bucket}/`)];
  if (endpoints.s3) {
    const parsed = new URL(endpoints.s3);
    return [source(`${parsed.protocol}//${bucket}.${parsed.host}`)];
  }
  return [`https://${bucket}.s3.${region}.${dnsSuffix(region)}`];
}

/**
 * The URL of a bucket as the S3 client addresses it (the same choice as s3Sources: the
 * configured endpoint or AWS's, path-style when configured or when the name has a dot,
 * virtual-hosted otherwise), so a request to it falls inside the policy's connect-src. Path-style
 * URLs end with the bucket name, virtual-hosted ones with `/`.
 */
export function s3BucketUrl(
  config: Pick<CspConfig, 'bucket' | 'region' | 'endpoints' | 'forcePathStyle'>,
): string {
  const { bucket, region, endpoints } = config;
  const base = endpoints.s3 ?? `https://s3.${region}.${dnsSuffix(region)}`;
  if (config.forcePathStyle || bucket.includes('.')) return `${base.replace(/\/+$/, '')}/${bucket}`;
  const parsed = new URL(base);
  return `${parsed.protocol}//${bucket}.${parsed.host}${parsed.pathname.replace(/\/+$/, '')}/`;
}

/**
 * The endpoints a deployment's app talks to, as CSP sources: each target's bucket, KMS in each
 * target's region and the key's, Cognito (identity pool, user pool, hosted sign-in's token
 * endpoint) and the HSM proxy. Endpoint overrides replace the AWS hosts they stand for.
 */
export function connectSources(config: CspConfig): string[] {
  const { endpoints } = config;
  const sources: string[] = [];
  const targets = config.targets ?? [{ region: config.region, bucket: config.bucket }];
  for (const target of targets) {
    sources.push(...s3Sources(target.bucket, target.region, endpoints, config.forcePathStyle));
  }
  if (config.kms) {
    if (endpoints.kms) sources.push(source(endpoints.kms));
    else {
      const regions = targets.map((target) => target.region);
      const keyRegion = KMS_ARN_REGION.exec(config.kms.keyId)?.[1];
      if (keyRegion) regions.push(keyRegion);
      for (const region of regions) sources.push(`https://kms.${region}.${dnsSuffix(region)}`);
    }
  }
  const cognito = config.cognito;
  if (cognito) {
    const identityRegion = poolRegion(cognito.identityPoolId, ':') ?? config.region;
    sources.push(
      endpoints.cognitoIdentity
        ? source(endpoints.cognitoIdentity)
        : `https://cognito-identity.${identityRegion}.${dnsSuffix(identityRegion)}`,
    );
    if (cognito.userPoolId) {
      const userRegion = poolRegion(cognito.userPoolId, '_') ?? config.region;
      sources.push(
        endpoints.cognitoIdentityProvider
          ? source(endpoints.cognitoIdentityProvider)
          : `https://cognito-idp.${userRegion}.${dnsSuffix(userRegion)}`,
      );
    }
    if (cognito.hostedUi) {
      // src/aws/oidc.ts posts to /oauth2/token at the domain's root; the sign-in page itself is
      // a navigation, which connect-src does not govern.
      sources.push(`${source(new URL(cognito.hostedUi.domain).origin)}/oauth2/token`);
    }
  }
  if (config.hsm) sources.push(source(config.hsm.proxyUrl, '/'));
  return [...new Set(sources)];
}

function serialize(directives: readonly (readonly [string, string])[]): string {
  return directives.map(([name, value]) => `${name} ${value}`).join('; ');
}

/**
 * The full policy for a deployment, as an HTTP header value (see [Note: content security policy]).
 * @throws TypeError when an endpoint holds characters a CSP cannot carry.
 */
export function contentSecurityPolicy(config: CspConfig, options: CspOptions = {}): string {
  const configSource = options.configUrl ? source(options.configUrl) : "'self'";
  const connect = [configSource, ...connectSources(config)].join(' ');
  const directives = [...FIXED_DIRECTIVES];
  directives.splice(4, 0, ['connect-src', connect]);
  return serialize(directives);
}

/**
 * The build-time `<meta>` policy: every strict directive a meta policy can carry (not
 * frame-ancestors, which browsers ignore there), with connect-src bounded by META_CONNECT_BOUND.
 */
export function metaPolicy(): string {
  const directives = FIXED_DIRECTIVES.filter(([name]) => name !== 'frame-ancestors');
  directives.splice(4, 0, ['connect-src', META_CONNECT_BOUND.join(' ')]);
  return serialize(directives);
}

/** The run-time `<meta>` policy that narrows connect-src to the configured endpoints. */
export function connectOnlyPolicy(config: CspConfig): string {
  return serialize([['connect-src', connectSources(config).join(' ')]]);
}
