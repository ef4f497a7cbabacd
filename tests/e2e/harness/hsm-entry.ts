/**
 * Browser harness for Model B: the HSM-proxy keyring and the core, run in Chromium against the
 * real proxy (fetch with the user's ID token, CORS from a trusted origin).
 */
import { decryptBytes, encryptBytes, parseHeaderBytes } from '../../../src/core';
import { VeilError } from '../../../src/core/errors';
import { HsmProxyKeyring, listHsmKeyLabels } from '../../../src/keyrings/hsm-proxy';

export interface RoundTrip {
  ok: boolean;
  providerIds: string[];
  labels: string[];
}

/** Encrypts `sizeBytes` random bytes under `keyLabel`, decrypts them again, compares. */
export async function roundTrip(
  proxyUrl: string,
  idToken: string,
  keyLabel: string,
  sizeBytes: number,
): Promise<RoundTrip> {
  const plaintext = new Uint8Array(sizeBytes);
  for (let offset = 0; offset < sizeBytes; offset += 65536) {
    crypto.getRandomValues(plaintext.subarray(offset, Math.min(sizeBytes, offset + 65536)));
  }
  const keyring = new HsmProxyKeyring({ proxyUrl, keyLabel, idToken: () => idToken });
  const message = await encryptBytes(plaintext, {
    keyring,
    encryptionContext: { 'veil-purpose': 'browser-test' },
    frameBytes: 65536,
  });
  const opened = await decryptBytes(message, {
    keyring: new HsmProxyKeyring({ proxyUrl, idToken: () => idToken }),
  });
  const same =
    opened.length === plaintext.length && opened.every((byte, i) => byte === plaintext[i]);
  return {
    ok: same,
    providerIds: parseHeaderBytes(message).encryptedDataKeys.map((edk) => edk.providerId),
    labels: await listHsmKeyLabels({ proxyUrl, idToken: () => idToken }),
  };
}

/** The catalogue code an encryption under `keyLabel` fails with, or 'none'. */
export async function encryptError(
  proxyUrl: string,
  idToken: string,
  keyLabel: string,
): Promise<string> {
  try {
    await encryptBytes(new Uint8Array(10), {
      keyring: new HsmProxyKeyring({ proxyUrl, keyLabel, idToken: () => idToken, attempts: 1 }),
    });
    return 'none';
  } catch (error) {
    return error instanceof VeilError ? error.code : String(error);
  }
}
