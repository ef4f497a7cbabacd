/**
 * Which keyrings a command uses, from its flags: a Model A key file (`--key-file`), the HSM proxy
 * of Model B (`--hsm-proxy URL`, and `--hsm-key LABEL` to encrypt; the user's ID token comes from
 * VEIL_HSM_TOKEN), and AWS KMS for Model C (`--kms-key`, `--region`, `--endpoint-url`).
 *
 * Encrypt: the first of KMS, HSM, key file makes the data key; the others add EDKs for the same
 * key (e.g. a KMS key plus a Model A recovery key). Decrypt: every keyring named is tried, in
 * the order key file, HSM, KMS; with none named, KMS discovery opens whichever KMS key the file
 * names.
 */
import { VeilError } from '../core/errors';
import type { Keyring } from '../core/keyring';
import { createMultiKeyring } from '../core/multi-keyring';
import { HsmProxyKeyring } from '../keyrings/hsm-proxy';
import { loadKeyring } from './key-files';
import { createCliKmsKeyring } from './kms';

export interface KeyringFlags {
  readonly keyFile?: string | undefined;
  readonly hsmProxy?: string | undefined;
  readonly hsmKey?: string | undefined;
  readonly kmsKey?: string | undefined;
  readonly region?: string | undefined;
  readonly endpointUrl?: string | undefined;
}

/** A keyring for one command and what to close when the command is done. */
export interface CliKeyring {
  readonly keyring: Keyring;
  close(this: void): void;
}

function hsmKeyring(flags: KeyringFlags, env: NodeJS.ProcessEnv, keyLabel?: string): Keyring {
  const proxyUrl = flags.hsmProxy ?? '';
  if (!/^https?:\/\//.test(proxyUrl))
    throw new VeilError('USAGE', '--hsm-proxy must be an http(s) URL');
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
 * Builds the keyring for `mode` from the flags.
 * @throws VeilError USAGE when the flags name no usable key, or name one incompletely.
 */
export async function cliKeyring(
  mode: 'encrypt' | 'decrypt',
  flags: KeyringFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliKeyring> {
  if (flags.hsmKey !== undefined && flags.hsmProxy === undefined) {
    throw new VeilError('USAGE', '--hsm-key needs --hsm-proxy');
  }
  if (mode === 'encrypt' && flags.hsmProxy !== undefined && flags.hsmKey === undefined) {
    throw new VeilError('USAGE', 'to encrypt with the HSM proxy, name the key with --hsm-key');
  }
  const awsFlags = flags.kmsKey ?? flags.region ?? flags.endpointUrl;
  const useKms =
    mode === 'encrypt'
      ? flags.kmsKey !== undefined
      : awsFlags !== undefined || (flags.keyFile === undefined && flags.hsmProxy === undefined);
  if (mode === 'encrypt' && awsFlags !== undefined && flags.kmsKey === undefined) {
    throw new VeilError('USAGE', '--region and --endpoint-url apply to --kms-key');
  }

  const closers: (() => void)[] = [];
  const keyrings: Keyring[] = [];
  try {
    const kms = useKms
      ? await createCliKmsKeyring({
          kmsKey: flags.kmsKey,
          region: flags.region,
          endpointUrl: flags.endpointUrl,
          env,
        })
      : undefined;
    if (kms) closers.push(() => kms.close());
    const hsm = flags.hsmProxy !== undefined ? hsmKeyring(flags, env, flags.hsmKey) : undefined;
    const file = flags.keyFile !== undefined ? await loadKeyring(flags.keyFile) : undefined;
    const ordered = mode === 'encrypt' ? [kms?.keyring, hsm, file] : [file, hsm, kms?.keyring];
    for (const keyring of ordered) if (keyring) keyrings.push(keyring);
  } catch (error) {
    for (const close of closers) close();
    throw error;
  }
  if (keyrings.length === 0)
    throw new VeilError('USAGE', 'name a key: --key-file, --hsm-proxy or --kms-key');
  const [first, ...rest] = keyrings;
  const keyring =
    rest.length === 0 && first
      ? first
      : mode === 'encrypt'
        ? createMultiKeyring({ generator: first, children: rest })
        : createMultiKeyring({ children: keyrings });
  return { keyring, close: () => closers.forEach((close) => close()) };
}
