/**
 * The Model C keyring for the command line: `--kms-key ALIAS|ARN [--region R] [--endpoint-url
 * URL]`. Credentials come from the SDK's default Node chain (environment variables, shared
 * profiles with AWS_PROFILE, SSO, web identity, container and instance metadata), which the KMS
 * client uses when it is given none (the chain of @aws-sdk/credential-provider-node).
 *
 * Without `--kms-key` the keyring is a discovery keyring (decrypt only): it opens whichever KMS
 * EDK the file names, with a KMS client in that key's region. With `--kms-key` decrypt is strict:
 * an alias or key id is resolved to its key ARN with DescribeKey and only EDKs of that key are
 * tried ([Note: KMS key names] in src/keyrings/kms.ts), which is narrower than an account filter.
 */
import { VeilError } from '../core/errors';
import { parseKmsKeyName, regionOfKeyName } from '../keyrings/kms-arn';
import { KmsKeyring } from '../keyrings/kms';
import { AwsClients, defaultSdkRegion } from '../aws/clients';

/** Flags of the KMS options, as parsed by the command line. */
export interface CliKmsOptions {
  /** `--kms-key`: alias, alias ARN, key id or key ARN. Absent: discovery (decrypt only). */
  readonly kmsKey?: string | undefined;
  /** `--region`. */
  readonly region?: string | undefined;
  /** `--endpoint-url`: one KMS endpoint (a local stack, a VPC endpoint); pins the region. */
  readonly endpointUrl?: string | undefined;
  /** Environment (tests pass their own); default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A KMS keyring and the function that closes its clients when the command is done. */
export interface CliKmsKeyring {
  readonly keyring: KmsKeyring;
  /** The region KMS calls default to (keys named by ARN use their own, unless pinned). */
  readonly region: string;
  close(): void;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * Builds the Model C keyring for `veil encrypt --kms-key ...` (generator) or `veil decrypt`
 * (discovery without --kms-key, or only that key with it).
 * Region: --region, else AWS_REGION / AWS_DEFAULT_REGION, else the key ARN's, else the profile's.
 * @throws VeilError USAGE for a malformed --region or --endpoint-url, or when a region is needed
 *   and none can be found; KMS_KEY_INVALID for a malformed --kms-key.
 */
export async function createCliKmsKeyring(options: CliKmsOptions): Promise<CliKmsKeyring> {
  const env = options.env ?? process.env;
  const keyName = options.kmsKey === undefined ? undefined : parseKmsKeyName(options.kmsKey);
  if (options.region !== undefined && !REGION.test(options.region)) {
    throw new VeilError('USAGE', `--region "${options.region}" is not a region name`);
  }
  let endpoint: string | undefined;
  if (options.endpointUrl !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(options.endpointUrl);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new VeilError('USAGE', '--endpoint-url must be an absolute http(s) URL');
    }
    endpoint = options.endpointUrl.replace(/\/+$/, '');
  }
  let region =
    options.region ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    (keyName ? regionOfKeyName(keyName) : undefined);
  region ??= await defaultSdkRegion();
  if (region === undefined) {
    // Keys named by ARN carry their region; only a pinned endpoint or a short name needs one.
    if (endpoint !== undefined || (keyName && regionOfKeyName(keyName) === undefined)) {
      throw new VeilError('USAGE', 'no AWS region: pass --region or set AWS_REGION');
    }
    region = 'us-east-1';
  }
  const clients = new AwsClients({ region, endpoints: endpoint ? { kms: endpoint } : {} });
  const keyring = new KmsKeyring(
    keyName
      ? { clients: clients.kmsSupplier(), generatorKeyId: keyName.text }
      : { clients: clients.kmsSupplier(), discovery: true },
  );
  return { keyring, region, close: () => clients.destroy() };
}
