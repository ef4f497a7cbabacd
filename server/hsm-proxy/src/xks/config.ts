/**
 * The XKS listener's settings: where it listens and its TLS files come from the environment;
 * everything KMS shares with it (path prefix, region, SigV4 credentials) and the key allow-list
 * come from one JSON file, which the proxy reads again on SIGHUP, so credentials rotate without a
 * restart (see ../../README.md, "AWS KMS external key store").
 *
 * File format (JSON; keep it mode 0600, it holds the SigV4 secrets):
 *   { "pathPrefix": "/veil",                      // optional; routes at <prefix>/kms/xks/v1
 *     "region": "eu-central-1",                   // the region of the KMS that signs
 *     "credentials": [ { "accessKeyId": "...", "secretAccessKey": "..." }, ... ],
 *     "keys": { "<externalKeyId>": { "label": "veil-wrap-1",
 *                                    "operations": ["ENCRYPT", "DECRYPT"],
 *                                    "enabled": true,                    // optional
 *                                    "kmsKeyArns": ["arn:aws:kms:..."] } }, // optional
 *     "healthKeyLabel": "veil-xks-health",       // optional: a test key for a deep health check
 *     "fleetSize": 1, "ratePerSecond": 1800, "rateBurst": 3600 }  // optional
 */
import { readFileSync } from 'node:fs';
import { HSM_KEY_LABEL_PATTERN } from '../../../../src/keyrings/hsm-api';

/** One SigV4 credential KMS signs with (XksProxyAuthenticationCredential). */
export interface XksCredential {
  accessKeyId: string;
  secretAccessKey: string;
}

export type XksOperation = 'ENCRYPT' | 'DECRYPT';

/** One external key: the HSM label behind it and what it may do. */
export interface XksKeyRule {
  label: string;
  operations: ReadonlySet<XksOperation>;
  /** A disabled key reports DISABLED and refuses Encrypt and Decrypt (InvalidStateException). */
  enabled: boolean;
  /** When set, only requests for these KMS keys may use it (secondary authorization). */
  kmsKeyArns?: ReadonlySet<string>;
}

export interface XksSettings {
  /** `<prefix>/kms/xks/v1`: the XksProxyUriPath configured in KMS. */
  uriPath: string;
  region: string;
  /** By access key id; two or more during a rotation. */
  credentials: ReadonlyMap<string, XksCredential>;
  keys: ReadonlyMap<string, XksKeyRule>;
  /** The xksProxyFleetSize reported by GetHealthStatus (proxies behind the load balancer). */
  fleetSize: number;
  /**
   * A test key (serving no KMS key, as the spec advises) that GetHealthStatus encrypts and
   * decrypts with; unset, the health check asks the token only.
   */
  healthKeyLabel?: string;
  ratePerSecond: number;
  rateBurst: number;
}

/** Where the XKS listener runs: set only when VEIL_XKS_PORT is. */
export interface XksListenConfig {
  host: string;
  port: number;
  /** The settings file, read at start and again on SIGHUP. */
  settingsFile: string;
  /** PEM files; the XKS API is served over TLS only (the spec requires HTTPS). */
  tls: XksTls;
}

/** The listener's TLS: its certificate, and optionally the clients it accepts (mutual TLS). */
export interface XksTls {
  cert: Buffer;
  key: Buffer;
  /**
   * Mutual TLS: only clients with a certificate chained to `ca` whose subject CN is `subject`
   * (KMS presents `cks.kms.<region>.amazonaws.com`, chained to Amazon Trust Services).
   */
  client?: { ca: Buffer; subject: string };
}

/** The spec's external key id: 1 to 128 of letters, digits, `-`, `.` and `_`. */
export const EXTERNAL_KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
const ACCESS_KEY_ID_PATTERN = /^[A-Z2-7]{20,30}$/;
const SECRET_PATTERN = /^[A-Za-z0-9/+=]{43,64}$/;
const PREFIX_PATTERN = /^(\/[A-Za-z0-9_-]+)*$/;
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const API_PATH = '/kms/xks/v1';

function fail(path: string, message: string): never {
  throw new Error(`XKS settings: ${path} ${message}`);
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(path, 'must be an object');
  return value as Record<string, unknown>;
}

function onlyFields(value: Record<string, unknown>, path: string, allowed: string[]): void {
  const extra = Object.keys(value).find((key) => !allowed.includes(key));
  if (extra) fail(path, `has unknown field "${extra}" (${allowed.join(', ')})`);
}

function count(value: unknown, path: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    fail(path, `must be an integer from 1 to ${max}`);
  return value;
}

function credential(value: unknown, path: string): XksCredential {
  const entry = object(value, path);
  onlyFields(entry, path, ['accessKeyId', 'secretAccessKey']);
  const { accessKeyId, secretAccessKey } = entry;
  if (typeof accessKeyId !== 'string' || !ACCESS_KEY_ID_PATTERN.test(accessKeyId))
    fail(`${path}.accessKeyId`, 'must be 20 to 30 of A-Z and 2-7');
  // The secret itself never appears in a message.
  if (typeof secretAccessKey !== 'string' || !SECRET_PATTERN.test(secretAccessKey))
    fail(
      `${path}.secretAccessKey`,
      'must be 43 to 64 of A-Z a-z 0-9 / + = (openssl rand 32 | base64)',
    );
  return { accessKeyId, secretAccessKey };
}

function keyRule(value: unknown, path: string): XksKeyRule {
  const entry = object(value, path);
  onlyFields(entry, path, ['label', 'operations', 'enabled', 'kmsKeyArns']);
  if (typeof entry.label !== 'string' || !HSM_KEY_LABEL_PATTERN.test(entry.label))
    fail(`${path}.label`, 'must be an HSM key label (1 to 64 of A-Z a-z 0-9 . _ -)');
  const operations = entry.operations;
  if (
    !Array.isArray(operations) ||
    operations.length === 0 ||
    !operations.every((op) => op === 'ENCRYPT' || op === 'DECRYPT')
  )
    fail(`${path}.operations`, 'must list "ENCRYPT", "DECRYPT" or both');
  if (entry.enabled !== undefined && typeof entry.enabled !== 'boolean')
    fail(`${path}.enabled`, 'must be true or false');
  const arns = entry.kmsKeyArns;
  if (
    arns !== undefined &&
    (!Array.isArray(arns) ||
      !arns.every((arn) => typeof arn === 'string' && arn.startsWith('arn:')))
  )
    fail(`${path}.kmsKeyArns`, 'must be a list of KMS key ARNs');
  return {
    label: entry.label,
    operations: new Set(operations as XksOperation[]),
    enabled: entry.enabled ?? true,
    ...(arns ? { kmsKeyArns: new Set(arns as string[]) } : {}),
  };
}

/**
 * Checks a settings document (the parsed JSON file).
 * @throws Error naming the field that is missing or malformed (never a secret's value).
 */
export function parseXksSettings(value: unknown): XksSettings {
  const doc = object(value, 'the file');
  onlyFields(doc, 'the file', [
    'pathPrefix',
    'region',
    'credentials',
    'keys',
    'fleetSize',
    'healthKeyLabel',
    'ratePerSecond',
    'rateBurst',
  ]);
  const prefix = doc.pathPrefix ?? '';
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix))
    fail('pathPrefix', 'must be empty or "/" segments of A-Z a-z 0-9 _ -, with no trailing "/"');
  const uriPath = `${prefix}${API_PATH}`;
  if (uriPath.length > 128)
    fail('pathPrefix', `makes the XksProxyUriPath longer than 128 characters`);
  if (typeof doc.region !== 'string' || !REGION_PATTERN.test(doc.region))
    fail('region', 'must be an AWS region such as "eu-central-1"');
  if (!Array.isArray(doc.credentials) || doc.credentials.length === 0 || doc.credentials.length > 4)
    fail('credentials', 'must list 1 to 4 credentials (2 while rotating)');
  const credentials = new Map<string, XksCredential>();
  doc.credentials.forEach((entry, index) => {
    const parsed = credential(entry, `credentials[${index}]`);
    if (credentials.has(parsed.accessKeyId))
      fail(`credentials[${index}].accessKeyId`, 'is listed twice');
    credentials.set(parsed.accessKeyId, parsed);
  });
  const healthKeyLabel = doc.healthKeyLabel;
  if (
    healthKeyLabel !== undefined &&
    (typeof healthKeyLabel !== 'string' || !HSM_KEY_LABEL_PATTERN.test(healthKeyLabel))
  )
    fail('healthKeyLabel', 'must be an HSM key label (1 to 64 of A-Z a-z 0-9 . _ -)');
  const keys = new Map<string, XksKeyRule>();
  for (const [id, rule] of Object.entries(object(doc.keys, 'keys'))) {
    if (!EXTERNAL_KEY_ID_PATTERN.test(id) || /^\.+$/.test(id))
      fail(
        `keys."${id.slice(0, 40)}"`,
        'is not an external key id (1 to 128 of A-Z a-z 0-9 - . _)',
      );
    keys.set(id, keyRule(rule, `keys.${id}`));
  }
  return {
    uriPath,
    region: doc.region,
    credentials,
    keys,
    fleetSize: count(doc.fleetSize, 'fleetSize', 1, 1000),
    ...(healthKeyLabel === undefined ? {} : { healthKeyLabel }),
    ratePerSecond: count(doc.ratePerSecond, 'ratePerSecond', 1800, 1_000_000),
    rateBurst: count(doc.rateBurst, 'rateBurst', 3600, 1_000_000),
  };
}

/**
 * Reads and checks the settings file.
 * @throws Error when it cannot be read, is not JSON, or a field is malformed.
 */
export function readXksSettings(path: string): XksSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`XKS settings: cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`XKS settings: ${path} is not JSON`);
  }
  return parseXksSettings(value);
}

/**
 * The XKS listener's place in the environment, or undefined when VEIL_XKS_PORT is unset (the
 * XKS API is off). The TLS files default to the proxy's own (VEIL_HSM_TLS_*).
 * @throws Error naming the variable that is missing or malformed.
 */
export function xksListenFromEnv(env: NodeJS.ProcessEnv): XksListenConfig | undefined {
  if (env.VEIL_XKS_PORT === undefined) return undefined;
  const port = Number(env.VEIL_XKS_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error('VEIL_XKS_PORT must be an integer from 0 to 65535');
  const settingsFile = env.VEIL_XKS_SETTINGS_FILE;
  if (!settingsFile) throw new Error('VEIL_XKS_SETTINGS_FILE must be set with VEIL_XKS_PORT');
  const certFile = env.VEIL_XKS_TLS_CERT ?? env.VEIL_HSM_TLS_CERT;
  const keyFile = env.VEIL_XKS_TLS_KEY ?? env.VEIL_HSM_TLS_KEY;
  if (!certFile || !keyFile) {
    throw new Error(
      'the XKS API is served over HTTPS only: set VEIL_XKS_TLS_CERT and VEIL_XKS_TLS_KEY (or VEIL_HSM_TLS_*)',
    );
  }
  const clientCa = env.VEIL_XKS_CLIENT_CA;
  const clientSubject = env.VEIL_XKS_CLIENT_SUBJECT;
  if (Boolean(clientCa) !== Boolean(clientSubject))
    throw new Error('mutual TLS needs both VEIL_XKS_CLIENT_CA and VEIL_XKS_CLIENT_SUBJECT');
  return {
    host: env.VEIL_XKS_HOST ?? env.VEIL_HSM_HOST ?? '127.0.0.1',
    port,
    settingsFile,
    tls: {
      cert: readFileSync(certFile),
      key: readFileSync(keyFile),
      ...(clientCa && clientSubject
        ? { client: { ca: readFileSync(clientCa), subject: clientSubject } }
        : {}),
    },
  };
}
