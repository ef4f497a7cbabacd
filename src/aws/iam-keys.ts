/**
 * IAM access keys the user pastes: access key id, secret, optional session token. They live in
 * memory unless the user opts in to keep them for this tab's session (sessionStorage, cleared
 * when the tab closes). Never localStorage, never logged, never in UI state beyond a 4-character
 * hint; this module is the only place that touches the stored copy.
 */
import { VeilError } from '../core/errors';
import type { VeilCredentials } from './credentials';

/** Pasted IAM keys. */
export interface IamKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Present for temporary keys (access key ids starting ASIA). */
  readonly sessionToken?: string;
}

/** The sessionStorage entry (one per tab). */
export const IAM_KEYS_STORAGE_KEY = 'veil.iamKeys';

const ACCESS_KEY_ID = /^(AKIA|ASIA)[A-Z0-9]{12,124}$/;
const SECRET = /^[A-Za-z0-9/+=]{16,128}$/;

/**
 * Checks the shape of pasted keys (trimmed), naming the field that is wrong, never its value.
 * @throws VeilError CREDENTIALS_INVALID.
 */
export function parseIamKeys(input: {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}): IamKeys {
  const accessKeyId = input.accessKeyId.trim();
  const secretAccessKey = input.secretAccessKey.trim();
  const sessionToken = input.sessionToken?.trim() ?? '';
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    throw new VeilError('CREDENTIALS_INVALID', 'the access key id should start AKIA or ASIA');
  }
  if (!SECRET.test(secretAccessKey)) {
    throw new VeilError('CREDENTIALS_INVALID', 'the secret access key has an unexpected form');
  }
  if (accessKeyId.startsWith('ASIA') && sessionToken === '') {
    throw new VeilError('CREDENTIALS_INVALID', 'temporary keys (ASIA...) need their session token');
  }
  return sessionToken === ''
    ? { accessKeyId, secretAccessKey }
    : { accessKeyId, secretAccessKey, sessionToken };
}

/** The pasted keys as SDK credentials (they do not expire on their own). */
export function iamKeysProvider(keys: IamKeys): () => Promise<VeilCredentials> {
  return () => Promise.resolve({ ...keys });
}

/** The part of the Web Storage API used here. */
export type KeyStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * Keeps pasted keys: in memory always, in the given session storage only when asked to.
 * Pass `window.sessionStorage` (never localStorage: keys would outlive the tab).
 */
export class IamKeyStore {
  private keys: IamKeys | undefined;

  constructor(private readonly storage: KeyStorage | undefined) {}

  /** Keeps `keys`; `remember` also stores them for this tab's session. */
  save(keys: IamKeys, remember: boolean): void {
    this.keys = keys;
    try {
      if (remember) this.storage?.setItem(IAM_KEYS_STORAGE_KEY, JSON.stringify(keys));
      else this.storage?.removeItem(IAM_KEYS_STORAGE_KEY);
    } catch {
      // Storage may be unavailable (private mode, quota): the keys still work from memory.
    }
  }

  /** The keys in memory, else those remembered for this tab (if still well formed). */
  load(): IamKeys | undefined {
    if (this.keys) return this.keys;
    try {
      const raw = this.storage?.getItem(IAM_KEYS_STORAGE_KEY);
      if (!raw) return undefined;
      const parsed = JSON.parse(raw) as Partial<IamKeys>;
      this.keys = parseIamKeys({
        accessKeyId: String(parsed.accessKeyId ?? ''),
        secretAccessKey: String(parsed.secretAccessKey ?? ''),
        sessionToken: parsed.sessionToken,
      });
      return this.keys;
    } catch {
      this.storage?.removeItem(IAM_KEYS_STORAGE_KEY);
      return undefined;
    }
  }

  /** True when keys are remembered in session storage. */
  remembered(): boolean {
    try {
      return Boolean(this.storage?.getItem(IAM_KEYS_STORAGE_KEY));
    } catch {
      return false;
    }
  }

  /** Forgets the keys everywhere. */
  clear(): void {
    this.keys = undefined;
    try {
      this.storage?.removeItem(IAM_KEYS_STORAGE_KEY);
    } catch {
      // Nothing stored.
    }
  }
}
