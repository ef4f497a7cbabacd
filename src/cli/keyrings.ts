/**
 * Which keyrings a command uses, from its flags: Model A key files (`--key-file`, a JWK or a
 * passphrase backup), the HSM proxy of Model B (`--hsm-proxy URL`, and `--hsm-key LABEL` to
 * encrypt; the user's ID token comes from VEIL_HSM_TOKEN), and AWS KMS for Model C (`--kms-key`,
 * `--region`, `--endpoint-url`). `--key-file`, `--hsm-key` and `--kms-key` may be repeated:
 * every one given is kept.
 *
 * Encrypt: the first KMS key (else the first HSM key, else the first key file) makes the data
 * key; every other key adds an EDK for the same data key (e.g. a KMS key plus a Model A recovery
 * key). Decrypt: every keyring named is tried, in the order key files, HSM, KMS; with none named,
 * KMS discovery opens whichever KMS key the file names.
 */
import { VeilError } from '../core/errors';
import type { Keyring } from '../core/keyring';
import { createMultiKeyring } from '../core/multi-keyring';
import { HsmProxyKeyring } from '../keyrings/hsm-proxy';
import { loadPrivateKeyKeyring } from './decrypt-private-key';
import { loadKeyring } from './key-files';
import { createCliKmsKeyring } from './kms';
import { checkHsmProxyUrl } from './options';

export interface KeyringFlags {
  /** `--key-file`, each one given. */
  readonly keyFiles: readonly string[];
  /** `--private-key-file`, each one given (decrypt only). */
  readonly privateKeyFiles?: readonly string[];
  readonly hsmProxy?: string | undefined;
  /** `--hsm-key`, each one given. */
  readonly hsmKeys: readonly string[];
  /** `--kms-key`, each one given. */
  readonly kmsKeys: readonly string[];
  readonly region?: string | undefined;
  readonly endpointUrl?: string | undefined;
}

/** True when the flags name no key at all (decrypt then relies on KMS discovery). */
export function namesNoKey(flags: KeyringFlags): boolean {
  return (
    flags.keyFiles.length === 0 &&
    (flags.privateKeyFiles ?? []).length === 0 &&
    flags.hsmProxy === undefined &&
    flags.hsmKeys.length === 0 &&
    flags.kmsKeys.length === 0
  );
}

/**
 * The error to report for a failed decryption: NO_MATCHING_EDK becomes NO_KEY_GIVEN when no key
 * was given, since "the key you gave" would then be wrong.
 */
export function explainDecryptFailure(error: unknown, flags: KeyringFlags): unknown {
  if (error instanceof VeilError && error.code === 'NO_MATCHING_EDK' && namesNoKey(flags)) {
    return new VeilError('NO_KEY_GIVEN', error.detail, { cause: error });
  }
  return error;
}

/**
 * The keyring flags for reading: --region and --endpoint-url name where S3 is, and reach KMS
 * only when a --kms-key is given or no key at all (KMS discovery then opens the object).
 */
export function readKeyFlags(keys: KeyringFlags): KeyringFlags {
  if (keys.kmsKeys.length > 0 || namesNoKey(keys)) return keys;
  return { ...keys, region: undefined, endpointUrl: undefined };
}

/**
 * The keyring flags for writing: --region and --endpoint-url name where S3 is, and reach the
 * KMS keyring only when a --kms-key is given (encrypt refuses them otherwise).
 */
export function writeKeyFlags(keys: KeyringFlags): KeyringFlags {
  if (keys.kmsKeys.length > 0) return keys;
  return { ...keys, region: undefined, endpointUrl: undefined };
}

/** A keyring for one command and what to close when the command is done. */
export interface CliKeyring {
  readonly keyring: Keyring;
  close(this: void): void;
}

function hsmKeyring(flags: KeyringFlags, env: NodeJS.ProcessEnv, keyLabel?: string): Keyring {
  const proxyUrl = flags.hsmProxy ?? '';
  checkHsmProxyUrl(proxyUrl);
  const token = env.VEIL_HSM_TOKEN?.trim();
  if (!token) {
    throw new VeilError(
      'USAGE',
      'set VEIL_HSM_TOKEN to your Cognito ID token to use the HSM proxy',
    );
  }
  return new HsmProxyKeyring({ proxyUrl, ...(keyLabel ? { keyLabel } : {}), idToken: () => token });
}

/**
 * The HSM keyrings: to encrypt, one per `--hsm-key` label (each adds an EDK); to decrypt, one
 * that tries every HSM EDK of the file (the proxy's policy decides which labels may be used).
 */
function hsmKeyrings(mode: 'encrypt' | 'decrypt', flags: KeyringFlags, env: NodeJS.ProcessEnv) {
  if (flags.hsmProxy === undefined) return [];
  if (mode === 'decrypt') return [hsmKeyring(flags, env)];
  return flags.hsmKeys.map((keyLabel) => hsmKeyring(flags, env, keyLabel));
}

/**
 * Builds the keyring for `mode` from the flags.
 * @throws VeilError USAGE when the flags name no usable key, or name one incompletely;
 *   HSM_PROXY_INSECURE for an http `--hsm-proxy` off this machine (checkHsmProxyUrl).
 */
export async function cliKeyring(
  mode: 'encrypt' | 'decrypt',
  flags: KeyringFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliKeyring> {
  if (flags.hsmKeys.length > 0 && flags.hsmProxy === undefined) {
    throw new VeilError('USAGE', '--hsm-key needs --hsm-proxy');
  }
  const privateKeyFiles = flags.privateKeyFiles ?? [];
  if (mode === 'encrypt' && privateKeyFiles.length > 0) {
    throw new VeilError('USAGE', '--private-key-file opens files; to encrypt, name another key');
  }
  if (mode === 'encrypt' && flags.hsmProxy !== undefined && flags.hsmKeys.length === 0) {
    throw new VeilError('USAGE', 'to encrypt with the HSM proxy, name the key with --hsm-key');
  }
  const awsFlags =
    flags.kmsKeys.length > 0 || flags.region !== undefined || flags.endpointUrl !== undefined;
  const useKms =
    mode === 'encrypt'
      ? flags.kmsKeys.length > 0
      : awsFlags ||
        (flags.keyFiles.length === 0 &&
          privateKeyFiles.length === 0 &&
          flags.hsmProxy === undefined);
  if (mode === 'encrypt' && awsFlags && flags.kmsKeys.length === 0) {
    throw new VeilError('USAGE', '--region and --endpoint-url apply to --kms-key');
  }

  const closers: (() => void)[] = [];
  const keyrings: Keyring[] = [];
  try {
    const kms = useKms
      ? await createCliKmsKeyring({
          kmsKeys: flags.kmsKeys,
          region: flags.region,
          endpointUrl: flags.endpointUrl,
          env,
        })
      : undefined;
    if (kms) closers.push(() => kms.close());
    const hsm = hsmKeyrings(mode, flags, env);
    const files: Keyring[] = [];
    for (const keyFile of flags.keyFiles) files.push(await loadKeyring(keyFile));
    for (const keyFile of privateKeyFiles) files.push(await loadPrivateKeyKeyring(keyFile));
    const kmsKeyrings = kms ? [kms.keyring] : [];
    const ordered =
      mode === 'encrypt' ? [...kmsKeyrings, ...hsm, ...files] : [...files, ...hsm, ...kmsKeyrings];
    keyrings.push(...ordered);
  } catch (error) {
    for (const close of closers) close();
    throw error;
  }
  if (keyrings.length === 0)
    throw new VeilError(
      'USAGE',
      'name a key: --key-file, --private-key-file, --hsm-proxy or --kms-key',
    );
  const [first, ...rest] = keyrings;
  const keyring =
    rest.length === 0 && first
      ? first
      : mode === 'encrypt'
        ? createMultiKeyring({ generator: first, children: rest })
        : createMultiKeyring({ children: keyrings });
  return { keyring, close: () => closers.forEach((close) => close()) };
}
