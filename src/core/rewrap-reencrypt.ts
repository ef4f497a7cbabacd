/**
 * The seam through which a key service makes a rewrap's new EDKs from old ones without the
 * client wrapping the data key ([Note: rewrap and KMS ReEncrypt]); keyrings/kms-reencrypt.ts
 * implements it with KMS ReEncrypt.
 *
 * [Note: rewrap and KMS ReEncrypt] The wish is "move a file from KMS key K1 to K2 so that the
 * plaintext data key never leaves KMS". A rewrap cannot keep that promise: the new header's auth
 * tag is AES-GCM under a key derived (HKDF) from the data key, over the header body, EDK list
 * included (FORMAT.md section 2), and the key commitment is checked with the data key too. Any
 * change of the EDK list needs a new tag, so the data key is unwrapped once in the client, by
 * any key the user holds (`openWith`), whichever way the new EDK is made. What ReEncrypt still
 * gives, and why Veil uses it when it may:
 * - the new EDK is made inside KMS from the old one: the data key is not sent back to KMS to be
 *   wrapped (Encrypt would carry it in the request), so it crosses the network once, not twice;
 * - the caller needs kms:ReEncryptFrom on K1 and kms:ReEncryptTo on K2, not kms:Encrypt on K2,
 *   and CloudTrail records one ReEncrypt that links the two keys;
 * - the encryption context is passed unchanged as source and destination context, so the new
 *   EDK is bound to the same context as the header (KMS checks the source one).
 * When the reEncrypter has no EDK it may use, is refused (access denied) or the endpoint does
 * not offer ReEncrypt, it answers undefined and the rewrap wraps with `addWith` (Encrypt), as
 * for any other key; errors of another kind (the network, a disabled key) fail the rewrap.
 * The new EDK is not unwrapped to check it unless the lock-out check needs it ([Note: rewrap
 * lock-out check] in rewrap-access.ts): KMS made it from the same ciphertext under the same
 * context, and the header is written with the data key the user opened.
 */
import type { DecryptRequest, EncryptedDataKey } from './keyring';

/** Makes EDKs for other keys from EDKs of a header, inside a key service. */
export interface EdkReEncrypter {
  /**
   * New EDKs made from one of `request.encryptedDataKeys` (an old EDK the service may re-encrypt
   * from) under `request.encryptionContext`, or undefined when it cannot (no such EDK, refused,
   * not offered): the rewrap then wraps with `addWith`.
   * @throws on failures other than a refusal (network, key state), which fail the rewrap.
   */
  reEncrypt(request: DecryptRequest): Promise<readonly EncryptedDataKey[] | undefined>;
}
