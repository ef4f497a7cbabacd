/**
 * [Note: location binding] Every object Veil writes is bound to where it is stored: its bucket
 * and its object key. Without it, storage that can rename or copy objects could swap two files
 * under each other's names, or move one elsewhere, and both would still decrypt.
 *
 * The binding is one extra EDK in the header, after the real keys:
 *
 * | field          | value                                                              |
 * | -------------- | ------------------------------------------------------------------ |
 * | provider id    | `veil-location`                                                    |
 * | provider info  | `v1`                                                               |
 * | ciphertext     | HMAC-SHA-256(location key, "veil-location-v1" ‖ u16 len ‖ bucket ‖ u16 len ‖ key) |
 *
 * The location key is derived from the data key and the message id ([Note: location key] in
 * kdf.ts), so only a holder of a key that opens the object can make or check the tag, and the
 * tag reveals nothing about the name (it is a MAC, not the name). The header auth tag covers the
 * EDK list, so the binding cannot be removed, changed or added without the data key.
 *
 * Why an EDK and not an encryption context pair: the context is chosen before the data key
 * exists (KMS GenerateDataKey takes it), it is stored and logged in clear, and every model's
 * wrap is bound to it, so changing it on a rename would need every key again. An EDK is made
 * after the data key, is opaque, and official ESDKs skip EDKs of a provider they were not given
 * (raw AES and KMS keyrings filter by provider id), so `aws-encryption-sdk` readers decrypt a
 * bound object with nothing to supply. A rename replaces this one EDK by rewrap (the data key is
 * opened with any key of the object; the other EDKs and the body stay as they are).
 *
 * Not detected: rollback to an older version of the same object under the same key; both are
 * bound to that location. Versioned buckets show their versions instead.
 */
import { asBufferSource, concatBytes, constantTimeEqual, u16, utf8 } from './bytes';
import { VeilError, needs } from './errors';
import type { MessageHeader } from './header';
import type { EncryptedDataKey } from './keyring';

/** The provider id of the binding EDK. */
export const LOCATION_PROVIDER_ID = 'veil-location';

const LOCATION_INFO = utf8('v1');
const TAG_LABEL = utf8('veil-location-v1');
const TAG_BYTES = 32;

/** Where an object is stored. */
export interface ObjectLocation {
  readonly bucket: string;
  /** The object key exactly as stored (for private names, the encrypted key). */
  readonly key: string;
}

/** How strictly a reader treats an object without a binding. */
export type BindingRule =
  /** Objects must be bound here (a private-names location): a missing binding is a mismatch. */
  | 'required'
  /** Bound objects are checked; unbound ones (written before bindings) are let through. */
  | 'if-present';

/** What a binding check found. */
export type BindingState = 'bound' | 'unbound';

/** True for the binding EDK (never a key that opens anything). */
export function isLocationEdk(edk: Pick<EncryptedDataKey, 'providerId'>): boolean {
  return edk.providerId === LOCATION_PROVIDER_ID;
}

function locationBytes(location: ObjectLocation): Uint8Array {
  // Precondition: a bucket and a key, each short enough for a u16 length.
  needs(typeof location?.bucket === 'string' && location.bucket !== '', 'BAD_ARGUMENT', 'bucket');
  needs(typeof location.key === 'string' && location.key !== '', 'BAD_ARGUMENT', 'object key');
  const bucket = utf8(location.bucket);
  const key = utf8(location.key);
  needs(bucket.length <= 0xffff && key.length <= 0xffff, 'OUT_OF_RANGE', 'location');
  return concatBytes(TAG_LABEL, u16(bucket.length), bucket, u16(key.length), key);
}

async function locationTag(locationKey: CryptoKey, location: ObjectLocation): Promise<Uint8Array> {
  const data = asBufferSource(locationBytes(location));
  return new Uint8Array(await crypto.subtle.sign('HMAC', locationKey, data));
}

/**
 * The binding EDK of `location` under `locationKey` ([Note: location binding]).
 * @throws VeilError BAD_ARGUMENT / OUT_OF_RANGE for an empty or oversized location.
 */
export async function locationEdk(
  locationKey: CryptoKey,
  location: ObjectLocation,
): Promise<EncryptedDataKey> {
  return {
    providerId: LOCATION_PROVIDER_ID,
    providerInfo: LOCATION_INFO,
    ciphertext: await locationTag(locationKey, location),
  };
}

/**
 * Checks an opened header's binding against where the object was read from. Call it only after
 * the header was opened (its auth tag checked), with the location key that opening derived.
 * @returns 'bound' when the binding matches; 'unbound' when there is none and `rule` allows it.
 * @throws VeilError OBJECT_MISMATCH when the binding names another location, when there is more
 *   than one or a malformed one, or when there is none and `rule` is 'required'.
 */
export async function checkLocation(
  header: Pick<MessageHeader, 'encryptedDataKeys'>,
  locationKey: CryptoKey,
  expected: ObjectLocation,
  rule: BindingRule,
): Promise<BindingState> {
  const bindings = header.encryptedDataKeys.filter(isLocationEdk);
  if (bindings.length === 0) {
    if (rule === 'required') {
      throw new VeilError('OBJECT_MISMATCH', 'the object carries no binding to its location');
    }
    return 'unbound';
  }
  const [binding] = bindings;
  if (
    bindings.length > 1 ||
    binding === undefined ||
    !constantTimeEqual(binding.providerInfo, LOCATION_INFO) ||
    binding.ciphertext.length !== TAG_BYTES
  ) {
    throw new VeilError('OBJECT_MISMATCH', 'the object’s location binding is malformed');
  }
  const tag = await locationTag(locationKey, expected);
  if (!constantTimeEqual(tag, binding.ciphertext)) {
    throw new VeilError('OBJECT_MISMATCH', 'the object is bound to another bucket or name');
  }
  return 'bound';
}

/** The EDKs that are keys, without the binding (what key lists, badges and rewrap count). */
export function keyEdks(edks: readonly EncryptedDataKey[]): EncryptedDataKey[] {
  return edks.filter((edk) => !isLocationEdk(edk));
}
