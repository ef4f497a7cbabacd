/**
 * The header of a message as `veil inspect` prints it and the app's Files details show it: a
 * JSON-friendly view (version, suite, message id, encryption context, EDKs with the raw AES key
 * name ([Note: raw AES provider info] in provider-info.ts) or readable provider info, frame
 * length). Pure.
 *
 * Every text taken from the header (context keys and values, provider ids, key names, provider
 * info) is passed through escapeUntrusted ([Note: untrusted text]): the header is not
 * authenticated when it is shown, so C1 controls and bidirectional overrides in it are shown as
 * `\uXXXX` escapes instead of reaching the terminal or the page.
 */
import { toBase64 } from './bytes';
import type { MessageHeader } from './header';
import type { EncryptedDataKey } from './keyring';
import { neededKeyOf, parseRawAesProviderInfo, personKeyWords } from './provider-info';
import { suiteName } from './suites';
import { escapeUntrusted } from './untrusted-text';

/** What each suite Veil reads is, in words. */
export const SUITE_DESCRIPTIONS: Readonly<Record<number, string>> = {
  0x0478: 'AES-256-GCM, HKDF-SHA512, key commitment',
  0x0578: 'AES-256-GCM, HKDF-SHA512, key commitment, ECDSA P-384 signature',
};

function describeEdk(edk: EncryptedDataKey): Record<string, unknown> {
  const info = edk.providerInfo;
  const out: Record<string, unknown> = {
    providerId: escapeUntrusted(edk.providerId),
    providerInfo: toBase64(info),
    ciphertextBytes: edk.ciphertext.length,
  };
  const rawAes = parseRawAesProviderInfo(info);
  if (rawAes) {
    out.rawAesKeyName = escapeUntrusted(rawAes.keyName);
  } else {
    try {
      out.providerInfoText = escapeUntrusted(
        new TextDecoder('utf-8', { fatal: true }).decode(info),
      );
    } catch {
      // Binary provider info: the base64 above is all there is to show.
    }
    const person = personKeyWords(neededKeyOf(edk));
    if (person) out.keyKind = escapeUntrusted(person);
  }
  return out;
}

/**
 * The encryption context with its keys and values escaped ([Note: untrusted text]); built with
 * Object.fromEntries, so a key named `__proto__` stays a plain property.
 */
function describeContext(context: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(context).map(([key, value]) => [escapeUntrusted(key), escapeUntrusted(value)]),
  );
}

/** The JSON view of a header; its texts are escaped ([Note: untrusted text]). */
export function describeHeader(
  header: MessageHeader,
  authenticated: boolean,
): Record<string, unknown> {
  return {
    version: header.version,
    suiteId: suiteName(header.suiteId),
    suite: SUITE_DESCRIPTIONS[header.suiteId],
    messageId: toBase64(header.messageId),
    encryptionContext: describeContext(header.encryptionContext),
    encryptedDataKeys: header.encryptedDataKeys.map(describeEdk),
    contentType: header.contentType,
    frameBytes: header.frameBytes,
    headerBytes: header.headerBytes,
    headerAuthenticated: authenticated,
  };
}
