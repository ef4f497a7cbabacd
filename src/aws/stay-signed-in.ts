/**
 * [Note: stay signed in] "Stay signed in on this device" keeps a user-pool sign-in across
 * reloads. What is kept is the refresh token (and the user name), sealed with AES-256-GCM under a
 * key made for it with `extractable: false`, both in IndexedDB (database `veil-sign-in`, store
 * `kept`): the key as a CryptoKey (IndexedDB keeps it without ever exposing its bytes to page
 * script) and beside it only `{ v, iv, ciphertext }`. No token, user name or date is stored in
 * clear. The AAD names the user pool and app client, so a blob is refused under another pool.
 *
 * What it protects against, and what not: the blob alone (a copied IndexedDB file, a backup, a
 * scan of storage) does not reveal the token; but anyone who can run this browser profile can
 * use the key through WebCrypto and so act as the user until the token expires (the app client's
 * refresh token lifetime, 30 days unless the pool's administrator chose another) or the user
 * signs out. That is why it is off by default and the risk is said next to the checkbox.
 *
 * On load the token goes to InitiateAuth REFRESH_TOKEN_AUTH (user-pool.ts) for new ID tokens, and
 * those to the identity pool. A blob that does not open (changed, damaged, another pool) is
 * removed, key and all, with SIGN_IN_KEPT_UNREADABLE; a token the pool refuses (expired,
 * revoked) is removed with SIGN_IN_KEPT_ENDED. Sign-out removes both the blob and the key.
 */
import { fromUtf8, utf8 } from '../core/bytes';
import { VeilError } from '../core/errors';

/** The key-value calls the store needs (idb-keyval's, bound to one object store, or a Map). */
export interface KeptSignInStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
}

/** What a kept sign-in holds once opened. Never stored in clear. */
export interface KeptSignIn {
  readonly username: string;
  readonly refreshToken: string;
}

/** The user pool and app client a kept sign-in belongs to (bound in as AAD). */
export interface KeptSignInPool {
  readonly userPoolId: string;
  readonly userPoolClientId: string;
}

/** The IndexedDB database and object store of the kept sign-in. */
export const KEPT_SIGN_IN_DB = 'veil-sign-in';
export const KEPT_SIGN_IN_STORE = 'kept';
/** The entries: the non-extractable key and the sealed blob. */
export const KEPT_KEY_ENTRY = 'key';
export const KEPT_BLOB_ENTRY = 'blob';

const VERSION = 1;
const IV_BYTES = 12;

/** The sealed record as stored. */
interface SealedBlob {
  readonly v: number;
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
}

function aad(pool: KeptSignInPool): Uint8Array<ArrayBuffer> {
  return utf8(
    `veil stay-signed-in v${VERSION}\n${pool.userPoolId}\n${pool.userPoolClientId}`,
  ) as Uint8Array<ArrayBuffer>;
}

function isSealedBlob(value: unknown): value is SealedBlob {
  const blob = value as Partial<SealedBlob> | null;
  return (
    typeof blob === 'object' &&
    blob !== null &&
    blob.v === VERSION &&
    blob.iv instanceof Uint8Array &&
    blob.iv.length === IV_BYTES &&
    blob.ciphertext instanceof Uint8Array &&
    blob.ciphertext.length > 16
  );
}

function isKeptKey(value: unknown): value is CryptoKey {
  return (
    typeof CryptoKey !== 'undefined' &&
    value instanceof CryptoKey &&
    !value.extractable &&
    value.algorithm.name === 'AES-GCM' &&
    value.usages.includes('decrypt')
  );
}

/**
 * Seals `kept` under a new non-extractable AES-GCM key and stores key and blob, replacing any
 * earlier ones. The refresh token is the only secret written, and only as ciphertext.
 * @throws VeilError BAD_ARGUMENT for an empty user name or token.
 */
export async function keepSignIn(
  store: KeptSignInStore,
  pool: KeptSignInPool,
  kept: KeptSignIn,
): Promise<void> {
  // Precondition: a user name and a refresh token to keep.
  if (!kept.username || !kept.refreshToken) {
    throw new VeilError('BAD_ARGUMENT', 'a kept sign-in needs a user name and a refresh token');
  }
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const plain = utf8(JSON.stringify({ u: kept.username, r: kept.refreshToken }));
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad(pool) },
      key,
      plain as Uint8Array<ArrayBuffer>,
    ),
  );
  plain.fill(0);
  const blob: SealedBlob = { v: VERSION, iv, ciphertext };
  // The blob goes first: a blob without its key is refused and removed, never misread.
  await store.del(KEPT_KEY_ENTRY);
  await store.set(KEPT_BLOB_ENTRY, blob);
  await store.set(KEPT_KEY_ENTRY, key);
}

/** Removes the kept sign-in: the sealed blob and its key. Never throws for a missing entry. */
export async function forgetKeptSignIn(store: KeptSignInStore): Promise<void> {
  await store.del(KEPT_BLOB_ENTRY);
  await store.del(KEPT_KEY_ENTRY);
}

/** True when a sealed blob is stored (opened or not). */
export async function hasKeptSignIn(store: KeptSignInStore): Promise<boolean> {
  return (await store.get(KEPT_BLOB_ENTRY)) !== undefined;
}

/**
 * Opens the kept sign-in, or undefined when none is kept.
 * @throws VeilError SIGN_IN_KEPT_UNREADABLE when the blob or its key is missing, malformed,
 *   altered, or sealed for another pool; both are removed first.
 */
export async function readKeptSignIn(
  store: KeptSignInStore,
  pool: KeptSignInPool,
): Promise<KeptSignIn | undefined> {
  const blob = await store.get(KEPT_BLOB_ENTRY);
  const key = await store.get(KEPT_KEY_ENTRY);
  if (blob === undefined && key === undefined) return undefined;
  const refuse = async (why: string): Promise<never> => {
    await forgetKeptSignIn(store);
    throw new VeilError('SIGN_IN_KEPT_UNREADABLE', why);
  };
  if (!isSealedBlob(blob)) return refuse('the stored record is missing or malformed');
  if (!isKeptKey(key)) return refuse('its key is missing or not a sealed AES-GCM key');
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: blob.iv as Uint8Array<ArrayBuffer>, additionalData: aad(pool) },
        key,
        blob.ciphertext as Uint8Array<ArrayBuffer>,
      ),
    );
  } catch {
    return refuse('it failed authentication');
  }
  try {
    const parsed = JSON.parse(fromUtf8(plain, 'kept sign-in')) as { u?: unknown; r?: unknown };
    if (typeof parsed.u === 'string' && parsed.u && typeof parsed.r === 'string' && parsed.r) {
      return { username: parsed.u, refreshToken: parsed.r };
    }
  } catch {
    // Falls through to the refusal below.
  } finally {
    plain.fill(0);
  }
  return refuse('its content is not a sign-in');
}
