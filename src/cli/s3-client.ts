/**
 * The S3 client of `veil cp` and `veil ls`, as the AWS CLI would build it: credentials from the
 * SDK's default Node chain (environment variables, AWS_PROFILE and shared profiles, SSO, web
 * identity, container and instance metadata), never given explicitly; the region from
 * `--region`, else AWS_REGION / AWS_DEFAULT_REGION, else the profile's, else us-east-1; the
 * endpoint from `--endpoint-url`, else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL. A custom endpoint
 * (a local S3, MinIO, moto) is addressed path-style, since such servers rarely have a DNS name
 * per bucket. The client itself comes from the one factory ([Note: one client factory] in
 * src/aws/clients.ts).
 *
 * [Note: network errors on the command line] In Node a refused connection or an unknown host
 * reaches the caller as a plain `Error` with a system code (ECONNREFUSED, ENOTFOUND, ...), where
 * a page sees fetch's TypeError. The core's failure mapping ([Note: AWS failures] in
 * core/aws-failure.ts) reads only names, so this client renames those errors `NetworkingError`
 * (the SDK's own name for them in other handlers): the engines then retry them as transient and
 * end with S3_UNREACHABLE, as in the browser, instead of S3_REJECTED naming "Error".
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { AwsClients, defaultSdkRegion } from '../aws/clients';
import { VeilError } from '../core/errors';

/** What the S3 flags and environment give. */
export interface S3Flags {
  /** `--region`. */
  readonly region?: string | undefined;
  /** `--endpoint-url`. */
  readonly endpointUrl?: string | undefined;
}

/** Where the client points, resolved. */
export interface S3Target {
  readonly region: string;
  /** A custom endpoint without trailing slash, or undefined for AWS. */
  readonly endpoint: string | undefined;
}

/** An S3 client for one command and what closes it. */
export interface CliS3 {
  readonly client: S3Client;
  readonly target: S3Target;
  close(this: void): void;
}

/** Node system error codes of a request that got no answer. */
const NO_ANSWER_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** An environment value, with an empty one counted as unset (as the AWS CLI does). */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * Checks an endpoint URL and drops trailing slashes.
 * @throws VeilError USAGE when it is not an absolute http(s) URL.
 */
function checkedEndpoint(text: string, source: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new VeilError('USAGE', `${source} must be an absolute http(s) URL`);
  }
  return text.replace(/\/+$/, '');
}

/**
 * Resolves the region and endpoint from the flags and the environment (see the header).
 * @throws VeilError USAGE for a malformed region or endpoint.
 */
export async function resolveS3Target(
  flags: S3Flags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<S3Target> {
  const region =
    flags.region ??
    envValue(env, 'AWS_REGION') ??
    envValue(env, 'AWS_DEFAULT_REGION') ??
    (await defaultSdkRegion()) ??
    'us-east-1';
  if (!REGION.test(region)) throw new VeilError('USAGE', `"${region}" is not a region name`);
  const endpointText = flags.endpointUrl ?? envValue(env, 'AWS_ENDPOINT_URL_S3');
  const fallback = envValue(env, 'AWS_ENDPOINT_URL');
  const endpoint =
    endpointText !== undefined
      ? checkedEndpoint(endpointText, flags.endpointUrl ? '--endpoint-url' : 'AWS_ENDPOINT_URL_S3')
      : fallback !== undefined
        ? checkedEndpoint(fallback, 'AWS_ENDPOINT_URL')
        : undefined;
  return { region, endpoint };
}

/** Renames a Node network error `NetworkingError` ([Note: network errors on the command line]). */
export function markNetworkError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  const code = (error as { code?: unknown }).code;
  if (status === undefined && typeof code === 'string' && NO_ANSWER_CODES.has(code)) {
    Object.defineProperty(error, 'name', { value: 'NetworkingError', configurable: true });
  }
  return error;
}

/**
 * Builds the S3 client for `flags` (see the header).
 * @throws VeilError USAGE for a malformed region or endpoint.
 */
export async function cliS3(flags: S3Flags, env: NodeJS.ProcessEnv = process.env): Promise<CliS3> {
  const target = await resolveS3Target(flags, env);
  const clients = new AwsClients({
    region: target.region,
    endpoints: target.endpoint ? { s3: target.endpoint } : {},
    forcePathStyle: target.endpoint !== undefined,
  });
  const client = clients.s3();
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw markNetworkError(error);
      }
    },
    { step: 'initialize', name: 'veilCliNetworkErrors' },
  );
  return { client, target, close: () => clients.destroy() };
}
