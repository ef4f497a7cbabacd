/**
 * Keyrings the vector sets need besides raw AES: the raw RSA keyring of the ESDK (RSA-OAEP with
 * MGF1, provider info = key name, ciphertext = OAEP(data key)) on WebCrypto, decrypt side only.
 * Test-only: Veil itself has no RSA model.
 */
import type { DecryptRequest, Keyring } from '../../../src/core/keyring';

/** Decrypt-only raw RSA keyring from a PKCS#8 PEM private key. */
export async function rsaTestKeyring(options: {
  readonly pem: string;
  readonly keyName: string;
  readonly keyNamespace: string;
  readonly hash: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
}): Promise<Keyring> {
  const der = Buffer.from(
    options.pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''),
    'base64',
  );
  const privateKey = await crypto.subtle.importKey(
    'pkcs8',
    der,
    { name: 'RSA-OAEP', hash: options.hash },
    false,
    ['decrypt'],
  );
  const name = new TextEncoder().encode(options.keyName);
  return {
    onEncrypt: () => Promise.reject(new Error('decrypt-only test keyring')),
    async onDecrypt(request: DecryptRequest): Promise<Uint8Array | undefined> {
      for (const edk of request.encryptedDataKeys) {
        if (edk.providerId !== options.keyNamespace) continue;
        if (Buffer.compare(Buffer.from(edk.providerInfo), Buffer.from(name)) !== 0) continue;
        try {
          return new Uint8Array(
            await crypto.subtle.decrypt({ name: 'RSA-OAEP' }, privateKey, edk.ciphertext.slice()),
          );
        } catch {
          // Next EDK.
        }
      }
      return undefined;
    },
  };
}
