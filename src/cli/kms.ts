/**
 * The Model C keyring for the command line: `--kms-key ALIAS|ARN [--region R] [--endpoint-url
 * URL]`, `--kms-key` repeatable (to encrypt, the first makes the data key and each other one
 * adds an EDK; to decrypt, any of them may open the file). Credentials come from the SDK's default Node chain (environment variables, shared
 * profiles with AWS_PROFILE, SSO, web identity, container and instance metadata), which the KMS
 * client uses when it is given none (the chain of @aws-sdk/credential-provider-node).
 *
 * Without `--kms-key` the keyring is a discovery keyring (decrypt only): it opens a KMS EDK the
 * file names, with a KMS client in the region of that key's ARN (also through `--endpoint-url`,
 * unless `--region` pins one), only for keys of the caller's account or of VEIL_KMS_ACCOUNTS
 * ([Note: the command line's KMS discovery] in kms-discovery.ts). With `--kms-key` decrypt is strict:
 * an alias or key id is resolved to its key ARN with DescribeKey and only EDKs of that key are
 * tried ([Note: KMS key names] in src/keyrings/kms.ts), which is narrower than an account filter.
 */
import { VeilError } from '../core/errors';
import { parseKmsKeyName, regionOfKeyName } from '../keyrings/kms-arn';
import { KmsKeyring } from '../keyrings/kms';
import { AwsClients, defaultSdkRegion } from '../aws/clients';
import type { KmsClientSupplier } from '../keyrings/kms-api';
import { cliDiscoveryFilter } from './kms-discovery';

/** Flags of the KMS options, as parsed by the command line. */
export interface CliKmsOptions {
  /** `--kms-key`, each one given: alias, alias ARN, key id or key ARN. None: discovery. */
  readonly kmsKeys?: readonly string[] | undefined;
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
  /**
   * The region KMS calls default to (keys named by ARN use their own, unless pinned); undefined
   * in discovery through an endpoint without --region, where each call uses its key ARN's.
   */
  readonly region: string | undefined;
  close(): void;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * A KMS client supplier for discovery through one endpoint without a region: each EDK's ARN
 * names its region, and the endpoint is asked in that region (signed for it).
 */
function perRegionSupplier(endpoint: string): {
  supplier: KmsClientSupplier;
  close: () => void;
} {
  const byRegion = new Map<string, AwsClients>();
  return {
    supplier: (region) => {
      if (region === undefined) return undefined;
      let clients = byRegion.get(region);
      if (!clients) {
        clients = new AwsClients({ region, endpoints: { kms: endpoint } });
        byRegion.set(region, clients);
      }
      return clients.kmsApi(region);
    },
    close: () => byRegion.forEach((clients) => clients.destroy()),
  };
}

/**
 * Builds the Model C keyring for `veil encrypt --kms-key ...` (generator, then more keys) or
 * `veil decrypt` (discovery without --kms-key, or only those keys with it).
 * Region: --region, else AWS_REGION / AWS_DEFAULT_REGION, else the first key ARN's, else the
 * profile's. In discovery without --region, every call goes to the region of the ARN it is for.
 * @throws VeilError USAGE for a malformed --region or --endpoint-url, or when a region is needed
 *   and none can be found; KMS_KEY_INVALID for a malformed --kms-key.
 */
export async function createCliKmsKeyring(options: CliKmsOptions): Promise<CliKmsKeyring> {
  const env = options.env ?? process.env;
  const keyNames = (options.kmsKeys ?? []).map((text) => parseKmsKeyName(text));
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
  const [generator, ...others] = keyNames;
  if (generator === undefined && endpoint !== undefined && options.region === undefined) {
    // Discovery through one endpoint: the region comes from each EDK's key ARN.
    const { supplier, close } = perRegionSupplier(endpoint);
    const keyring = new KmsKeyring({
      clients: supplier,
      discovery: true,
      discoveryFilter: cliDiscoveryFilter(env, { region: undefined, endpoint }),
    });
    return { keyring, region: undefined, close };
  }
  const arnRegion = keyNames.map(regionOfKeyName).find((region) => region !== undefined);
  let region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? arnRegion;
  region ??= await defaultSdkRegion();
  if (region === undefined) {
    // Keys named by ARN carry their region; only a pinned endpoint or a short name needs one.
    if (
      endpoint !== undefined ||
      keyNames.some((keyName) => regionOfKeyName(keyName) === undefined)
    ) {
      throw new VeilError('USAGE', 'no AWS region: pass --region or set AWS_REGION');
    }
    region = 'us-east-1';
  }
  const clients = new AwsClients({ region, endpoints: endpoint ? { kms: endpoint } : {} });
  const keyring = new KmsKeyring(
    generator
      ? {
          clients: clients.kmsSupplier(),
          generatorKeyId: generator.text,
          keyIds: others.map((keyName) => keyName.text),
        }
      : {
          clients: clients.kmsSupplier(),
          discovery: true,
          discoveryFilter: cliDiscoveryFilter(env, { region, endpoint }),
        },
  );
  return { keyring, region, close: () => clients.destroy() };
}
