/**
 * The multi-keyring: a generator makes the data key and wraps it, then each child wraps the same
 * data key, so one message carries several EDKs (e.g. Model A and a recovery key). On decrypt the
 * keyrings are tried in order until one opens an EDK.
 */
import { VeilError, needs } from './errors';
import type {
  DecryptRequest,
  EncryptRequest,
  EncryptResult,
  EncryptedDataKey,
  Keyring,
} from './keyring';

/** Options of a multi-keyring. */
export interface MultiKeyringOptions {
  /** Produces the data key (or wraps the one given). Required to encrypt. */
  readonly generator?: Keyring;
  /** Each wraps the generator's data key too. */
  readonly children?: readonly Keyring[];
}

/**
 * Builds a keyring from a generator and children.
 * @throws VeilError BAD_ARGUMENT when no keyring is given or an entry is not a keyring.
 */
export function createMultiKeyring(options: MultiKeyringOptions): Keyring {
  const children = [...(options.children ?? [])];
  const all = options.generator ? [options.generator, ...children] : children;
  // Precondition: at least one keyring, each with onEncrypt and onDecrypt.
  needs(all.length > 0, 'BAD_ARGUMENT', 'a multi-keyring needs at least one keyring');
  for (const keyring of all) {
    needs(
      typeof keyring?.onEncrypt === 'function' && typeof keyring.onDecrypt === 'function',
      'BAD_ARGUMENT',
      'keyring',
    );
  }
  const generator = options.generator;
  return {
    async onEncrypt(request: EncryptRequest): Promise<EncryptResult> {
      // Precondition: someone can produce the data key.
      needs(generator || request.dataKey, 'KEYRING_INVALID', 'a multi-keyring without generator');
      const encryptedDataKeys: EncryptedDataKey[] = [];
      let dataKey = request.dataKey;
      if (generator) {
        const generated = await generator.onEncrypt(request);
        dataKey = generated.dataKey;
        encryptedDataKeys.push(...generated.encryptedDataKeys);
      }
      try {
        for (const child of children) {
          const wrapped = await child.onEncrypt({ ...request, dataKey });
          encryptedDataKeys.push(...wrapped.encryptedDataKeys);
        }
      } catch (error) {
        if (dataKey && dataKey !== request.dataKey) dataKey.fill(0);
        throw error;
      }
      if (!dataKey) throw new VeilError('KEYRING_INVALID', 'no data key');
      return { dataKey, encryptedDataKeys };
    },
    async onDecrypt(request: DecryptRequest): Promise<Uint8Array | undefined> {
      let firstError: Error | undefined;
      for (const keyring of all) {
        try {
          const dataKey = await keyring.onDecrypt(request);
          if (dataKey) return dataKey;
        } catch (error) {
          firstError ??=
            error instanceof Error ? error : new VeilError('INTERNAL_ERROR', String(error));
        }
      }
      if (firstError !== undefined) throw firstError;
      return undefined;
    },
  };
}
