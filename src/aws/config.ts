/**
 * Veil's runtime configuration, read from `config.json` at start (see [Note: runtime config] in
 * vite.config.ts). One build serves many deployments; this module validates the file and gives
 * one error naming the first wrong field.
 */
import { VeilError } from '../core/errors';
import { PADDING_SCHEMES, type PaddingScheme } from '../core/padding';
import { parseKmsKeyName } from '../keyrings/kms-arn';

/** Per-service endpoint overrides, for the local stack or VPC endpoints. Absent means AWS. */
export interface Endpoints {
  s3?: string;
  kms?: string;
  cognitoIdentity?: string;
  cognitoIdentityProvider?: string;
}

export interface CognitoConfig {
  /** The identity pool that hands out temporary credentials (guest and/or authenticated). */
  identityPoolId: string;
  /** Optional user pool for username/password login (authenticated identities). */
  userPoolId?: string;
  userPoolClientId?: string;
  /** Optional hosted UI (OAuth 2.0 code flow with PKCE, see src/aws/oidc.ts); needs the user pool. */
  hostedUi?: HostedUiSettings;
}

export interface HostedUiSettings {
  /** The user pool domain, an absolute https URL (http only for a loopback host). */
  domain: string;
  /** Registered redirect URI; default: the app's own URL without query or fragment. */
  redirectUri?: string;
  /** OAuth scopes; default `openid email profile`. */
  scopes: string[];
  /** A federated identity provider name to go to directly (SSO). */
  identityProvider?: string;
}

export interface KmsConfig {
  /** The KMS key for Model C: alias name (`alias/...`), alias ARN, key id or key ARN. */
  keyId: string;
}

export interface HsmConfig {
  /** Base URL of the HSM proxy for Model B, e.g. `https://hsm.example.org`. */
  proxyUrl: string;
  /** Label of the HSM-resident wrapping key to use by default. */
  keyLabel: string;
}

/**
 * One place files can go: a bucket in a region, under a prefix. config.json's top-level
 * `region`/`bucket`/`prefix` are the default target; `targets` may list more.
 */
export interface StorageTarget {
  region: string;
  bucket: string;
  /** Key prefix, '' or ending in '/'; may hold {identityId} (see [Note: per-identity prefix]). */
  prefix: string;
  /** A name to show for this target; default `bucket · region`. */
  label?: string;
  /**
   * Encrypt file and folder names under this target ([Note: private names] in core/names.ts):
   * the names key is created on the first upload. Absent means false; a target whose bucket
   * already holds a names key is private whatever this says ([Note: names key object]).
   */
  privateNames?: boolean;
  /**
   * Pad every new file under this target to a bucketed size ([Note: size padding] in
   * core/padding.ts): `"padme"`. Absent means off (Settings may turn it on in one browser).
   */
  padding?: PaddingScheme;
}

export interface VeilConfig {
  /** The default target's region (the first of `targets`). */
  region: string;
  /** The default target's bucket (the first of `targets`). */
  bucket: string;
  /**
   * The default target's key prefix inside the bucket under which Veil lists and writes objects
   * ('' for the root). It may hold `{identityId}`: build object keys with `objectPrefix`.
   */
  prefix: string;
  /**
   * The default target's private names (see StorageTarget.privateNames); absent means false.
   * config.example.json sets it: on by default for new deployments.
   */
  privateNames?: boolean;
  /** The default target's size padding (see StorageTarget.padding); absent means off. */
  padding?: PaddingScheme;
  /**
   * Every configured target, the default first, when config.json lists `targets`; absent when it
   * lists none (then the default is the only one). Read it through `targetsOf`.
   */
  targets?: StorageTarget[];
  endpoints: Endpoints;
  /** Path-style S3 addressing (`endpoint/bucket/key`), needed by local S3 servers. */
  forcePathStyle: boolean;
  cognito?: CognitoConfig;
  kms?: KmsConfig;
  hsm?: HsmConfig;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(path: string, expected: string): never {
  throw new VeilError('CONFIG_INVALID', `${path}: expected ${expected}`);
}

function str(obj: Json, key: string, path: string, pattern?: RegExp): string {
  const value = obj[key];
  if (typeof value !== 'string' || value.length === 0) fail(`${path}${key}`, 'a non-empty string');
  if (pattern && !pattern.test(value)) fail(`${path}${key}`, `a value matching ${pattern.source}`);
  return value;
}

function optStr(obj: Json, key: string, path: string, pattern?: RegExp): string | undefined {
  return obj[key] === undefined ? undefined : str(obj, key, path, pattern);
}

/** Hosts plain http is allowed for: this machine only (the local stack, a local proxy). */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

const URL_EXPECTED = 'an absolute https URL (http only for 127.0.0.1, localhost or [::1])';

/**
 * An endpoint URL: https, or http on a loopback host (anything else would send credentials,
 * wrapped keys or data keys in clear); a literal host, since a wildcard would widen the content
 * security policy (src/hosting/csp.ts) to hosts nobody configured.
 */
function url(obj: Json, key: string, path: string): string | undefined {
  const value = optStr(obj, key, path);
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    fail(`${path}${key}`, URL_EXPECTED);
  }
  const loopback = LOOPBACK_HOSTS.has(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    fail(`${path}${key}`, URL_EXPECTED);
  }
  if (parsed.host.includes('*')) {
    fail(`${path}${key}`, 'a URL with one exact host (no wildcard)');
  }
  return value.replace(/\/+$/, '');
}

function section(obj: Json, key: string): Json | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (!isObject(value)) fail(key, 'an object');
  return value;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** The placeholder a prefix may hold (see [Note: per-identity prefix]). */
export const IDENTITY_PLACEHOLDER = '{identityId}';
// S3 bucket naming rules (general purpose buckets), without the IP-address exclusion.
const BUCKET = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IDENTITY_POOL = /^[a-z]{2}(-[a-z]+)+-\d+:[0-9a-f-]+$/;

function parseHostedUi(cognito: Json): HostedUiSettings | undefined {
  const raw = cognito.hostedUi;
  if (raw === undefined) return undefined;
  if (!isObject(raw)) fail('cognito.hostedUi', 'an object');
  const path = 'cognito.hostedUi.';
  const domain = url(raw, 'domain', path);
  if (domain === undefined) fail(`${path}domain`, URL_EXPECTED);
  const scopesRaw = raw.scopes ?? ['openid', 'email', 'profile'];
  if (
    !Array.isArray(scopesRaw) ||
    scopesRaw.length === 0 ||
    !scopesRaw.every(
      (scope) => typeof scope === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope),
    )
  ) {
    fail(`${path}scopes`, 'a non-empty list of scope names');
  }
  const settings: HostedUiSettings = { domain, scopes: scopesRaw as string[] };
  // Kept exactly as written: it must equal the URI registered on the app client.
  const redirectUri = optStr(raw, 'redirectUri', path);
  if (redirectUri !== undefined) {
    if (url(raw, 'redirectUri', path) === undefined) fail(`${path}redirectUri`, 'a URL');
    settings.redirectUri = redirectUri;
  }
  const identityProvider = optStr(raw, 'identityProvider', path);
  if (identityProvider !== undefined) settings.identityProvider = identityProvider;
  return settings;
}

/**
 * [Note: per-identity prefix] A team that confines each Cognito identity to its own folder (the
 * authenticated role of infra/ allows only `users/${cognito-identity.amazonaws.com:sub}/*`) sets
 * `"prefix": "users/{identityId}/"`. The app then lists and writes under the caller's identity
 * id, which it knows once it has identity-pool credentials: `objectPrefix(target.prefix, id)`.
 * A prefix without the placeholder is used as written.
 */
function parsePrefix(value: unknown, path: string): string {
  const prefixValue = value ?? '';
  if (typeof prefixValue !== 'string' || prefixValue.startsWith('/')) {
    fail(path, 'a string that does not start with "/"');
  }
  const rest = prefixValue.split(IDENTITY_PLACEHOLDER).join('');
  if (/[{}]/.test(rest)) fail(path, `a prefix whose only placeholder is ${IDENTITY_PLACEHOLDER}`);
  return prefixValue === '' || prefixValue.endsWith('/') ? prefixValue : `${prefixValue}/`;
}

/** The optional padding scheme field: undefined when absent. */
function optPadding(obj: Json, key: string, path: string): PaddingScheme | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  const scheme = PADDING_SCHEMES.find((known) => known === value);
  if (!scheme) fail(`${path}${key}`, PADDING_SCHEMES.map((s) => `"${s}"`).join(' or '));
  return scheme;
}

/** An optional boolean field: undefined when absent (so configs without it parse as before). */
function optFlag(obj: Json, key: string, path: string): boolean | undefined {
  const value = obj[key];
  if (value !== undefined && typeof value !== 'boolean') fail(`${path}${key}`, 'true or false');
  return value;
}

function parseTargets(value: unknown, first: StorageTarget): StorageTarget[] {
  const targets = [first];
  if (!Array.isArray(value)) {
    fail('targets', 'a list of { region, bucket, prefix?, label?, privateNames? }');
  }
  value.forEach((entry: unknown, index) => {
    const path = `targets[${index}].`;
    if (!isObject(entry)) fail(`targets[${index}]`, 'an object');
    const target: StorageTarget = {
      region: str(entry, 'region', path, REGION),
      bucket: str(entry, 'bucket', path, BUCKET),
      prefix: parsePrefix(entry.prefix, `${path}prefix`),
    };
    const label = optStr(entry, 'label', path);
    if (label !== undefined) target.label = label;
    const privateNames = optFlag(entry, 'privateNames', path);
    if (privateNames !== undefined) target.privateNames = privateNames;
    const padding = optPadding(entry, 'padding', path);
    if (padding !== undefined) target.padding = padding;
    if (targets.some((t) => t.bucket === target.bucket && t.prefix === target.prefix)) {
      fail(`${path}bucket`, 'a bucket and prefix not listed before');
    }
    targets.push(target);
  });
  return targets;
}

/** Every target files can go to, the default (config.region/bucket/prefix) first. */
export function targetsOf(config: VeilConfig): StorageTarget[] {
  if (config.targets) return config.targets;
  const target: StorageTarget = {
    region: config.region,
    bucket: config.bucket,
    prefix: config.prefix,
  };
  if (config.privateNames !== undefined) target.privateNames = config.privateNames;
  if (config.padding !== undefined) target.padding = config.padding;
  return [target];
}

/**
 * The key prefix to list and write under for `prefix` (a target's), filling in the caller's
 * Cognito identity id (see [Note: per-identity prefix]).
 * @throws VeilError CREDENTIALS_MISSING when the prefix needs an identity id and none is given.
 */
export function objectPrefix(prefix: string, identityId?: string): string {
  if (!prefix.includes(IDENTITY_PLACEHOLDER)) return prefix;
  if (!identityId) {
    throw new VeilError(
      'CREDENTIALS_MISSING',
      'this deployment keeps each user’s files in their own folder: connect with the identity pool in Settings first',
    );
  }
  return prefix.split(IDENTITY_PLACEHOLDER).join(identityId);
}

/**
 * Validates parsed config.json content.
 * @throws VeilError CONFIG_INVALID naming the first field that is wrong.
 */
export function parseConfig(raw: unknown): VeilConfig {
  if (!isObject(raw)) fail('config.json', 'a JSON object');
  const region = str(raw, 'region', '', REGION);
  const bucket = str(raw, 'bucket', '', BUCKET);
  const prefix = parsePrefix(raw.prefix, 'prefix');
  const privateNames = optFlag(raw, 'privateNames', '');
  const padding = optPadding(raw, 'padding', '');
  const first: StorageTarget = { region, bucket, prefix };
  if (privateNames !== undefined) first.privateNames = privateNames;
  if (padding !== undefined) first.padding = padding;
  const targets = raw.targets === undefined ? undefined : parseTargets(raw.targets, first);

  const endpointsRaw = section(raw, 'endpoints') ?? {};
  const endpoints: Endpoints = {};
  for (const key of ['s3', 'kms', 'cognitoIdentity', 'cognitoIdentityProvider'] as const) {
    const value = url(endpointsRaw, key, 'endpoints.');
    if (value !== undefined) endpoints[key] = value;
  }

  const forcePathStyle = raw.forcePathStyle ?? false;
  if (typeof forcePathStyle !== 'boolean') fail('forcePathStyle', 'true or false');

  const config: VeilConfig = { region, bucket, prefix, endpoints, forcePathStyle };
  if (privateNames !== undefined) config.privateNames = privateNames;
  if (padding !== undefined) config.padding = padding;
  if (targets) config.targets = targets;

  const cognito = section(raw, 'cognito');
  if (cognito) {
    config.cognito = { identityPoolId: str(cognito, 'identityPoolId', 'cognito.', IDENTITY_POOL) };
    const userPoolId = optStr(cognito, 'userPoolId', 'cognito.');
    const userPoolClientId = optStr(cognito, 'userPoolClientId', 'cognito.');
    if ((userPoolId === undefined) !== (userPoolClientId === undefined)) {
      fail('cognito.userPoolClientId', 'both userPoolId and userPoolClientId, or neither');
    }
    if (userPoolId && userPoolClientId)
      Object.assign(config.cognito, { userPoolId, userPoolClientId });
    const hostedUi = parseHostedUi(cognito);
    if (hostedUi) {
      if (!userPoolClientId)
        fail('cognito.hostedUi', 'a user pool (userPoolId and userPoolClientId)');
      config.cognito.hostedUi = hostedUi;
    }
  }

  const kms = section(raw, 'kms');
  if (kms) {
    const keyId = str(kms, 'keyId', 'kms.');
    try {
      // The keyring's own parser: the four forms, ARNs down to their region, account and id.
      parseKmsKeyName(keyId);
    } catch {
      fail('kms.keyId', 'an alias (alias/...), alias ARN, key id or key ARN');
    }
    config.kms = { keyId };
  }

  const hsm = section(raw, 'hsm');
  if (hsm) {
    const proxyUrl = url(hsm, 'proxyUrl', 'hsm.');
    if (proxyUrl === undefined) fail('hsm.proxyUrl', URL_EXPECTED);
    config.hsm = { proxyUrl, keyLabel: str(hsm, 'keyLabel', 'hsm.') };
  }
  return config;
}

/**
 * Fetches and validates `config.json` next to the app.
 * @throws VeilError CONFIG_MISSING when it cannot be fetched or is not JSON; CONFIG_INVALID when a field is wrong.
 */
export async function loadConfig(
  fetcher: typeof fetch,
  url = './config.json',
): Promise<VeilConfig> {
  let raw: unknown;
  try {
    const response = await fetcher(url, { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    raw = await response.json();
  } catch (cause) {
    throw new VeilError('CONFIG_MISSING', cause instanceof Error ? cause.message : undefined, {
      cause,
    });
  }
  return parseConfig(raw);
}
