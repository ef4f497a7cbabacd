/**
 * Which key an encrypted object needs, in words a person can act on. The header names each
 * encrypted data key's provider and key (keysNeeded in src/transfer/download.ts); this module
 * turns them into advice per model:
 * - Model A (a raw AES key; provider = the key namespace, e.g. `veil`): the key's name, and the
 *   offer to pick its key file;
 * - Model B (provider `veil-hsm`): the HSM key label, and that a user sign-in is needed;
 * - Model C (provider `aws-kms`): the KMS key ARN, and that the current credentials may not be
 *   allowed to use it.
 * The names come from the unauthenticated header: shown to guide, never trusted, and escaped in
 * the advice text ([Note: untrusted text]); `keyName` keeps the name as the header has it, for
 * matching a picked key file.
 */
import type { Keyring } from '../../core/keyring';
import { createMultiKeyring } from '../../core/multi-keyring';
import { personKeyWords } from '../../core/provider-info';
import { escapeUntrusted } from '../../core/untrusted-text';
import type { NeededKey } from '../../transfer/download';
import { HSM_PROVIDER_ID } from '../../keyrings/hsm-proxy';
import { KMS_PROVIDER_ID } from '../../keyrings/kms';
import type { ModelId } from '../shared/protection';

/** One key the object could be opened with, and what to do about it. */
export interface KeyAdvice {
  readonly model: ModelId;
  readonly providerId: string;
  /** The key name as the header has it (unescaped: compare with it, never show it). */
  readonly keyName: string;
  /** One sentence: which key (its name escaped), and what the user can do. */
  readonly text: string;
}

/** What the session has that bears on the advice. */
export interface SessionFacts {
  /** A user-pool sign-in (Model B needs its ID token). */
  readonly signedIn: boolean;
  /** Names of the Model A keys held (vault and this page). */
  readonly vaultKeyNames: readonly string[];
}

/** The model of an EDK's provider id. */
export function modelOfProvider(providerId: string): ModelId {
  if (providerId === KMS_PROVIDER_ID) return 'C';
  if (providerId === HSM_PROVIDER_ID) return 'B';
  return 'A';
}

/** Advice for each key the header names, Model A keys first (the user can act at once). */
export function keyAdvice(needed: readonly NeededKey[], session: SessionFacts): KeyAdvice[] {
  const order: Record<ModelId, number> = { A: 0, B: 1, C: 2 };
  return needed
    .map((key): KeyAdvice => {
      const model = modelOfProvider(key.providerId);
      const name = key.keyName || '(unnamed)';
      const shown = escapeUntrusted(name);
      const person = personKeyWords(key);
      switch (model) {
        case 'A':
          // A person's key ([Note: a person's key]): no key file opens it, only their key pair.
          if (person) {
            return {
              model,
              providerId: key.providerId,
              keyName: name,
              text: `Needs ${escapeUntrusted(person)}: the file was shared with that person. If it is you, create or restore your key pair in Keys, then try again.`,
            };
          }
          return {
            model,
            providerId: key.providerId,
            keyName: name,
            text: session.vaultKeyNames.includes(key.keyName)
              ? `Your key “${shown}” is in this browser but did not open the file: it may be a different key with the same name. Pick the original key file.`
              : `Needs your key “${shown}” (Model A). Pick its key file to open the file.`,
          };
        case 'B':
          return {
            model,
            providerId: key.providerId,
            keyName: name,
            text: session.signedIn
              ? `Needs the HSM key “${shown}” (Model B). Your account may not be allowed to use it: ask your administrator.`
              : `Needs the HSM key “${shown}” (Model B). Sign in with your user account in Settings, then try again.`,
          };
        case 'C':
          return {
            model,
            providerId: key.providerId,
            keyName: name,
            text: `Needs the AWS KMS key ${shown} (Model C). Your credentials may not be allowed to use it: sign in with an account that may, or ask the key’s administrator.`,
          };
      }
    })
    .sort((a, b) => order[a.model] - order[b.model]);
}

/** True when the advice offers picking a key file (some key is a Model A key). */
export function offersKeyFile(advice: readonly KeyAdvice[]): boolean {
  return advice.some((item) => item.model === 'A' && personKeyWords(item) === undefined);
}

/**
 * Whether a picked key file can be the one the object needs: its name must be one of the Model A
 * key names (namespace and name, as the raw AES keyring matches them).
 */
export function keyFileMatches(
  advice: readonly KeyAdvice[],
  keyFile: { readonly keyName: string; readonly keyNamespace: string },
): boolean {
  return advice.some(
    (item) =>
      item.model === 'A' &&
      item.keyName === keyFile.keyName &&
      item.providerId === keyFile.keyNamespace,
  );
}

/**
 * A download's keyring: the keys picked at a key prompt first, then the session's read keyring
 * ([Note: keys picked at the prompt] in downloads.svelte.ts). Undefined when there is neither.
 */
export function withPrompted(
  prompted: readonly Keyring[],
  base: Keyring | undefined,
): Keyring | undefined {
  const children = base ? [...prompted, base] : [...prompted];
  return children.length === 0 ? undefined : createMultiKeyring({ children });
}
