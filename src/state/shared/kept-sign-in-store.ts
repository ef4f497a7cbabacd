/**
 * Where a kept sign-in lives in this browser: its own IndexedDB database ([Note: stay signed
 * in] in src/aws/stay-signed-in.ts), opened on first use so a page that never keeps a sign-in
 * opens nothing.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { KeptSignInStore } from '../../aws/stay-signed-in';
import { KEPT_SIGN_IN_DB, KEPT_SIGN_IN_STORE } from '../../aws/stay-signed-in';

/** The kept sign-in's store in IndexedDB, opened on first use. */
export function indexedDbKeptStore(): KeptSignInStore {
  let db: UseStore | undefined;
  const store = (): UseStore => (db ??= createStore(KEPT_SIGN_IN_DB, KEPT_SIGN_IN_STORE));
  return {
    get: (key) => get(key, store()),
    set: (key, value) => set(key, value, store()),
    del: (key) => del(key, store()),
  };
}
